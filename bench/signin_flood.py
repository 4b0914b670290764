"""Probe latency during a flood of bad sign-ins (security issue, item 1).

Starts the app on its own thread against a fresh database, sends N concurrent
``POST /api/v1/auth/token`` with unknown addresses, and meanwhile times probe
requests to ``/healthz`` (no database) and ``/login`` (a database read). The
baseline in the same run is the probes with no flood.

    python3 bench/signin_flood.py                      # PostgreSQL at 127.0.0.1:5432
    python3 bench/signin_flood.py --database sqlite

On PostgreSQL a fresh database is created for the run and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.engine import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.databases import PostgresDatabases  # noqa: E402
from tests.web.flood import flood, serving  # noqa: E402


def figures(label: str, waits: list[float]) -> str:
    ms = sorted(w * 1000 for w in waits)
    return (f"{label:<28} median {statistics.median(ms):8.1f} ms   max {ms[-1]:8.1f} ms"
            f"   (n={len(ms)})")


async def run(url: str, logins: int) -> None:
    with serving(url) as base:
        for path in ("/healthz", "/login"):
            calm = await flood(base, logins=0, probes=10, probe_path=path)
            print(figures(f"{path} alone", calm.probe_seconds))
            start = time.perf_counter()
            busy = await flood(base, logins=logins, probes=10, probe_path=path)
            took = time.perf_counter() - start
            errors = sorted(s for s in busy.statuses if s != 401)
            print(figures(f"{path} during {logins} logins", busy.probe_seconds)
                  + f"   flood took {took:.1f} s, non-401 answers: {errors or 'none'}")


def main() -> None:
    logging.getLogger("web.auth").setLevel(logging.ERROR)  # one warning per bad sign-in
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--logins", type=int, default=40)
    args = parser.parse_args()
    if args.database == "postgresql":
        pg = PostgresDatabases()
        try:
            asyncio.run(run(pg.new(), args.logins))
        finally:
            pg.close()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/flood.db"
            upgrade(make_engine(url))
            asyncio.run(run(url, args.logins))


if __name__ == "__main__":
    main()
