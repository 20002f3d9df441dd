"""Paged lists: limit/continue, selectors, expired continue tokens, concurrent use of one client."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from kube_helpers import CONFIGMAPS, NAMESPACES

from kubesim.testing import KubeSimProcess
from veloro_core.kube import Gone, KubeClient, KubeSettings


def _fill(kube: KubeClient, ns: str, count: int, labels: dict[str, str] | None = None) -> None:
    def one(i: int) -> None:
        meta = {"name": f"cm-{i:05d}", "namespace": ns, "labels": {"parity": "even" if i % 2 == 0 else "odd",
                                                                   **(labels or {})}}
        kube.create(CONFIGMAPS, {"metadata": meta, "data": {"i": str(i)}})

    with ThreadPoolExecutor(8) as pool:  # also exercises one client shared by threads
        list(pool.map(one, range(count)))


def test_1200_configmaps_in_pages_of_500(kube: KubeClient, ns: str) -> None:
    _fill(kube, ns, 1200, {"set": "paging"})
    # The selector leaves out what the cluster itself puts in a namespace (kube-root-ca.crt).
    sel = "set=paging"
    pages = list(kube.list_pages(CONFIGMAPS, ns, page_size=500, label_selector=sel))
    assert [len(p.items) for p in pages] == [500, 500, 200]
    assert pages[0].remaining_item_count == 700 and pages[-1].continue_token is None
    names = Counter(i["metadata"]["name"] for p in pages for i in p.items)
    assert len(names) == 1200 and set(names.values()) == {1}
    assert all(i["kind"] == "ConfigMap" and i["apiVersion"] == "v1" for p in pages for i in p.items)
    # The default page size comes from the settings (500).
    assert sum(1 for _ in kube.list_items(CONFIGMAPS, ns, label_selector=sel)) == 1200
    # page_size 0 = one unpaged response
    unpaged = kube.list_pages(CONFIGMAPS, ns, page_size=0, label_selector=sel)
    assert [len(p.items) for p in unpaged] == [1200]


def test_label_and_field_selectors_pass_through(kube: KubeClient, ns: str) -> None:
    _fill(kube, ns, 30)
    even = list(kube.list_items(CONFIGMAPS, ns, label_selector="parity=even", page_size=4))
    assert len(even) == 15 and all(i["metadata"]["labels"]["parity"] == "even" for i in even)
    one = list(kube.list_items(CONFIGMAPS, ns, field_selector="metadata.name=cm-00007"))
    assert [i["metadata"]["name"] for i in one] == ["cm-00007"]
    assert list(kube.list_items(CONFIGMAPS, ns, label_selector="parity in (none)")) == []


def test_all_namespaces_list(kube: KubeClient) -> None:
    a = kube.create(NAMESPACES, {"metadata": {"name": "kt-all-a"}})["metadata"]["name"]
    b = kube.create(NAMESPACES, {"metadata": {"name": "kt-all-b"}})["metadata"]["name"]
    for n in (a, b):
        kube.create(CONFIGMAPS, {"metadata": {"name": "marker", "namespace": n, "labels": {"kt-all": "1"}}})
    found = {i["metadata"]["namespace"] for i in kube.list_items(CONFIGMAPS, label_selector="kt-all=1")}
    assert found == {a, b}


@pytest.fixture(scope="module")
def short_ttl_kube() -> Iterator[KubeClient]:
    """A private kubesim whose continue tokens expire after 0.3 s."""
    with KubeSimProcess(extra_args=["--list-snapshot-ttl", "0.3"]) as sim, \
            KubeClient.from_kubeconfig(sim.kubeconfig, settings=KubeSettings(qps=0)) as client:
        client.create(NAMESPACES, {"metadata": {"name": "exp"}})
        _fill(client, "exp", 30)
        yield client


def test_expired_continue_token_restarts_without_duplicates(short_ttl_kube: KubeClient) -> None:
    seen: list[str] = []
    restarted = False
    for n, page in enumerate(short_ttl_kube.list_pages(CONFIGMAPS, "exp", page_size=10)):
        seen += [i["metadata"]["name"] for i in page.items]
        restarted = restarted or page.restarted
        if n == 0:
            time.sleep(0.5)  # the token handed out with page 1 expires
    assert restarted
    assert sorted(n for n in seen if n.startswith("cm-")) == [f"cm-{i:05d}" for i in range(30)]
    assert len(seen) == len(set(seen))


def test_expired_continue_token_can_raise(short_ttl_kube: KubeClient) -> None:
    pages = short_ttl_kube.list_pages(CONFIGMAPS, "exp", page_size=10, on_expired="raise")
    next(pages)
    time.sleep(0.5)
    with pytest.raises(Gone, match="expired before it finished"):
        next(pages)


def test_concurrent_lists_share_one_client(kube: KubeClient, ns: str) -> None:
    """The engines list several resources at once from a thread pool through one client."""
    _fill(kube, ns, 120)
    with ThreadPoolExecutor(6) as pool:
        def count(_: int) -> int:
            return sum(1 for _ in kube.list_items(CONFIGMAPS, ns, page_size=7, label_selector="parity"))

        counts = list(pool.map(count, range(12)))
    assert counts == [120] * 12
