"""A subscriber on a thin line (issue 13): what it receives with the server adapting to
its link, beside the same call with adaptation switched off, in one run.

    sudo python3 bench/thin_link.py            # --rate 400 --seconds 20 --runs 1
    sudo python3 bench/thin_link.py --layered --rate 600

A network namespace reached over a veth pair whose server-to-subscriber direction is a
token bucket (tc tbf, --rate kbit/s, 200 ms of queue) holds an aiortc subscriber that
counts the frames reaching it whole; three colleagues on loopback publish 640x480 VP8 at
~0.9 Mbit/s plus Opus (or, with --layered, a recording of Chromium's camera in three
temporal layers, ~0.2 Mbit/s at 20 fps), and the third counts what it receives. Figures
are over the call after a 5 s warm-up (tests/signaling/thin_link.py). Needs root.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.layered_clip import record  # noqa: E402
from tests.signaling.thin_link import (  # noqa: E402
    namespaces_unavailable,
    run_call,
    thin_link,
)


async def main(args: argparse.Namespace) -> None:
    clip = await record() if args.layered else None
    source = (f"Chromium's camera in L1T3 at {clip.fps:.0f} fps" if clip
              else "aiortc's one-layer clip at 30 fps")
    print(f"thin link: {args.rate} kbit/s down, publishers: {source}; figures per publisher "
          "(ana, ben), frames per second over the window after the warm-up")
    print("| adaptation | thin: audio fps (of 50) | thin: audio fps, first 5 s "
          "| thin: video fps | thin: video paused s | thin: freezes | colleague: audio fps "
          "| colleague: video fps |")
    print("|" + "---|" * 8, flush=True)
    for _ in range(args.runs):
        for adapt in (True, False):
            with thin_link(rate_kbit=args.rate) as link:
                r = await run_call(link, adapt=adapt, seconds=args.seconds, layered=clip)

            def both(values: dict[tuple[str, str], float], kind: str) -> str:
                return " / ".join(f"{values.get((p, kind), 0.0):.1f}" for p in ("ana", "ben"))

            paused = " / ".join(f"{r.thin_paused[p]:.1f}" for p in ("ana", "ben"))
            freezes = " / ".join(str(r.thin_freezes[p]) for p in ("ana", "ben"))
            first = " / ".join(f"{r.thin_warmup_audio[p]:.1f}" for p in ("ana", "ben"))
            print(f"| {'on' if adapt else 'off'} | {both(r.thin, 'audio')} | {first} "
                  f"| {both(r.thin, 'video')} | {paused} of {r.seconds:.1f} | {freezes} "
                  f"| {both(r.colleague, 'audio')} | {both(r.colleague, 'video')} |",
                  flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=400, help="kbit/s to the subscriber")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--layered", action="store_true",
                        help="publish a recording of Chromium's camera in temporal layers")
    reason = namespaces_unavailable()
    if reason:
        sys.exit(f"bench/thin_link.py: {reason}")
    asyncio.run(main(parser.parse_args()))
