from datetime import timedelta

from conference.mail import LONGEST_WAIT, MAX_ATTEMPTS, gives_up, is_permanent, retry_delay


def test_retries_back_off_from_twenty_seconds_to_an_hour() -> None:
    waits = [retry_delay(n) for n in range(1, 9)]
    assert waits[:5] == [timedelta(seconds=s) for s in (20, 60, 180, 540, 1620)]
    assert waits[5:] == [LONGEST_WAIT] * 3
    assert retry_delay(10_000) == LONGEST_WAIT


def test_only_5xx_is_final_and_tries_run_out() -> None:
    assert is_permanent(550) and is_permanent(554)
    assert not is_permanent(451) and not is_permanent(None) and not is_permanent(250)
    assert not gives_up(MAX_ATTEMPTS - 1) and gives_up(MAX_ATTEMPTS)


def test_times_in_words_are_utc_whatever_zone_they_come_in() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from conference.announcements import scheduled

    chicago = datetime(2026, 12, 3, 20, 30, tzinfo=ZoneInfo("America/Chicago"))
    said = scheduled("RRC-1", 7, "Board", chicago)
    assert "04 Dec 2026 02:30 UTC" in said.text
