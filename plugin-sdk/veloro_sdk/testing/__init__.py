"""The plugin conformance kit: contract checks any vendor can run against their plugin.

Two ways in:
- `run_conformance(argv, config)` starts a plugin command through the real go-plugin handshake, checks
  every (kind, name) it serves and returns a Report (what `veloro plugin verify` prints);
- `check_plugin(kind, name, instance, config)` runs the same checks on an in-process implementation.
`launch_plugin(argv)` is the context manager underneath: a connected plugin process with typed clients.

    from veloro_sdk.testing import run_conformance
    def test_my_plugin():
        run_conformance(["my-plugin"], {"bucket": "b"}).assert_ok()
"""

from veloro_sdk.testing.actions import check_action
from veloro_sdk.testing.launcher import (
    LaunchedPlugin,
    LaunchError,
    LaunchOptions,
    launch_plugin,
    resolve_command,
)
from veloro_sdk.testing.object_store import DEFAULT_BUCKET, GO_CHUNK, ObjectStoreOptions, check_object_store
from veloro_sdk.testing.report import CheckResult, Report, Status
from veloro_sdk.testing.runner import check_plugin, run_conformance
from veloro_sdk.testing.samples import SAMPLE_PVS, SAMPLES, Sample, sample_backup, sample_restore
from veloro_sdk.testing.volume_snapshotter import check_volume_snapshotter

__all__ = [
    "DEFAULT_BUCKET",
    "GO_CHUNK",
    "SAMPLES",
    "SAMPLE_PVS",
    "CheckResult",
    "LaunchError",
    "LaunchOptions",
    "LaunchedPlugin",
    "ObjectStoreOptions",
    "Report",
    "Sample",
    "Status",
    "check_action",
    "check_object_store",
    "check_plugin",
    "check_volume_snapshotter",
    "launch_plugin",
    "resolve_command",
    "run_conformance",
    "sample_backup",
    "sample_restore",
]
