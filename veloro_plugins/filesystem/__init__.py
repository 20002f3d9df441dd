"""The built-in `veloro.io/filesystem` ObjectStore (a directory tree; the embedded default store)."""

from veloro_plugins.filesystem.paths import InvalidKeyError
from veloro_plugins.filesystem.store import (
    NAME,
    FileSystemObjectStore,
    KeyConflictError,
    ObjectNotFoundError,
)

__all__ = ["NAME", "FileSystemObjectStore", "InvalidKeyError", "KeyConflictError", "ObjectNotFoundError"]
