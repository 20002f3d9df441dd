"""Batched item-action calls as both engines make them (backup and restore may not import each other, so
the shared part lives here).

`execute_batch` returns one result per request, an exception being that item's failure. When the plugin
process dies mid-call, every item of the call (and of the other calls in flight on that process) comes back
as PluginUnavailable, whichever item crashed it; those items are retried one by one on the restarted
process, so an item that crashes the plugin every time fails alone and the others are not lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from veloro_sdk.client import PluginUnavailable

Req = TypeVar("Req")
Resp = TypeVar("Resp")
UNAVAILABLE_RETRIES = 1  # one-by-one rounds for items lost with the process

BatchCall = Callable[[list[Req]], Sequence[Resp | Exception]]
OnLost = Callable[[int, Exception], None]  # (items lost, first error): for the caller's log


def call_batch(
    execute_batch: BatchCall[Req, Resp],
    requests: list[Req],
    *,
    propagate: tuple[type[Exception], ...] = (),
) -> list[Resp | Exception]:
    """One execute_batch: a call that fails as a whole becomes every item's error (exceptions of the
    `propagate` classes excepted: they mean the caller cannot go on); a wrong result count too."""
    try:
        outcomes = list(execute_batch(requests))
    except propagate:
        raise
    except Exception as exc:  # the whole call failed: each of its items failed
        return [exc] * len(requests)
    if len(outcomes) != len(requests):
        error = RuntimeError(f"execute_batch returned {len(outcomes)} results for {len(requests)} items")
        return [error] * len(requests)
    return outcomes


def call_batch_retrying(
    execute_batch: BatchCall[Req, Resp],
    requests: list[Req],
    *,
    propagate: tuple[type[Exception], ...] = (),
    on_lost: OnLost | None = None,
    retries: int = UNAVAILABLE_RETRIES,
) -> list[Resp | Exception]:
    """call_batch, then the items lost with the plugin process retried one by one (see the module doc)."""
    if not requests:
        return []
    outcomes = call_batch(execute_batch, requests, propagate=propagate)
    lost = [i for i, o in enumerate(outcomes) if isinstance(o, PluginUnavailable)]
    if lost and on_lost is not None:
        first = outcomes[lost[0]]
        assert isinstance(first, Exception)
        on_lost(len(lost), first)
    for _ in range(retries):
        if not lost:
            break
        for i in lost:
            outcomes[i] = call_batch(execute_batch, [requests[i]], propagate=propagate)[0]
        lost = [i for i in lost if isinstance(outcomes[i], PluginUnavailable)]
    return outcomes
