"""Throughput of the backup tarball writer (per gzip level) and of the safe extractor.

Method: N synthetic objects shaped like typical app objects (pods, deployments, services, configmaps,
secrets with random payloads; random uids and resourceVersions, so the data is not trivially compressible)
are serialised once with orjson (not timed), then written with TarballWriter to a temp file on disk (timed,
including file writes), then extracted with extract_tarball (timed). One process, one thread.

    python bench/archive_bench.py [N]     (default 50000)
"""

from __future__ import annotations

import base64
import os
import random
import sys
import tempfile
import time
import uuid

import orjson

from veloro_core.archive import TarballWriter, extract_tarball

KINDS = [("pods", "v1"), ("deployments.apps", "apps/v1"), ("services", "v1"), ("configmaps", "v1"),
         ("secrets", "v1")]


def make_object(i: int, rnd: random.Random) -> tuple[str, str, str, bytes]:
    gr, api = KINDS[i % len(KINDS)]
    ns = f"ns-{i // 100}"
    name = f"app-{i}-{rnd.randrange(1 << 30):x}"
    meta = {
        "name": name, "namespace": ns, "uid": str(uuid.UUID(int=rnd.getrandbits(128))),
        "resourceVersion": str(rnd.randrange(10**8)), "creationTimestamp": "2024-05-01T10:11:12Z",
        "labels": {"app": f"app-{i % 37}", "tier": rnd.choice(["web", "db", "cache"])},
        "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": api,
                           "time": "2024-05-01T10:11:12Z", "fieldsType": "FieldsV1",
                           "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}}}],
    }
    obj: dict[str, object] = {"apiVersion": api, "kind": gr.split(".")[0][:-1].title(), "metadata": meta}
    if gr in ("configmaps", "secrets"):
        payload = base64.b64encode(rnd.randbytes(rnd.randrange(200, 1500))).decode()
        obj["data"] = {"config.yaml": payload}
    else:
        obj["spec"] = {"replicas": 3, "template": {"spec": {"containers": [
            {"name": "main", "image": f"registry.example.com/team/app-{i % 37}:1.{i % 9}",
             "env": [{"name": f"VAR_{k}", "value": f"{rnd.randrange(10**9)}"} for k in range(6)],
             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}}}
        ip = f"10.{i % 250}.{rnd.randrange(250)}.{rnd.randrange(250)}"
        obj["status"] = {"phase": "Running", "podIP": ip}
    return gr, ns, name, orjson.dumps(obj)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    rnd = random.Random(42)
    objects = [make_object(i, rnd) for i in range(n)]
    raw = sum(len(o[3]) for o in objects)
    print(f"{n} objects, {raw / n:.0f} bytes of JSON each on average")
    with tempfile.TemporaryDirectory() as tmp:
        for level in (0, 1, 3, 6):
            path = os.path.join(tmp, f"b{level}.tar.gz")
            start = time.perf_counter()
            with open(path, "wb") as f, TarballWriter(f, compresslevel=level) as w:
                for gr, ns, name, data in objects:
                    w.add_item(gr, ns, name, "v1", data)
            dt = time.perf_counter() - start
            size = os.path.getsize(path)
            print(f"write level {level}: {n / dt:9.0f} objects/s  {dt:6.2f} s  tarball {size / 1e6:7.1f} MB")
        path = os.path.join(tmp, "b1.tar.gz")
        for versioned in (True, False):
            start = time.perf_counter()
            with open(path, "rb") as f, extract_tarball(f, parent_dir=tmp, versioned_copies=versioned) as c:
                dt = time.perf_counter() - start
                count = sum(len(c.items(gr)) for gr in c.group_resources())
            rate = n / dt
            print(f"extract versioned={versioned}: {rate:9.0f} objects/s  {dt:6.2f} s  {count} items")


if __name__ == "__main__":
    main()
