"""Failover time (issue 12, bench a): two instances on one PostgreSQL database and one
Redis; the room's host (a separate process) is killed with SIGKILL; measured from the
kill until media flows both ways again between two aiortc clients, now on the survivor.
Five runs, each on a fresh database and a fresh private Redis.

    python3 bench/failover.py            # --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.databases import PostgresDatabases  # noqa: E402
from tests.servers import private_redis  # noqa: E402
from tests.web.live.failover import failover_once  # noqa: E402


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    pg = PostgresDatabases()
    times: list[float] = []
    joins: list[float] = []
    try:
        for n in range(args.runs):
            with private_redis() as rds:
                took = asyncio.run(failover_once(pg.new(), rds.url, baseline=joins))
            pg.reset()
            times.append(took)
            print(f"run {n + 1}: media flowing again {took:.2f} s after the SIGKILL "
                  f"(baseline: the same two joins to media, healthy host: {joins[-1]:.2f} s)")
    finally:
        pg.close()
    print(f"failover, kill to media: median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s (n={len(times)}; ownership TTL 6 s, renewed every 2 s)")
    print(f"baseline, join to media with a healthy host: median "
          f"{statistics.median(joins):.2f} s, max {max(joins):.2f} s")


if __name__ == "__main__":
    main()
