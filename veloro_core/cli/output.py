"""`-o table|json|yaml` for every command that prints objects: one option, one printer.

rich and PyYAML are imported only when something is printed, so command start-up stays cheap.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("table", "json", "yaml")
# rich lays a table out cell by cell (about 1 ms a row): above this many rows the same layout is written as
# plain padded text (no colours, no folding), so `backup get` over 1000 backups stays well under a second.
PLAIN_TABLE_ROWS = 100


def output_option(func: F) -> F:
    """Adds `-o/--output table|json|yaml` (default table), passed as `output`."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(FORMATS, case_sensitive=False),
        default="table",
        show_default=True,
        help="Output format.",
    )(func)


def dump(data: Any, fmt: str) -> None:
    """Print `data` (plain dicts and lists) as JSON or YAML."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        import yaml

        click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())


def print_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    styles: dict[str, Callable[[Any], str]] | None = None,
    empty: str = "nothing to show",
) -> None:
    """A rich table of `rows` with `columns` = (key, header); `styles` maps a key to a rich style of the
    cell's value (e.g. green for pass). Long tables are printed plain (PLAIN_TABLE_ROWS)."""
    if len(rows) > PLAIN_TABLE_ROWS:
        _plain_table(rows, columns)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 200, highlight=False, no_color=not _colorized())
    if not rows:
        console.print(empty)
        return
    table = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
    for _, header in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key, "")
            text = "" if value is None else str(value)
            style = styles[key](value) if styles and key in styles else ""
            cells.append(f"[{style}]{_escape(text)}[/]" if style else _escape(text))
        table.add_row(*cells)
    console.print(table)


def _plain_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> None:
    """The layout of the rich table above (columns padded to their widest cell, two spaces apart)."""
    cells = [[header for _, header in columns]]
    cells += [["" if row.get(key) is None else str(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    click.echo("\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _colorized() -> bool:
    """`colorized` of the client config (default: on; rich still drops colours when not on a terminal)."""
    from veloro_core.cli.client_config import load_client_config

    return load_client_config().colorized is not False
