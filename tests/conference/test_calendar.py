"""Invitations parsed back with icalendar: what a calendar program will read."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from icalendar import Calendar

from conference.calendar import (
    Invitee,
    Meeting,
    Method,
    Person,
    calendar,
    event,
    invitation,
    uid_for,
)
from conference.people import ConferenceRole

START = datetime(2026, 12, 8, 7, 0, tzinfo=timezone(timedelta(hours=-6)))
MEETING = Meeting(uid=uid_for(3, "cb.example"), title="Weekly spine conference",
                  starts_at=START, duration_minutes=90, sequence=2,
                  url="https://cb.example/conferences/3/room")
PEOPLE = [Invitee("Dr. Amara Okafor", "okafor@x.example", ConferenceRole.CHAIR),
          Invitee("Dr. Priya Raman", "raman@x.example", ConferenceRole.MEMBER),
          Invitee("Dr. Martha Hale", "hale@x.example", ConferenceRole.GUEST)]
ORGANIZER = Person("Coordinator", "coord@x.example")


def _event(data: bytes) -> tuple[Calendar, Any]:
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return cal, events[0]


def test_a_request_names_everyone_with_their_role_and_the_room() -> None:
    cal, ev = _event(invitation(MEETING, organizer=ORGANIZER, invitees=PEOPLE,
                                stamp=datetime(2026, 12, 1, tzinfo=UTC)))
    assert str(cal["method"]) == "REQUEST"
    assert str(ev["uid"]) == "conference-3@cb.example" and int(ev["sequence"]) == 2
    # 07:00 at UTC-6 is 13:00 UTC; 90 minutes later it ends.
    assert ev["dtstart"].dt == datetime(2026, 12, 8, 13, 0, tzinfo=UTC)
    assert ev["dtend"].dt == datetime(2026, 12, 8, 14, 30, tzinfo=UTC)
    assert ev["dtstart"].to_ical() == b"20261208T130000Z"
    assert str(ev["organizer"]) == "mailto:coord@x.example"
    attendees = {str(a): a.params for a in ev["attendee"]}
    assert attendees["mailto:okafor@x.example"]["ROLE"] == "CHAIR"
    assert attendees["mailto:raman@x.example"]["ROLE"] == "REQ-PARTICIPANT"
    assert attendees["mailto:hale@x.example"]["ROLE"] == "OPT-PARTICIPANT"
    assert attendees["mailto:hale@x.example"]["CN"] == "Dr. Martha Hale"
    assert str(ev["url"]) == str(ev["location"]) == MEETING.url
    assert str(ev["conference"]) == MEETING.url
    assert ev["conference"].params["VALUE"] == "URI"
    assert str(ev["status"]) == "CONFIRMED"


def test_a_cancellation_keeps_the_uid() -> None:
    cancelled = Meeting(**{**MEETING.__dict__, "sequence": 3, "cancelled": True})
    cal, ev = _event(invitation(cancelled, organizer=ORGANIZER, invitees=PEOPLE,
                                stamp=datetime(2026, 12, 2, tzinfo=UTC)))
    assert str(cal["method"]) == "CANCEL" and str(ev["status"]) == "CANCELLED"
    assert str(ev["uid"]) == "conference-3@cb.example" and int(ev["sequence"]) == 3


def test_a_title_with_ical_syntax_stays_text() -> None:
    odd = Meeting(**{**MEETING.__dict__, "title": "Spine; review, Dec\nEND:VEVENT"})
    data = calendar([event(odd, organizer=ORGANIZER, invitees=[], stamp=START)],
                    method=Method.PUBLISH, name="Casebridge")
    _, ev = _event(data)
    assert str(ev["summary"]) == "Spine; review, Dec\nEND:VEVENT"
