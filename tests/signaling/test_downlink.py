"""Which video streams a subscriber's thin link keeps (signaling.downlink), on a clock
the test moves: loss pauses video lowest priority first, audio never; probes come
back when the link may carry them, and a probe that brings loss is paused again."""

from __future__ import annotations

from signaling.downlink import CAPACITY_MEMORY, MAX_PROBE_WAIT, SETTLE, Downlink


class Link:
    """A subscriber receiving audio and two videos; each stream sends at a fixed rate."""

    def __init__(self) -> None:
        self.downlink = Downlink()
        self.now = 0.0
        self.rates = {"audio": 50_000, "ana": 900_000, "ben": 900_000}  # bits/s
        self.when: list[float] = []  # when each change happened
        for key in self.rates:
            self.downlink.add(key, pausable=key != "audio")

    def run(self, seconds: float, capacity: float) -> list[set[str]]:
        """Send for ``seconds`` through a link of ``capacity``; report loss each second."""
        changes: list[set[str]] = []
        for _ in range(int(seconds * 10)):
            self.now += 0.1
            paused = self.downlink.paused()
            sending = 0
            for key, rate in self.rates.items():
                if key not in paused:
                    self.downlink.sent(key, int(rate / 80), self.now)
                    sending += rate
            if round(self.now * 10) % 10 == 0:
                loss = max(0.0, 1 - capacity / sending) if sending else 0.0
                for key in self.rates:
                    if key not in paused:
                        self.downlink.loss(key, loss, self.now)
            if self.downlink.update(self.now):
                changes.append({str(key) for key in self.downlink.paused()})
                self.when.append(self.now)
        return changes


def test_a_link_that_carries_everything_pauses_nothing() -> None:
    link = Link()
    assert link.run(60, capacity=5_000_000) == []


def test_a_thin_link_keeps_audio_and_pauses_video_lowest_priority_first() -> None:
    link = Link()
    changes = link.run(4, capacity=1_200_000)  # audio and one video fit, not two
    assert changes == [{"ben"}]
    # It stays so while the capacity measured says ben would not fit: no probe comes
    # to cost the others their audio.
    assert link.run(CAPACITY_MEMORY - 5, capacity=1_200_000) == []
    # Later ben is tried; each failed try is undone within a few seconds and the
    # next comes later than the one before.
    changes = link.run(4 * MAX_PROBE_WAIT, capacity=1_200_000)
    assert changes[0] == set() and changes[-1] == {"ben"}
    tries = link.when[-len(changes)::2]
    undone = [b - a for a, b in zip(link.when[-len(changes)::2], link.when[-len(changes) + 1::2],
                                     strict=False)]
    assert all(gap <= SETTLE + 1.5 for gap in undone)
    waits = [b - a for a, b in zip(tries, tries[1:], strict=False)]
    assert all(b > a - 0.01 for a, b in zip(waits, waits[1:], strict=False))
    assert waits[0] < waits[-1] <= MAX_PROBE_WAIT + SETTLE + 2


def test_a_link_too_thin_for_any_video_keeps_audio_only() -> None:
    link = Link()
    changes = link.run(10, capacity=400_000)
    assert changes[-1] == {"ana", "ben"} and len(changes) <= 2
    assert "audio" not in link.downlink.paused()


def test_a_link_that_recovers_gets_its_video_back() -> None:
    link = Link()
    link.run(10, capacity=400_000)
    assert link.downlink.paused() == {"ana", "ben"}
    # The line gets better: the next probe succeeds, then ben's too.
    changes = link.run(3 * MAX_PROBE_WAIT, capacity=5_000_000)
    assert link.downlink.paused() == set() and changes[-1] == set()
    assert changes[0] == {"ben"}  # ana (higher priority) first


def test_an_estimate_brings_a_stream_back_without_waiting() -> None:
    link = Link()
    link.run(4, capacity=1_200_000)
    assert link.downlink.paused() == {"ben"}
    link.now += SETTLE
    link.downlink.estimate([1, 2, 3], 3_000_000, link.now)
    assert link.downlink.update(link.now)
    assert link.downlink.paused() == set()


def test_estimates_alone_never_pause() -> None:
    link = Link()
    for second in range(20):
        link.downlink.estimate([1], 100_000, float(second))  # a REMB ramping up from low
    assert link.run(20, capacity=5_000_000) == []


def test_one_lossy_report_is_a_burst_two_are_a_full_link() -> None:
    link = Link()
    downlink = link.downlink
    for second in range(3):
        for key, rate in link.rates.items():
            downlink.sent(key, int(rate / 8), float(second))
    downlink.loss("ana", 0.15, 3.0)  # a burst
    assert not downlink.update(3.0)
    downlink.loss("ana", 0.0, 4.0)
    downlink.loss("ana", 0.15, 5.0)
    assert not downlink.update(5.0)
    downlink.loss("ana", 0.12, 6.0)  # again: the link is full
    assert downlink.update(6.0) and downlink.paused() == {"ben"}
    downlink.loss("ana", 0.4, 20.0)  # heavy loss counts at once
    assert downlink.update(20.0) and downlink.paused() == {"ana", "ben"}


def test_a_stream_just_begun_is_measured_over_the_time_it_has_sent() -> None:
    """A call's first loss comes while the streams are only starting: measured over the
    whole rate window, they would seem to send a fraction of their rate, the capacity
    would seem that small, and far too much would be cut for the next 20 s."""
    downlink = Downlink()
    for key in ("audio", "ana", "ben"):
        downlink.add(key, pausable=key != "audio")
    now = 100.0
    for _ in range(5):  # half a second at 50 kbit/s audio, 400 kbit/s each video
        now += 0.1
        downlink.sent("audio", 625, now)
        downlink.sent("ana", 5000, now)
        downlink.sent("ben", 5000, now)
    for report in (0, 1):  # two lossy reports: the link (about 600 kbit/s) is full
        for key in ("audio", "ana", "ben"):
            downlink.loss(key, 0.3, now + report * 0.1)
    assert downlink.update(now + 0.1)
    capacity, _ = downlink._capacity  # type: ignore[misc]
    assert 500_000 < capacity < 800_000  # 850 kbit/s sent, 30 % lost; not a quarter of it
    assert downlink.paused() == {"ben"}  # audio and one video fit in it


def test_a_step_up_that_brings_loss_is_taken_back_alone() -> None:
    """Three layered streams at their base layer fit; one taken back up a layer brings
    loss: that one step is undone, nothing else is cut, the capacity measured before
    stands, and the next try waits longer."""
    downlink = Downlink()
    downlink.add("audio", pausable=False)
    for key in ("ana", "ben", "cho"):
        downlink.add(key, pausable=True)
        downlink.describe(key, (0.4, 0.6, 1.0))
        downlink._streams[key].cut = 2  # base layer only, as after a thin start
    downlink._capacity = (600_000.0, 0.0)
    now = 0.0

    def send(seconds: float, loss: float) -> bool:
        nonlocal now
        changed = False
        for _ in range(int(seconds * 10)):
            now += 0.1
            for key in ("audio", "ana", "ben", "cho"):
                stream = downlink._streams[key]
                rate = 60_000 if key == "audio" else 200_000 * stream.share(stream.cut)
                if rate:
                    downlink.sent(key, int(rate / 80), now)
            if round(now * 10) % 10 == 0:
                for key in ("audio", "ana", "ben", "cho"):
                    downlink.loss(key, loss, now)
            changed = downlink.update(now) or changed
        return changed

    assert send(1, loss=0.0)  # 420 kbit/s sent; a step up fits in 0.85 of 600
    cuts = {key: downlink._streams[key].cut for key in ("ana", "ben", "cho")}
    assert sorted(cuts.values()) == [1, 2, 2]
    [probe] = [key for key, cut in cuts.items() if cut == 1]
    assert send(3, loss=0.3)  # it did not fit after all
    assert {key: downlink._streams[key].cut for key in cuts} == {
        "ana": 2, "ben": 2, "cho": 2}
    assert downlink._capacity == (600_000.0, 0.0)
    assert downlink._probe_wait > 8.0 and probe not in downlink.paused()
