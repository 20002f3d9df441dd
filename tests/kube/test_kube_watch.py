"""Watch: events for creates, updates and deletes from a list's resourceVersion; 410 raises Gone."""

from __future__ import annotations

import threading

import pytest
from kube_helpers import CONFIGMAPS

from kubesim.testing import KubeSimProcess
from veloro_core.kube import Gone, KubeClient


def test_watch_from_list_resource_version(kube: KubeClient, ns: str) -> None:
    rv = next(kube.list_pages(CONFIGMAPS, ns)).resource_version

    def writes() -> None:
        kube.create(CONFIGMAPS, {"metadata": {"name": "w", "namespace": ns}, "data": {"a": "1"}})
        kube.patch(CONFIGMAPS, "w", {"data": {"a": "2"}}, ns)
        kube.delete(CONFIGMAPS, "w", ns)

    writer = threading.Thread(target=writes)
    events = []
    stream = kube.watch(CONFIGMAPS, ns, resource_version=rv, timeout_seconds=10)
    writer.start()
    for ev in stream:
        events.append((ev.type, ev.object["metadata"]["name"]))
        if ev.type == "DELETED":
            break
    stream.close()  # stops early: the connection must not go back to the pool half-read
    writer.join()
    assert events == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]
    assert kube.get_json("/api")["versions"] == ["v1"]  # the client still works afterwards


def test_watch_from_compacted_resource_version_raises_gone() -> None:
    with KubeSimProcess(extra_args=["--event-log-size", "5", "--no-controllers"]) as sim, \
            KubeClient.from_kubeconfig(sim.kubeconfig) as client:
        for i in range(20):
            client.create(CONFIGMAPS, {"metadata": {"name": f"c{i}", "namespace": "default"}})
        with pytest.raises(Gone):
            for _ in client.watch(CONFIGMAPS, "default", resource_version="2", timeout_seconds=5):
                pass
