"""VolumeSnapshotter checks that need no cloud: Init with the given config, and the PV <-> volume ID
mapping on sample PersistentVolumes (snapshots themselves need real volumes, so they are not exercised)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from veloro_sdk.contracts import VolumeSnapshotter
from veloro_sdk.testing.report import CheckFailed, CheckResult, SkipCheck, run_check
from veloro_sdk.testing.samples import SAMPLE_PVS

KIND = "VolumeSnapshotter"
NEW_ID = "vol-conformance-0001"


def check_volume_snapshotter(
    snapshotter: VolumeSnapshotter, config: dict[str, str] | None = None, name: str = "volume-snapshotter"
) -> list[CheckResult]:
    """init(config), then get_volume_id on each sample PV (a string; "" when not handled) and, for the PVs
    it handles, set_volume_id followed by get_volume_id must give back the new ID."""

    def init() -> None:
        snapshotter.init(dict(config or {}))

    results = [run_check(KIND, name, "init with config", init)]
    for pv in SAMPLE_PVS:
        source = next(k for k in pv["spec"] if k not in _COMMON_SPEC_KEYS)
        if not results[0].passed:
            results.append(run_check(KIND, name, f"get_volume_id ({source} PV)", _skipped))
            continue
        results.append(
            run_check(KIND, name, f"get_volume_id ({source} PV)", _volume_id_body(snapshotter, pv))
        )
    return results


_COMMON_SPEC_KEYS = {
    "capacity",
    "accessModes",
    "persistentVolumeReclaimPolicy",
    "storageClassName",
    "claimRef",
}


def _skipped() -> str | None:
    raise SkipCheck("not run: init failed")


def _volume_id_body(snapshotter: VolumeSnapshotter, pv: dict[str, Any]) -> Callable[[], str | None]:
    def body() -> str | None:
        volume_id = snapshotter.get_volume_id(copy.deepcopy(pv))
        if not isinstance(volume_id, str):
            raise CheckFailed(f"get_volume_id returned {volume_id!r}, expected a string")
        if not volume_id:
            return "not handled (empty ID)"
        updated = snapshotter.set_volume_id(copy.deepcopy(pv), NEW_ID)
        if not isinstance(updated, dict):
            raise CheckFailed(f"set_volume_id returned {type(updated).__name__}, expected the PV as a dict")
        again = snapshotter.get_volume_id(updated)
        if again != NEW_ID:
            raise CheckFailed(f"after set_volume_id({NEW_ID!r}), get_volume_id gives {again!r}")
        return f"{volume_id} (set_volume_id round trip ok)"

    return body
