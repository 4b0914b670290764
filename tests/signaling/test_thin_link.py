"""A subscriber on a 400 kbit/s line while two colleagues publish ~0.9 Mbit/s each
(issue 13): audio arrives whole, video is paused on purpose and the client is told,
and the colleagues on loopback notice nothing. Real namespaces, veth, tc tbf, aiortc."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.layered_clip import CHROMIUM, record
from tests.signaling.thin_link import namespaces_unavailable, run_call, thin_link

pytestmark = pytest.mark.slow

UNAVAILABLE = namespaces_unavailable()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.skipif(UNAVAILABLE is not None,
                    reason=f"THIN-LINK TEST NOT RUN: {UNAVAILABLE} (it needs root, iproute2 "
                           "and network namespaces)")
async def test_a_thin_link_keeps_its_audio_and_pauses_video_it_cannot_carry() -> None:
    with thin_link(rate_kbit=400) as link:
        report = await run_call(link, adapt=True)
    for publisher in ("ana", "ben"):
        # Speech whole: at least 90 % of the 50 audio frames a second.
        assert report.thin[(publisher, "audio")] >= 45, report
        # Video at a watchable rate, or paused on purpose with the client told so.
        video = report.thin[(publisher, "video")]
        assert video >= 10 or report.thin_paused[publisher] >= 0.9 * report.seconds, report
        assert report.thin_freezes[publisher] == 0, report
        # The colleague on loopback still gets everything.
        assert report.colleague[(publisher, "video")] >= 28, report
        assert report.colleague[(publisher, "audio")] >= 48, report
    assert any(streams for _, streams in report.told)
    assert set().union(*(s.values() for _, s in report.told)) == {"poor-connection"}


@pytest.mark.skipif(UNAVAILABLE is not None or not Path(CHROMIUM).exists(),
                    reason=f"THIN-LINK TEST NOT RUN: {UNAVAILABLE or 'no ' + CHROMIUM} (it "
                           "needs root, network namespaces and Chromium)")
async def test_a_thin_link_gets_fewer_frames_of_layered_video_not_a_frozen_picture() -> None:
    """Publishers sending as Chrome does, in three temporal layers (a recording of
    Chromium's camera, ~0.2 Mbit/s at 20 fps each). The thin subscriber gets three
    colleagues' audio (~0.2 Mbit/s with overhead) and video; a 700 kbit/s line cannot
    carry the videos whole, so it gets fewer frames, whole, with its audio whole: the
    streams step down a layer at a time, and a stream is paused (the client told) only
    once the others are at their base layer. Which streams end where depends on what
    the link measured; that some video comes lighter rather than frozen does not."""
    clip = await record()
    assert clip.layers()[:4] == [0, 2, 1, 2], clip.layers()[:8]
    with thin_link(rate_kbit=700) as link:
        report = await run_call(link, adapt=True, layered=clip)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "thin-link-layered.json").write_text(json.dumps(
        {"clip_fps": clip.fps, "thin": {f"{p}/{k}": v for (p, k), v in report.thin.items()},
         "paused": report.thin_paused, "freezes": report.thin_freezes}))
    lighter = [p for p in ("ana", "ben")
               if 0.15 * clip.fps <= report.thin[(p, "video")] <= 0.8 * clip.fps
               and report.thin_paused[p] <= 0.2 * report.seconds]
    assert lighter, report  # a stream in layers comes lighter, not whole and not frozen
    for publisher in ("ana", "ben"):
        # Audio first, whatever the video does. (Gaps in video are not asserted here:
        # on a busy machine a probe for a step up can fail and leave a gap before the
        # step is taken back; the one-layer test above holds the line on freezes.)
        assert report.thin[(publisher, "audio")] >= 45, report
        assert report.colleague[(publisher, "video")] >= 0.9 * clip.fps, report
