"""Validation that answers 422 Invalid the way the real API server does for common mistakes.

kubesim does not carry the full OpenAPI schemas: it checks names, labels, annotations and the required
fields that real manifests most often get wrong. Unknown fields are accepted and stored as given.
"""

from __future__ import annotations

import re
from typing import Any

from kubesim.errors import ApiError, invalid
from kubesim.resources import ResourceType

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

# Resources whose names are DNS-1123 labels / DNS-1035 labels; RBAC and a few others take path segments.
_LABEL_NAMES = {"/namespaces"}
_DNS1035_NAMES = {"/services"}
_PATH_SEGMENT_NAMES = {
    "rbac.authorization.k8s.io/roles",
    "rbac.authorization.k8s.io/clusterroles",
    "rbac.authorization.k8s.io/rolebindings",
    "rbac.authorization.k8s.io/clusterrolebindings",
    "/nodes",
    "scheduling.k8s.io/priorityclasses",
    "apiregistration.k8s.io/apiservices",
}

Cause = tuple[str, str, str]


def name_errors(rt: ResourceType, name: str, field: str = "metadata.name") -> list[Cause]:
    if rt.key in _PATH_SEGMENT_NAMES:
        if name in (".", "..") or "/" in name or "%" in name:
            return [(field, "FieldValueInvalid", f"Invalid value: \"{name}\": may not contain '/' or '%'")]
        return []
    if rt.key in _DNS1035_NAMES:
        ok, limit, what = bool(_DNS1035_LABEL.match(name)), 63, "a DNS-1035 label"
        hint = (
            "must consist of lower case alphanumeric characters or '-', start with an alphabetic "
            "character, and end with an alphanumeric character"
        )
    elif rt.key in _LABEL_NAMES:
        ok, limit, what = bool(_DNS1123_LABEL.match(name)), 63, "a lowercase RFC 1123 label"
        hint = (
            "must consist of lower case alphanumeric characters or '-', and must start and end with "
            "an alphanumeric character"
        )
    else:
        ok, limit, what = bool(_DNS1123_SUBDOMAIN.match(name)), 253, "a lowercase RFC 1123 subdomain"
        hint = (
            "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
            "with an alphanumeric character"
        )
    causes: list[Cause] = []
    if not ok:
        causes.append((field, "FieldValueInvalid", f'Invalid value: "{name}": {what} {hint}'))
    if len(name) > limit:
        causes.append(
            (field, "FieldValueTooLong", f'Invalid value: "{name}": must be no more than {limit} characters')
        )
    return causes


def _qualified_key_errors(key: str, field: str) -> list[Cause]:
    prefix, _, name = key.rpartition("/")
    bad = not name or len(name) > 63 or not _QUALIFIED_NAME.match(name)
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        bad = True
    if bad:
        return [
            (
                field,
                "FieldValueInvalid",
                f'Invalid value: "{key}": name part must consist of '
                "alphanumeric characters, '-', '_' or '.', and must start and "
                "end with an alphanumeric character",
            )
        ]
    return []


def metadata_errors(meta: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        return [("metadata.labels", "FieldValueInvalid", "Invalid value: must be a map of strings")]
    for k, v in labels.items():
        causes += _qualified_key_errors(k, "metadata.labels")
        if not isinstance(v, str) or len(v) > 63 or not _LABEL_VALUE.match(v):
            causes.append(
                (
                    "metadata.labels",
                    "FieldValueInvalid",
                    f'Invalid value: "{v}": a valid label must be an empty string or consist of '
                    "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                    "alphanumeric character",
                )
            )
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, dict):
        return [("metadata.annotations", "FieldValueInvalid", "Invalid value: must be a map of strings")]
    for k, v in annotations.items():
        causes += _qualified_key_errors(k, "metadata.annotations")
        if not isinstance(v, str):
            causes.append(
                ("metadata.annotations", "FieldValueInvalid", f"Invalid value: {k} must be a string")
            )
    size = sum(len(k) + len(v) for k, v in annotations.items() if isinstance(v, str))
    if size > 256 * 1024:
        causes.append(
            ("metadata.annotations", "FieldValueTooLong", "Too long: must have at most 262144 bytes")
        )
    return causes


def _required(obj: dict[str, Any], path: str) -> list[Cause]:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur or cur[part] in (None, "", [], {}):
            return [(path, "FieldValueRequired", "Required value")]
        cur = cur[part]
    return []


def _containers_errors(spec: Any, base: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [(base, "FieldValueRequired", "Required value")]
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        return [(f"{base}.containers", "FieldValueRequired", "Required value")]
    causes: list[Cause] = []
    for i, c in enumerate(containers):
        if not isinstance(c, dict) or not c.get("name"):
            causes.append((f"{base}.containers[{i}].name", "FieldValueRequired", "Required value"))
        elif not _DNS1123_LABEL.match(str(c["name"])):
            causes.append(
                (
                    f"{base}.containers[{i}].name",
                    "FieldValueInvalid",
                    f'Invalid value: "{c["name"]}": a lowercase RFC 1123 label must consist of lower '
                    "case alphanumeric characters or '-'",
                )
            )
        if isinstance(c, dict) and not c.get("image"):
            causes.append((f"{base}.containers[{i}].image", "FieldValueRequired", "Required value"))
    return causes


def _workload_errors(obj: dict[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [("spec", "FieldValueRequired", "Required value")]
    causes = _required(obj, "spec.selector")
    causes += _containers_errors((spec.get("template") or {}).get("spec"), "spec.template.spec")
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if sel and isinstance(labels, dict) and any(labels.get(k) != v for k, v in sel.items()):
        causes.append(
            (
                "spec.template.metadata.labels",
                "FieldValueInvalid",
                "Invalid value: `selector` does not match template `labels`",
            )
        )
    return causes


def _crd_errors(obj: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for path in ("spec.group", "spec.names.plural", "spec.names.kind", "spec.scope", "spec.versions"):
        causes += _required(obj, path)
    if causes:
        return causes
    spec = obj["spec"]
    want = f"{spec['names']['plural']}.{spec['group']}"
    if obj["metadata"].get("name") != want:
        causes.append(
            (
                "metadata.name",
                "FieldValueInvalid",
                f'Invalid value: "{obj["metadata"].get("name")}": must be spec.names.plural+"."+spec.group',
            )
        )
    if spec["scope"] not in ("Namespaced", "Cluster"):
        causes.append(
            (
                "spec.scope",
                "FieldValueNotSupported",
                f'Unsupported value: "{spec["scope"]}": supported values: "Cluster", "Namespaced"',
            )
        )
    storage = [v for v in spec["versions"] if isinstance(v, dict) and v.get("storage")]
    if len(storage) != 1:
        causes.append(
            (
                "spec.versions",
                "FieldValueInvalid",
                "Invalid value: must have exactly one version marked as storage version",
            )
        )
    return causes


def _spec_errors(rt: ResourceType, obj: dict[str, Any]) -> list[Cause]:
    key = rt.key
    if key == "/pods":
        return _containers_errors(obj.get("spec"), "spec")
    if key in ("apps/deployments", "apps/replicasets", "apps/statefulsets", "apps/daemonsets"):
        return _workload_errors(obj)
    if key == "batch/jobs":
        return _containers_errors(
            ((obj.get("spec") or {}).get("template") or {}).get("spec"), "spec.template.spec"
        )
    if key == "/services":
        spec = obj.get("spec") or {}
        if spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
            return _required(obj, "spec.ports")
        return []
    if key == "/persistentvolumeclaims":
        return _required(obj, "spec.accessModes") + _required(obj, "spec.resources.requests.storage")
    if (
        key == "rbac.authorization.k8s.io/rolebindings"
        or key == "rbac.authorization.k8s.io/clusterrolebindings"
    ):
        return _required(obj, "roleRef.kind") + _required(obj, "roleRef.name")
    if key == "apiextensions.k8s.io/customresourcedefinitions":
        return _crd_errors(obj)
    if key == "storage.k8s.io/storageclasses":
        return _required(obj, "provisioner")
    return []


def validate(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Raise 422 Invalid when the object breaks a rule the real API server enforces."""
    meta = obj["metadata"]
    name = str(meta.get("name", ""))
    causes = name_errors(rt, name) + metadata_errors(meta) + _spec_errors(rt, obj)
    if causes:
        raise invalid(rt.kind, rt.group, name, causes)


def require_name(rt: ResourceType, meta: dict[str, Any]) -> None:
    if not meta.get("name") and not meta.get("generateName"):
        raise ApiError(
            422,
            "Invalid",
            f'{rt.kind}{"." + rt.group if rt.group else ""} "" is invalid: '
            "metadata.name: Required value: name or generateName is required",
            {
                "kind": rt.kind,
                "group": rt.group,
                "causes": [
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value: name or generateName is required",
                        "field": "metadata.name",
                    }
                ],
            },
        )
