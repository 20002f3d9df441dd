"""Lexical validation of buckets, keys and prefixes before they touch the filesystem.

Keys come from the host (and, through it, from backup names users type), so every key is checked before it
is joined to the root: an absolute path or a `..` component would let a request escape the store.
Validation is lexical on purpose: it costs no system call, and a store root is a directory the operator
owns, so symlinks planted inside it are out of scope.
"""

from __future__ import annotations

from veloro_sdk.contracts import PluginError

# Name prefix of the temporary files of in-flight writes; never a valid key component, never listed.
TEMP_PREFIX = ".veloro-tmp-"


class InvalidKeyError(PluginError):
    """A bucket, key or prefix that would not map to a path inside the store."""


def _check_component(component: str, what: str, value: str) -> None:
    if component == "":
        raise InvalidKeyError(
            f"invalid {what} {value!r}: empty path component ('//', leading or trailing '/')"
        )
    if component in (".", ".."):
        raise InvalidKeyError(f"invalid {what} {value!r}: '{component}' components are not allowed")
    if component.startswith(TEMP_PREFIX):
        raise InvalidKeyError(f"invalid {what} {value!r}: names starting with {TEMP_PREFIX!r} are reserved")


def check_bucket(bucket: str) -> str:
    """A bucket is one folder directly under the root."""
    if not bucket:
        raise InvalidKeyError("invalid bucket '': a bucket name is required")
    if "/" in bucket or "\x00" in bucket:
        raise InvalidKeyError(f"invalid bucket {bucket!r}: a bucket is a single folder name (no '/')")
    _check_component(bucket, "bucket", bucket)
    return bucket


def key_parts(key: str) -> list[str]:
    """The path components of an object key, refusing anything that could leave the bucket folder."""
    if not key:
        raise InvalidKeyError("invalid key '': an object key is required")
    if "\x00" in key:
        raise InvalidKeyError(f"invalid key {key!r}: NUL characters are not allowed")
    if key.startswith("/"):
        raise InvalidKeyError(f"invalid key {key!r}: keys are relative (no leading '/')")
    parts = key.split("/")
    for part in parts:
        _check_component(part, "key", key)
    return parts


def prefix_dir_parts(prefix: str) -> list[str]:
    """The folder a listing under `prefix` starts in: every component before the last '/'.

    The text after the last '/' is a partial name matched by string comparison only, so it may be
    anything (S3 prefixes need not end at a folder boundary).
    """
    if "\x00" in prefix:
        raise InvalidKeyError(f"invalid prefix {prefix!r}: NUL characters are not allowed")
    if prefix.startswith("/"):
        raise InvalidKeyError(f"invalid prefix {prefix!r}: prefixes are relative (no leading '/')")
    folder = prefix.rpartition("/")[0]
    if not folder:
        return []
    parts = folder.split("/")
    for part in parts:
        _check_component(part, "prefix", prefix)
    return parts
