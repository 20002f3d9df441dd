"""The tarball's path scheme (format 1.1.0), shared by the writer and the reader so they cannot drift."""

from __future__ import annotations

from veloro_core.archive.errors import InvalidItemNameError

FORMAT_VERSION = "1.1.0"
SUPPORTED_MAJOR = 1
VERSION_PATH = "metadata/version"
RESOURCES_DIR = "resources"
NAMESPACES_DIR = "namespaces"
CLUSTER_DIR = "cluster"
PREFERRED_SUFFIX = "-preferredversion"
ITEM_SUFFIX = ".json"


def check_segment(kind: str, value: str) -> str:
    """Return `value` if it can be one path component; refuse '/', '..', '.', NUL and the empty string.

    Kubernetes already forbids these in names, but the writer must not trust that: a plugin can return any
    object, and one bad name must not place a file outside its folder for every future restore.
    """
    if not value or value in (".", "..") or "/" in value or "\x00" in value or "\\" in value:
        raise InvalidItemNameError(
            f"invalid {kind} {value!r} for a backup tarball path: it must be non-empty and contain no '/', "
            "'\\' or NUL and not be '.' or '..'; check the object (or the plugin that returned it)"
        )
    return value


def item_paths(group_resource: str, namespace: str | None, name: str, version: str) -> tuple[str, str]:
    """The unversioned and the `<version>-preferredversion` path of one object."""
    gr = check_segment("group-resource", group_resource)
    leaf = check_segment("name", name) + ITEM_SUFFIX
    ver = check_segment("version", version) + PREFERRED_SUFFIX
    if namespace is None:
        scope = f"{CLUSTER_DIR}/{leaf}"
    else:
        scope = f"{NAMESPACES_DIR}/{check_segment('namespace', namespace)}/{leaf}"
    return f"{RESOURCES_DIR}/{gr}/{scope}", f"{RESOURCES_DIR}/{gr}/{ver}/{scope}"


def parse_major(version_text: str) -> int:
    """The major number of a `metadata/version` body such as "1.1.0\\n"; ValueError if unparsable."""
    text = version_text.strip()
    major = text.split(".", 1)[0]
    if not major.isdigit():
        raise ValueError(f"unparsable format version {text!r}")
    return int(major)
