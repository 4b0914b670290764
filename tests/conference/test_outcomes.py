"""Scoring by the instruments' published rules, on worked examples computed by hand."""

from datetime import date
from decimal import Decimal

import pytest

from conference.errors import InvalidInput
from conference.outcomes import (
    Change,
    Instrument,
    change,
    check_collected,
    instrument_of,
    score,
)

ODI, NDI, BACK = Instrument.ODI, Instrument.NDI, Instrument.NRS_BACK


def test_odi_scores_the_answered_sections_as_a_percentage() -> None:
    # All ten answered, each 1: 10 of a possible 50 -> 20.0 %.
    assert score(ODI, answers=[1] * 10).value == Decimal("20.0")
    # Section 8 (sex life) left blank: 3+2+2+3+4+2+1+3+2 = 22 of 9 x 5 = 45 -> 48.888... -> 48.9.
    result = score(ODI, answers=[3, 2, 2, 3, 4, 2, 1, None, 3, 2])
    assert (result.value, result.answered) == (Decimal("48.9"), 9)
    # Two blank: 0+1+0+1+0+1+0+1 = 4 of 40 -> 10.0.
    assert score(ODI, answers=[0, 1, 0, 1, None, 0, 1, 0, 1, None]).value == Decimal("10.0")
    # 5 of 45 = 11.111... -> 11.1; and all fives -> 100.
    assert score(NDI, answers=[1, 1, 1, 1, 1, 0, 0, 0, 0, None]).value == Decimal("11.1")
    assert score(NDI, answers=[5] * 10).value == Decimal("100.0")


def test_index_refusals() -> None:
    with pytest.raises(InvalidInput, match="At least 8") as few:
        score(ODI, answers=[1, 1, 1, 1, 1, 1, 1, None, None, None])
    assert few.value.field == "answers"
    with pytest.raises(InvalidInput) as high:
        score(ODI, answers=[1, 1, 6, 1, 1, 1, 1, 1, 1, 1])
    assert high.value.field == "answers[2]"
    with pytest.raises(InvalidInput, match="ten answers"):
        score(ODI, answers=[1] * 9)
    with pytest.raises(InvalidInput, match="not both"):
        score(ODI, answers=[1] * 10, total=20)
    with pytest.raises(InvalidInput, match="0 to 100"):
        score(NDI, total=101)
    assert score(NDI, total=36).value == Decimal("36.0")


def test_a_pain_rating_is_a_whole_number_to_ten() -> None:
    assert score(BACK, total=7).value == Decimal(7)
    for bad in (7.5, 11, -1):
        with pytest.raises(InvalidInput) as refused:
            score(BACK, total=bad)
        assert refused.value.field == "score"
    with pytest.raises(InvalidInput, match="one number"):
        score(BACK, answers=[1] * 10)


def test_clinically_important_change_from_baseline() -> None:
    # ODI 48.9 -> 34.0: 14.9 points better, past 12.8.
    assert change(ODI, Decimal("34.0"), Decimal("48.9")) == Change(Decimal("-14.9"), True)
    # ODI 48.9 -> 40.0: 8.9 points, short of it.
    assert change(ODI, Decimal("40.0"), Decimal("48.9")) == Change(Decimal("-8.9"), False)
    # NDI 40 -> 25: exactly 15 counts.
    assert change(NDI, Decimal("25.0"), Decimal("40.0")).mcid_reached is True
    # NRS 7 -> 5: two points; 7 -> 6 is not; worse is never important improvement.
    assert change(BACK, Decimal(5), Decimal(7)).mcid_reached is True
    assert change(BACK, Decimal(6), Decimal(7)).mcid_reached is False
    assert change(BACK, Decimal(9), Decimal(7)) == Change(Decimal("2.0"), False)
    assert change(BACK, Decimal(5), None) == Change(None, None)


def test_names_and_dates() -> None:
    assert instrument_of("nrs_leg") is Instrument.NRS_LEG
    with pytest.raises(InvalidInput, match="Unknown instrument 'sf36'"):
        instrument_of("sf36")
    check_collected(date(2026, 12, 3), today=date(2026, 12, 3))
    with pytest.raises(InvalidInput, match="future") as future:
        check_collected(date(2026, 12, 4), today=date(2026, 12, 3))
    assert future.value.field == "collected_on"
