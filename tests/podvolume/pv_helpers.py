"""Helpers for the pod volume tests: a kubesim with a data dir, veloro's CRDs, apps with volumes, and the
real `veloro node-agent` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kubesim.testing import die_with_parent
from veloro_core.api import GROUP, VERSION
from veloro_core.api.crdgen import all_crds
from veloro_core.kube import AlreadyExists, GroupVersionResource, KubeClient

NODE = "kubesim-node"
SERVER_NS = "veloro"
CRDS = GroupVersionResource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
NAMESPACES = GroupVersionResource("", "v1", "namespaces")
PODS = GroupVersionResource("", "v1", "pods")
PVCS = GroupVersionResource("", "v1", "persistentvolumeclaims")
PVS = GroupVersionResource("", "v1", "persistentvolumes")
CONFIGMAPS = GroupVersionResource("", "v1", "configmaps")
SECRETS = GroupVersionResource("", "v1", "secrets")
BACKUPS = GroupVersionResource(GROUP, VERSION, "backups")
RESTORES = GroupVersionResource(GROUP, VERSION, "restores")
BSLS = GroupVersionResource(GROUP, VERSION, "backupstoragelocations")
REPOS = GroupVersionResource(GROUP, VERSION, "backuprepositories")
Obj = dict[str, Any]


def wait_until(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def install_crds(kube: KubeClient) -> None:
    for crd in all_crds():
        try:
            kube.create(CRDS, crd)
        except AlreadyExists:
            pass
    for crd in all_crds():
        name = crd["metadata"]["name"]
        wait_until(
            lambda n=name: any(
                c.get("type") == "Established" and c.get("status") == "True"
                for c in (kube.get(CRDS, n).get("status") or {}).get("conditions") or []
            ),
            what=f"CRD {name} established",
        )
    kube.discovery.refresh()


def ensure_namespace(kube: KubeClient, name: str) -> None:
    try:
        kube.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    except AlreadyExists:
        pass


def make_bsl(kube: KubeClient, name: str, root: Path, bucket: str = "bucket", prefix: str = "team/a") -> Obj:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "BackupStorageLocation",
        "metadata": {"name": name, "namespace": SERVER_NS},
        "spec": {
            "provider": "veloro.io/filesystem",
            "objectStorage": {"bucket": bucket, "prefix": prefix},
            "config": {"root": str(root)},
        },
    }
    return kube.create(BSLS, body)


def make_backup(kube: KubeClient, name: str, location: str, default_fs: bool = False) -> Obj:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": SERVER_NS},
        "spec": {"storageLocation": location, "defaultVolumesToFsBackup": default_fs},
    }
    return kube.create(BACKUPS, body)


def make_restore(kube: KubeClient, name: str, backup: str, mapping: dict[str, str]) -> Obj:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Restore",
        "metadata": {"name": name, "namespace": SERVER_NS},
        "spec": {"backupName": backup, "namespaceMapping": mapping},
    }
    return kube.create(RESTORES, body)


def make_app(
    kube: KubeClient,
    ns: str,
    annotations: dict[str, str] | None = None,
    storage_class: str | None = None,
    with_host_path: Path | None = None,
) -> Obj:
    """Namespace, ConfigMap, Secret, PVC and a pod mounting data (PVC), cache (emptyDir), cfg, sec,
    info (downwardAPI) and optionally host (hostPath). Returns the pod once Running (or as created when
    the claim cannot bind)."""
    ensure_namespace(kube, ns)
    kube.create(
        CONFIGMAPS,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": ns},
            "data": {"k": "v"},
        },
    )
    kube.create(
        SECRETS,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "sec", "namespace": ns},
            "data": {"p": "cGFzcw=="},
        },
    )
    pvc_spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class:
        pvc_spec["storageClassName"] = storage_class
    kube.create(
        PVCS,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": ns},
            "spec": pvc_spec,
        },
    )
    volumes: list[Obj] = [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "cache", "emptyDir": {}},
        {"name": "cfg", "configMap": {"name": "cfg"}},
        {"name": "sec", "secret": {"secretName": "sec"}},
        {
            "name": "info",
            "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
        },
        {"name": "unmounted", "emptyDir": {}},
    ]
    if with_host_path is not None:
        volumes.append({"name": "host", "hostPath": {"path": str(with_host_path)}})
    mounts = [
        {"name": v["name"], "mountPath": f"/mnt/{v['name']}"} for v in volumes if v["name"] != "unmounted"
    ]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "app", "namespace": ns, "annotations": annotations or {}},
        "spec": {
            "containers": [{"name": "main", "image": "busybox", "volumeMounts": mounts}],
            "volumes": volumes,
        },
    }
    kube.create(PODS, pod)
    if storage_class:
        return kube.get(PODS, "app", ns)
    return wait_running(kube, ns, "app")


def wait_running(kube: KubeClient, ns: str, name: str) -> Obj:
    def running() -> Obj | None:
        pod = kube.get(PODS, name, ns)
        return pod if (pod.get("status") or {}).get("phase") == "Running" else None

    pod: Obj = wait_until(running, what=f"pod {ns}/{name} running")
    return pod


def pv_dir(kube: KubeClient, data_dir: Path, ns: str, pod: Obj, claim: str = "data") -> Path:
    """The PVC's directory as the pod sees it (through the kubelet layout kubesim makes)."""
    pv = kube.get(PVCS, claim, ns)["spec"]["volumeName"]
    path = (
        data_dir
        / "kubelet"
        / "pods"
        / pod["metadata"]["uid"]
        / "volumes"
        / "kubernetes.io~csi"
        / pv
        / "mount"
    )
    return Path(wait_until(lambda: path if path.is_dir() else None, what=f"volume dir {path}"))


def empty_dir(data_dir: Path, pod: Obj, name: str) -> Path:
    path = (
        data_dir / "kubelet" / "pods" / pod["metadata"]["uid"] / "volumes" / "kubernetes.io~empty-dir" / name
    )
    return Path(wait_until(lambda: path if path.is_dir() else None, what=f"volume dir {path}"))


def write_tree(root: Path, seed: int) -> dict[str, bytes]:
    """Files (text, binary, nested, empty) written under root; returns relative path -> content."""
    files = {
        "hello.txt": f"hello {seed}\n".encode(),
        "nested/deeper/blob.bin": os.urandom(300_000),
        "nested/empty": b"",
        "sp ace/ü-name.txt": "unicode ü\n".encode(),
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    out = {}
    for path in root.rglob("*"):
        if path.is_file() and ".veloro" not in path.relative_to(root).parts:
            out[str(path.relative_to(root))] = path.read_bytes()
    return out


@contextmanager
def run_agent(
    kubeconfig: Path, kubelet_root: Path, log_path: Path, *, install_form: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """The real `veloro node-agent` as a subprocess; install_form runs it the way the install's DaemonSet
    does (`node-agent server`, node and namespace from $NODE_NAME and $VELORO_NAMESPACE)."""
    base = [sys.executable, "-m", "veloro_core.cli", "node-agent", "--kubelet-root", str(kubelet_root)]
    env = dict(os.environ)
    if install_form:
        command = [*base, "server", "--kubeconfig", str(kubeconfig)]
        env.update(NODE_NAME=NODE, VELORO_NAMESPACE=SERVER_NS)
    else:
        command = [*base, "--kubeconfig", str(kubeconfig), "-n", SERVER_NS, "--node-name", NODE]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=die_with_parent,
        )
    try:
        time.sleep(0.2)
        if proc.poll() is not None:
            raise AssertionError(f"node agent exited: {log_path.read_text()}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def restic_env(repo: str, password: str, tmp: Path) -> dict[str, str]:
    pw = tmp / f"pw-{abs(hash(password))}"
    pw.write_text(password)
    return {**os.environ, "RESTIC_REPOSITORY": repo, "RESTIC_PASSWORD_FILE": str(pw)}


@contextmanager
def run_moto(log_dir: Path) -> Iterator[str]:
    """moto's S3 in server mode on a free loopback port; yields its URL."""
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with open(log_dir / "moto.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                    return True
            except OSError:
                return proc.poll() is not None

        wait_until(up, timeout=30, what="moto server")
        yield url
    finally:
        proc.kill()
        proc.wait(timeout=10)
