"""Backup and restore hook specs (Velero's BackupHooks and RestoreHooks)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from veloro_core.api.common import LabelSelector
from veloro_core.api.duration import Duration
from veloro_core.api.serde import REQUIRED, ApiObject


class HookErrorMode(enum.StrEnum):
    """What a failing hook does to the backup/restore (default Fail)."""

    CONTINUE = "Continue"
    FAIL = "Fail"


@dataclass(kw_only=True)
class ExecHook(ApiObject):
    """A command run in a container of the pod (default: its first container; timeout default 30s)."""

    container: str = ""
    command: list[str] = field(default_factory=list, metadata=REQUIRED)
    on_error: HookErrorMode | None = None
    timeout: Duration | None = None


@dataclass(kw_only=True)
class BackupResourceHook(ApiObject):
    exec: ExecHook = field(default_factory=ExecHook, metadata=REQUIRED)


@dataclass(kw_only=True)
class ResourceHookSelection(ApiObject):
    """Which pods a hook spec applies to; shared by backup and restore hook specs."""

    name: str = field(default="", metadata=REQUIRED)
    included_namespaces: list[str] = field(default_factory=list)
    excluded_namespaces: list[str] = field(default_factory=list)
    included_resources: list[str] = field(default_factory=list)
    excluded_resources: list[str] = field(default_factory=list)
    label_selector: LabelSelector | None = None


@dataclass(kw_only=True)
class BackupResourceHookSpec(ResourceHookSelection):
    pre: list[BackupResourceHook] = field(default_factory=list)
    post: list[BackupResourceHook] = field(default_factory=list)


@dataclass(kw_only=True)
class BackupHooks(ApiObject):
    resources: list[BackupResourceHookSpec] = field(default_factory=list)


@dataclass(kw_only=True)
class ExecRestoreHook(ApiObject):
    """A command run in a restored pod once its container is running."""

    container: str = ""
    command: list[str] = field(default_factory=list, metadata=REQUIRED)
    on_error: HookErrorMode | None = None
    exec_timeout: Duration | None = None
    wait_timeout: Duration | None = None
    wait_for_ready: bool | None = None


@dataclass(kw_only=True)
class InitRestoreHook(ApiObject):
    """Init containers added to a restored pod; each is a full corev1.Container, kept free-form."""

    init_containers: list[dict[str, Any]] = field(default_factory=list)
    timeout: Duration | None = None


@dataclass(kw_only=True)
class RestoreResourceHook(ApiObject):
    exec: ExecRestoreHook | None = None
    init: InitRestoreHook | None = None


@dataclass(kw_only=True)
class RestoreResourceHookSpec(ResourceHookSelection):
    post_hooks: list[RestoreResourceHook] = field(default_factory=list)


@dataclass(kw_only=True)
class RestoreHooks(ApiObject):
    resources: list[RestoreResourceHookSpec] = field(default_factory=list)
