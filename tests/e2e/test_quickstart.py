"""The README's first command, run as a newcomer runs it: it must end with the app and its data back."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="the quickstart needs kubectl")
def test_quickstart_backs_up_deletes_and_restores_the_sample_app() -> None:
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "quickstart.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        stdin=subprocess.DEVNULL,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "backup demo-backup:   Completed" in out, out[-4000:]
    assert "restore demo-restore: Completed" in out, out[-4000:]
    assert "hello from veloro" in out  # the configmap's value, read back after the restore
    assert "blue widget of size 3" in out  # the custom resource, read back after the restore
    assert "volume data:          <h1>data restored by veloro</h1>" in out  # the PVC's data
