#!/usr/bin/env python3
"""Regenerate the Python gRPC stubs (with .pyi type stubs) from proto/ into the SDK.

    python scripts/gen_proto.py          # regenerate plugin-sdk/veloro_sdk/_proto
    python scripts/gen_proto.py --check  # exit 1 if the committed stubs are stale (CI)

The .proto files use their proto package as folder (generated/, v1/, v2/, plugin/, grpc/health/v1/,
veloro/batch/v1/), so
protoc emits top-level imports like `from generated import Shared_pb2`; we rewrite those to absolute
imports inside veloro_sdk._proto so the stubs live in the SDK package without touching sys.path.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "plugin-sdk" / "veloro_sdk" / "_proto"
PACKAGE = "veloro_sdk._proto"
_IMPORT_RE = re.compile(
    r"^from (generated|v1|v2|plugin|grpc\.health\.v1|veloro\.batch\.v1) import ", re.MULTILINE
)


def generate(out: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc  # imported late: only needed by developers and CI

    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed; see the messages above")
    for path in out.rglob("*.py*"):
        text = _IMPORT_RE.sub(lambda m: f"from {PACKAGE}.{m.group(1)} import ", path.read_text())
        path.write_text(text)
    for folder in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        (folder / "__init__.py").touch()


def same_tree(a: Path, b: Path) -> list[str]:
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    diffs = sorted(str(p) for p in files_a ^ files_b)
    diffs += sorted(str(p) for p in files_a & files_b if not filecmp.cmp(a / p, b / p, shallow=False))
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if the committed stubs are stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "_proto"
        fresh.mkdir()
        generate(fresh)
        if args.check:
            diffs = same_tree(fresh, OUT_DIR)
            if diffs:
                stale = ", ".join(diffs[:10])
                sys.exit(
                    f"generated stubs are stale ({stale}): "
                    "run `python scripts/gen_proto.py` and commit the result"
                )
            print("generated stubs are current")
            return
        if OUT_DIR.exists():
            shutil.rmtree(OUT_DIR)
        shutil.copytree(fresh, OUT_DIR)
        print(f"wrote {OUT_DIR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
