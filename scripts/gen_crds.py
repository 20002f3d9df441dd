#!/usr/bin/env python3
"""Regenerate veloro_core/api/crds/*.yaml from the models; `--check` fails (exit 1) when they are stale.

CI runs `python scripts/gen_crds.py --check`, so a model change without regenerated manifests fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from veloro_core.api.crdgen import CRDS_DIR, REGENERATE_HINT, check_crds, write_crds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only verify the committed files are current")
    parser.add_argument("--dir", type=Path, default=CRDS_DIR, help=f"output directory (default {CRDS_DIR})")
    args = parser.parse_args(argv)
    if args.check:
        problems = check_crds(args.dir)
        if problems:
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            print(f"The generated CRD manifests are not current: {REGENERATE_HINT}.", file=sys.stderr)
            return 1
        print(f"CRD manifests in {args.dir} are current.")
        return 0
    changed = write_crds(args.dir)
    for path in changed:
        print(f"updated {path}")
    print(f"{len(changed)} file(s) changed in {args.dir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
