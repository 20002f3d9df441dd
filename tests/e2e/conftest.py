"""Fixtures of the end-to-end tests: one kubesim with veloro installed (filesystem store) and one
`veloro server` shared by the whole e2e session; tests use their own namespaces and object names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_helpers import Stack, start_stack


@pytest.fixture(scope="session")
def fs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    store = tmp_path_factory.mktemp("store")
    install = [
        "--provider", "filesystem", "--bucket", "backups",
        "--backup-location-config", f"root={store}", "--no-secret",
    ]  # fmt: skip
    # gc every second: the schedule test waits for TTL expiry; every other backup keeps the 720h default
    with start_stack(
        tmp_path_factory.mktemp("home"), install, ["--garbage-collection-frequency", "1s"]
    ) as stack:
        stack.bucket = store / "backups"
        yield stack
