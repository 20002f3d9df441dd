"""File-level backup throughput: the restic wrapper on a local repository (what the node agent runs).

    python bench/podvolume_bench.py [--mb 200] [--files 2000]

Writes --files files totalling --mb MiB of random data, then times `Restic.backup` (first, full), a second
backup of the unchanged tree (deduplicated), and `Restic.restore` into an empty folder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from veloro_core.podvolume import Restic, ResticRepo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pv-bench-") as tmp:
        root = Path(tmp)
        source = root / "volume"
        size = args.mb * 1024 * 1024 // args.files
        for i in range(args.files):
            path = source / f"d{i % 50}" / f"f{i}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(size))
        password = root / "pw"
        password.write_text("bench")
        repo = ResticRepo(str(root / "repo"), str(password))
        restic = Restic()
        started = time.perf_counter()
        restic.init(repo)
        init_s = time.perf_counter() - started
        started = time.perf_counter()
        first = restic.backup(repo, str(source), {"bench": "1"})
        full_s = time.perf_counter() - started
        started = time.perf_counter()
        restic.backup(repo, str(source), {"bench": "2"})
        again_s = time.perf_counter() - started
        target = root / "restored"
        target.mkdir()
        started = time.perf_counter()
        restic.restore(repo, first.snapshot_id, str(target))
        restore_s = time.perf_counter() - started
        mib = first.total_bytes / 1024 / 1024
        print(f"{restic.version()}; {args.files} files, {mib:.0f} MiB")
        print(f"init {init_s:.2f}s; backup {full_s:.2f}s ({mib / full_s:.0f} MiB/s); unchanged re-backup "
              f"{again_s:.2f}s; restore {restore_s:.2f}s ({mib / restore_s:.0f} MiB/s)")


if __name__ == "__main__":
    main()
