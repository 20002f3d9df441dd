"""Which (kind, name) plugins exist and which command serves each.

Commands come from, in this order: the built-in commands, Python distributions declaring entry points in
the `veloro.plugins` group (each `name = module:function` becomes `python -m veloro_sdk.launch
module:function`), and executable files found recursively in the plugin directories. Each command is
started once, asked ListPlugins and stopped. The command the host records is the argv it used to start
the binary (not the `command` field the plugin reports: for a Python plugin that is only a script path).

A broken binary (no handshake, crash, invalid or duplicate name) fails discovery with one error listing
every problem, as Velero fails its start-up; with PluginSettings.strict_discovery=False it is skipped and
its error kept in PluginRegistry.errors.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import structlog
from stevedore import ExtensionManager
from stevedore.extension import Extension
from veloro_sdk.client import ListedPlugin, PluginCallError, PluginListerClient
from veloro_sdk.contracts.common import InvalidPluginName, PluginKind, validate_plugin_name

from veloro_core.plugins.errors import PluginDiscoveryError, PluginHostError, UnknownPluginError
from veloro_core.plugins.process import PluginProcess, describe_command
from veloro_core.plugins.settings import PluginSettings

_LOG = structlog.get_logger("veloro.plugins")
DEFAULT_NAMESPACES = ("veloro.io", "velero.io")
LAUNCH_MODULE = "veloro_sdk.launch"


@dataclass(frozen=True)
class PluginInfo:
    """One discovered plugin: its kind, full name and the argv that starts the process serving it."""

    kind: PluginKind
    name: str
    command: tuple[str, ...]


class _EntryPointLister(ExtensionManager[Any]):
    """stevedore's ExtensionManager, minus the import: a plugin is a process, so its module must not be
    imported into the host (it may pull heavy or conflicting dependencies); we only need the target."""

    def _load_one_plugin(self, ep: Any, invoke_on_load: bool, invoke_args: Any, invoke_kwds: Any) -> Any:
        return Extension(ep.name, ep, cast(Any, None), None)


def entry_point_commands(group: str) -> list[list[str]]:
    """`python -m veloro_sdk.launch module:function` for every entry point of `group`, sorted by name."""
    ExtensionManager.ENTRY_POINT_CACHE.pop(group, None)  # sys.path may have changed since the last call
    manager = _EntryPointLister(namespace=group, invoke_on_load=False)
    targets = sorted((ext.name, ext.entry_point.value) for ext in manager.extensions)
    return [[sys.executable, "-m", LAUNCH_MODULE, value] for _, value in targets]


def executables_in(directory: Path) -> Iterator[Path]:
    """Executable regular files under `directory`, recursively and sorted; others are skipped with a
    warning (a plugin image that forgot `chmod +x` is a common mistake)."""
    if not directory.is_dir():
        _LOG.warning(
            "plugin directory does not exist or is not a directory; skipped", directory=str(directory)
        )
        return
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                _LOG.warning("cannot stat plugin file; skipped", path=str(path), error=str(exc))
                continue
            if not stat.S_ISREG(mode):
                continue
            if not os.access(path, os.X_OK):
                _LOG.warning("plugin file is not executable; skipped (chmod +x it)", path=str(path))
                continue
            yield path


def discovery_commands(settings: PluginSettings) -> list[list[str]]:
    commands = [list(c) for c in settings.builtin_commands]
    if settings.entry_point_group:
        commands.extend(entry_point_commands(settings.entry_point_group))
    for directory in settings.plugin_dirs:
        commands.extend([str(path)] for path in executables_in(Path(directory)))
    return commands


def list_command(command: Sequence[str], settings: PluginSettings) -> list[ListedPlugin]:
    """Start `command`, ask ListPlugins, stop it. Raises PluginHostError naming the binary."""
    process = PluginProcess.start(command, settings)
    try:
        assert process.channel is not None
        return PluginListerClient(process.channel, timeout=settings.start_timeout).list_plugins()
    except PluginCallError as exc:
        raise PluginHostError(f"plugin {process.binary}: ListPlugins failed: {exc}") from exc
    finally:
        process.kill()


class PluginRegistry:
    """An immutable index of plugins by (kind, name). Build it with discover() or from PluginInfos."""

    def __init__(self, plugins: Iterable[PluginInfo], errors: Iterable[str] = ()) -> None:
        self._plugins: dict[tuple[PluginKind, str], PluginInfo] = {}
        for info in plugins:
            self._plugins.setdefault((info.kind, info.name), info)
        self.errors = list(errors)

    @classmethod
    def discover(cls, settings: PluginSettings) -> PluginRegistry:
        commands = discovery_commands(settings)
        with ThreadPoolExecutor(max_workers=max(1, settings.discovery_workers)) as pool:
            results = list(pool.map(lambda c: _try_list(c, settings), commands))
        plugins, problems = _index(commands, results)
        if problems and settings.strict_discovery:
            raise PluginDiscoveryError(problems)
        for problem in problems:
            _LOG.error("plugin skipped", problem=problem)
        return cls(plugins, problems)

    def plugins(self, kind: PluginKind | None = None) -> list[PluginInfo]:
        infos = self._plugins.values()
        return sorted(
            (i for i in infos if kind is None or i.kind == kind), key=lambda i: (i.kind.value, i.name)
        )

    def commands(self) -> list[tuple[str, ...]]:
        return sorted({info.command for info in self._plugins.values()})

    def find(self, kind: PluginKind, name: str) -> PluginInfo | None:
        """Exact name, or a bare name in the default namespaces (veloro.io first, then velero.io)."""
        if "/" in name:
            return self._plugins.get((kind, name))
        for namespace in DEFAULT_NAMESPACES:
            info = self._plugins.get((kind, f"{namespace}/{name}"))
            if info is not None:
                return info
        return None

    def resolve(self, kind: PluginKind, name: str, *, also: Sequence[PluginKind] = ()) -> PluginInfo:
        """Like find(), trying `kind` then `also` (e.g. v2 then v1); raises UnknownPluginError listing the
        known names."""
        for candidate in (kind, *also):
            info = self.find(candidate, name)
            if info is not None:
                return info
        tried = [name] if "/" in name else [f"{ns}/{name}" for ns in DEFAULT_NAMESPACES]
        known = sorted({i.name for k in (kind, *also) for i in self.plugins(k)})
        raise UnknownPluginError(
            f"no {kind.value} plugin named {name!r} (looked for {', '.join(tried)}); known {kind.value} "
            f"plugins: {', '.join(known) if known else 'none'}. Check the name, or install the plugin "
            "(plugin directory or a `veloro.plugins` entry point)"
        )


def _try_list(command: list[str], settings: PluginSettings) -> list[ListedPlugin] | PluginHostError:
    try:
        return list_command(command, settings)
    except PluginHostError as exc:
        return exc


def _index(
    commands: list[list[str]], results: list[list[ListedPlugin] | PluginHostError]
) -> tuple[list[PluginInfo], list[str]]:
    """Validate and de-duplicate, in discovery order (so built-ins are first)."""
    plugins: dict[tuple[PluginKind, str], PluginInfo] = {}
    problems: list[str] = []
    for command, result in zip(commands, results, strict=True):
        binary = describe_command(command)
        if isinstance(result, PluginHostError):
            problems.append(str(result))
            continue
        if not result:
            _LOG.warning("plugin binary lists no plugins", plugin=binary)
        for listed in result:
            try:
                kind = PluginKind(listed.kind)
            except ValueError:
                _LOG.warning(
                    "plugin of an unknown kind ignored", plugin=binary, kind=listed.kind, name=listed.name
                )
                continue
            if kind is PluginKind.PLUGIN_LISTER:
                continue
            try:
                validate_plugin_name(listed.name)
            except InvalidPluginName as exc:
                problems.append(f"plugin {binary}: {kind.value} {exc}")
                continue
            other = plugins.get((kind, listed.name))
            if other is not None:
                problems.append(
                    f"duplicate {kind.value} plugin {listed.name!r}: served by both "
                    f"{describe_command(other.command)} and {binary}; remove one of them"
                )
                continue
            plugins[(kind, listed.name)] = PluginInfo(kind, listed.name, tuple(command))
    return list(plugins.values()), problems
