#!/usr/bin/env python3
"""How long reading the audit log's size takes on a large SQLite log, cold: COUNT(*) (what
start-up did until session 10, twice) against MAX(seq) on the primary key (what it does now).

    python3 bench/audit_size.py --entries 2000000

Builds a throwaway database with the audit_entries table of crates/store/migrations/0003_audit.sql
and entries of ~600 bytes, drops the page cache between reads when it may (root), and prints each
query's time.
"""
import argparse
import os
import sqlite3
import tempfile
import time

SCHEMA = """
CREATE TABLE audit_entries (
    seq BIGINT PRIMARY KEY, tenant_id TEXT, kind TEXT NOT NULL, agent TEXT, tool TEXT,
    outcome TEXT, created_at BIGINT NOT NULL, entry TEXT NOT NULL, leaf_hash TEXT NOT NULL);
CREATE INDEX audit_entries_tenant ON audit_entries (tenant_id, seq);
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "audit.db")
        db = sqlite3.connect(path)
        db.executescript(SCHEMA)
        entry = "x" * 600
        db.executemany(
            "INSERT INTO audit_entries VALUES (?,?,?,?,?,?,?,?,?)",
            ((i, "t", "decision", "a", "tool", "allow", i, entry, "h" * 64)
             for i in range(args.entries)),
        )
        db.commit()
        db.close()
        print(f"{args.entries} entries, {os.path.getsize(path) >> 20} MiB")
        for query in ("SELECT COUNT(*) FROM audit_entries", "SELECT MAX(seq) + 1 FROM audit_entries"):
            times = []
            for _ in range(args.runs):
                os.system("sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null")
                db = sqlite3.connect(path)
                started = time.perf_counter()
                (size,) = db.execute(query).fetchone()
                times.append((time.perf_counter() - started) * 1e3)
                db.close()
                assert size == args.entries, size
            print(f"{query:40} {', '.join(f'{t:.1f}' for t in times)} ms")


if __name__ == "__main__":
    main()
