"""`veloro client config get|set`: per-user CLI defaults in ~/.config/veloro/config.json (as Velero's
~/.config/velero/config.json): the server namespace, feature flags, colours and a local plugin directory.

The file is read on every command that needs one of its values, so it stays tiny and JSON (stdlib only).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import click

from veloro_core.cli.errors import UsageError

# key in the file -> description (also the list of keys `set` accepts)
KEYS: dict[str, str] = {
    "namespace": "namespace of the veloro server (default for -n)",
    "features": "comma-separated feature flags",
    "colorized": "true/false: colours in tables and describe output",
    "plugin-dir": "plugin directory of a locally run server (default for `plugin add PATH`)",
}
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def config_path() -> Path:
    """~/.config/veloro/config.json ($XDG_CONFIG_HOME honoured), resolved at call time (tests move HOME)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "veloro" / "config.json"


@dataclass
class ClientConfig:
    namespace: str = ""
    features: str = ""
    colorized: bool | None = None
    plugin_dir: str = ""


def _read_raw() -> dict[str, object]:
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"cannot read the client config {path}: {exc}", hint="fix or delete the file"
        ) from exc
    if not isinstance(data, dict):
        raise UsageError(f"the client config {path} is not a JSON object", hint="fix or delete the file")
    return data


def load_client_config() -> ClientConfig:
    raw = _read_raw()
    colorized = raw.get("colorized")
    if isinstance(colorized, str):
        colorized = _BOOLEANS.get(colorized.lower())
    return ClientConfig(
        namespace=str(raw.get("namespace") or ""),
        features=str(raw.get("features") or ""),
        colorized=colorized if isinstance(colorized, bool) else None,
        plugin_dir=str(raw.get("plugin-dir") or ""),
    )


@click.group("client")
def client() -> None:
    """Settings of the veloro client itself."""


@client.group("config")
def config() -> None:
    """Get and set client defaults (file: ~/.config/veloro/config.json)."""


@config.command("get")
@click.argument("keys", nargs=-1)
def get_config(keys: tuple[str, ...]) -> None:
    """Print KEY: VALUE for the given keys (all set keys by default)."""
    raw = _read_raw()
    for key in keys:
        _check_key(key)
    for key in keys or tuple(sorted(raw)):
        value = raw.get(key)
        click.echo(f"{key}: {'<NOT SET>' if value is None else _show(value)}")


@config.command("set")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
def set_config(pairs: tuple[str, ...]) -> None:
    """Set KEY=VALUE (keys: namespace, features, colorized, plugin-dir); an empty VALUE unsets the key."""
    raw = _read_raw()
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="'KEY=VALUE'")
        _check_key(key)
        if not value:
            raw.pop(key, None)
        elif key == "colorized":
            if value.lower() not in _BOOLEANS:
                raise click.BadParameter(f"colorized must be true or false, got {value!r}")
            raw[key] = _BOOLEANS[value.lower()]
        else:
            raw[key] = value
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _check_key(key: str) -> None:
    if key not in KEYS:
        raise click.BadParameter(f"unknown key {key!r}; known keys: {', '.join(KEYS)}")


def _show(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
