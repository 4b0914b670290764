"""Random frames at a live socket: each gets an answer or nothing, never a crash."""

from __future__ import annotations

import itertools
import json
import logging
import random

import pytest

from tests.web.live.conftest import Live

TYPES = ["join", "offer", "answer", "candidate", "advance", "admit", "deny", "media", "leave",
         "welcome", "", "JOIN", "tracks"]
FIELDS = ["sdp", "item_id", "participant_id", "audio", "video", "display_name", "candidate",
          "sdpMid", "sdpMLineIndex", "type", "x"]


def _value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, 2**64, 1.5, float("1e308")])
    if kind == 3:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(12)))
    if kind == 4:
        return rng.choice(["v=0", "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\n", "1", "", " ", "\x00"])
    if kind == 5:
        return "x" * rng.choice([0, 100, 70_000])
    if kind == 6:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(FIELDS): _value(rng, depth + 1) for _ in range(rng.randrange(4))}


def frames(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        shape = rng.randrange(4)
        if shape == 0:  # not JSON at all
            out.append("".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randrange(40))))
        elif shape == 1:  # JSON, any shape
            out.append(json.dumps(_value(rng)))
        else:  # a message-like object with wrong or missing fields
            body = {rng.choice(FIELDS): _value(rng) for _ in range(rng.randrange(4))}
            body["type"] = rng.choice(TYPES)
            out.append(json.dumps(body))
    return out


async def test_fuzz_socket_answers_every_frame_and_lives_on(live: Live,
                                                            caplog: pytest.LogCaptureFixture
                                                            ) -> None:
    ticks = itertools.count()
    live.app.state.hub.clock = lambda: next(ticks) * 10.0  # no rate limit in this test
    client = await live.joined("okafor", publish=False)
    caplog.set_level(logging.ERROR, logger="signaling.hub")
    for frame in frames(seed=20261128, count=300):
        await client.send_raw(frame)
    # Replies come in order: once the probe is answered, every frame before it was.
    await client.send({"type": "join"})  # back in the room, should a frame have left it
    await client.send({"type": "advance", "item_id": "424242"})
    probe = await client.expect(lambda m: m["type"] == "error" and "424242" in m["message"],
                                timeout=30)
    assert probe["code"] in ("not_found", "invalid_state")
    assert client.close_code is None
    errors = [m for m in client.messages if m["type"] == "error"]
    assert len(errors) > 100  # most random frames are refused...
    assert {e["code"] for e in errors} <= {"bad_json", "unknown_type", "invalid_message",
                                           "invalid_sdp", "forbidden", "not_found",
                                           "invalid_state", "too_large"}
    # ...and none of them reached the catch-all that reports a server-side bug.
    assert not [r for r in caplog.records if "message failed" in r.getMessage()]
    await client.close()
