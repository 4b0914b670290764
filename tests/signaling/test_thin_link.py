"""A subscriber on a 400 kbit/s line while two colleagues publish ~0.9 Mbit/s each
(issue 13): audio arrives whole, video is paused on purpose and the client is told,
and the colleagues on loopback notice nothing. Real namespaces, veth, tc tbf, aiortc."""

from __future__ import annotations

import pytest

from tests.signaling.thin_link import namespaces_unavailable, run_call, thin_link

pytestmark = pytest.mark.slow

UNAVAILABLE = namespaces_unavailable()


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
