"""Run an entry-point plugin as a process: `python -m veloro_sdk.launch pkg.module:function`.

The function is imported and called with no arguments; it normally builds a PluginServer and calls
serve(). Any further arguments (a host's `--log-level debug --features x`) stay in sys.argv for it.
"""

from __future__ import annotations

import importlib
import sys


def load(spec: str) -> object:
    """Import `pkg.module:function` and return the function; raises ValueError with a usable message."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"expected 'package.module:function', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} (from {spec!r}): {exc}") from exc
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"{module_name!r} has no attribute {attr!r} (from {spec!r})") from None
    if not callable(target):
        raise ValueError(f"{spec!r} is not callable")
    return target


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0].startswith("-"):
        sys.stderr.write("usage: python -m veloro_sdk.launch package.module:function [plugin flags...]\n")
        sys.exit(2)
    try:
        function = load(args[0])
    except ValueError as exc:
        sys.stderr.write(f"veloro_sdk.launch: {exc}\n")
        sys.exit(2)
    sys.argv = [sys.argv[0], *args[1:]]
    assert callable(function)
    function()


if __name__ == "__main__":
    main()
