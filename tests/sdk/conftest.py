from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sdk.harness import Plugin, start_plugin


@pytest.fixture()
def plugin(tmp_path: Path) -> Iterator[Plugin]:
    p = start_plugin(tmp_path, args=["--log-level", "debug", "--features", "x", "--unknown=1"])
    yield p
    p.close()
