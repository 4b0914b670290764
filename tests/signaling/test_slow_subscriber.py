"""One struggling subscriber does not change what the others receive (issue 12).

A receiver that cannot keep up asks for keyframes over and over (PLI); passed on one
for one, each would force the publisher's encoder to make a keyframe, which costs
several delta frames and goes to everyone. Real aiortc peers: a publisher, a
subscriber that keeps up and one that floods PLIs at 20 a second; the keyframes the
good subscriber receives are counted as they arrive, beside a quiet window of the same
length in the same run."""

from __future__ import annotations

import asyncio
import logging
import queue
import time
from typing import Any

from aiortc import RTCRtpReceiver

from signaling import encoded
from tests.signaling.conftest import Client, Room, wait_for

WINDOW = 3.0  # seconds
FLOOD = 20  # PLIs a second from the struggling subscriber
ABOUT_ONE_A_SECOND = 1.0  # what the issue asks of the publisher's keyframes


class Counted:
    """Frames and keyframes arriving at one receiver, still decoded as before."""

    def __init__(self, receiver: RTCRtpReceiver) -> None:
        self.frames = 0
        self.keyframes = 0
        decoder_queue: queue.Queue[Any] = receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
        put = decoder_queue.put

        def counting_put(item: Any, *args: Any, **kwargs: Any) -> None:
            if item is not None:
                codec, frame = item
                self.frames += 1
                self.keyframes += encoded.EncodedFrame(
                    codec.mimeType, codec.clockRate, frame.data, frame.timestamp).keyframe
            put(item, *args, **kwargs)

        decoder_queue.put = counting_put  # type: ignore[method-assign]

    def snapshot(self) -> tuple[int, int]:
        return self.frames, self.keyframes


def _video_from(client: Client, publisher: str) -> RTCRtpReceiver:
    [transceiver] = [t for t in client.receiving()
                     if t.kind == "video" and client.publisher(t) == publisher]
    return transceiver.receiver


async def test_a_slow_subscriber_does_not_change_what_the_others_receive() -> None:
    plis: list[float] = []
    room = Room(on_keyframe_request=lambda: plis.append(time.monotonic()))
    try:
        await room.join("publisher")
        good = await room.join("good")
        slow = await room.join("slow")
        await wait_for(lambda: good.frames_from("publisher", "video") > 10
                       and slow.frames_from("publisher", "video") > 10, timeout=20)
        counted = Counted(_video_from(good, "publisher"))
        await asyncio.sleep(1.0)  # past the joins' keyframes

        start = counted.snapshot()
        await asyncio.sleep(WINDOW)  # the quiet window: the baseline
        quiet = counted.snapshot()

        receiver = _video_from(slow, "publisher")
        [source] = receiver.getSynchronizationSources()
        flood_started = time.monotonic()
        while time.monotonic() - flood_started < WINDOW:
            await encoded.request_keyframe(receiver, source.source)
            await asyncio.sleep(1 / FLOOD)
        flooded = counted.snapshot()
        requests = [t for t in plis if t >= flood_started]
    finally:
        await room.close()

    quiet_frames, quiet_keys = quiet[0] - start[0], quiet[1] - start[1]
    flood_frames, flood_keys = flooded[0] - quiet[0], flooded[1] - quiet[1]
    logging.getLogger(__name__).info(
        "quiet: %d frames, %d keyframes; flood of %d PLIs: %d frames, %d keyframes; "
        "%d PLIs to the publisher", quiet_frames, quiet_keys, int(WINDOW * FLOOD),
        flood_frames, flood_keys, len(requests))
    # The publisher is asked about once a second, not sixty times in three seconds...
    assert len(requests) <= WINDOW * ABOUT_ONE_A_SECOND + 1
    # ...so the good subscriber's stream keeps its shape: a keyframe a second at
    # most, and as many frames as in the quiet window.
    assert flood_keys <= quiet_keys + WINDOW * ABOUT_ONE_A_SECOND + 1
    assert flood_frames >= 0.8 * quiet_frames > 0
