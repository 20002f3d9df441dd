"""SQLite (WAL) persistence for --data-dir: every accepted write is committed before the response.

WAL with synchronous=NORMAL makes a commit durable against a process crash (kill -9): the WAL frames are in
the operating system's page cache when the call returns. --fsync (synchronous=FULL) adds an fsync per
commit for power-loss durability at the cost of write throughput.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

from kubesim.store import Entry, Store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    rv INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (bucket, namespace, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
"""


class SqlitePersistence:
    def __init__(self, path: Path, fsync: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self.conn.executescript(_SCHEMA)

    def write(self, bucket: str, namespace: str, name: str, entry: Entry | None, rv: int) -> None:
        c = self.conn
        c.execute("BEGIN")
        try:
            if entry is None:
                c.execute(
                    "DELETE FROM objects WHERE bucket=? AND namespace=? AND name=?", (bucket, namespace, name)
                )
            else:
                c.execute(
                    "INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?)",
                    (bucket, namespace, name, rv, entry.raw),
                )
            c.execute("INSERT OR REPLACE INTO meta VALUES ('rv', ?)", (rv,))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def save_rv(self, rv: int) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('rv', ?)", (rv,))

    def load_into(self, store: Store) -> int:
        """Fill the store from disk; returns the number of objects loaded."""
        n = 0
        for bucket, rv, data in self.conn.execute("SELECT bucket, rv, data FROM objects"):
            store.load(bucket, Entry(orjson.loads(data), rv, bytes(data)))
            n += 1
        row = self.conn.execute("SELECT v FROM meta WHERE k='rv'").fetchone()
        store.rv = max(store.rv, int(row[0]) if row else 0)
        store.log_floor = store.rv
        return n

    def close(self) -> None:
        self.conn.close()
