"""Calendar invitations for conferences, as iCalendar (RFC 5545, with RFC 7986's
``CONFERENCE``) built by the ``icalendar`` library, never by string formatting.

One event per conference: its ``UID`` never changes, its ``SEQUENCE`` rises with
every re-timing or re-titling, so calendar programs update the entry they hold. A
conference closed before it was held is cancelled (``METHOD:CANCEL``, ``STATUS``
``CANCELLED``). Like mail, an invitation carries no clinical detail: the conference's
title, time, people and the room's address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from icalendar import Calendar, Event, vCalAddress, vText

from conference.people import ConferenceRole

PRODID = "-//Casebridge//Spine case conferences//EN"


class Method(StrEnum):
    """What an invitation mail asks of the calendar program (RFC 5546)."""

    REQUEST = "REQUEST"  # add or update the event
    CANCEL = "CANCEL"  # remove it
    PUBLISH = "PUBLISH"  # a feed or a download: information only


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Invitee(Person):
    conference_role: ConferenceRole


@dataclass(frozen=True)
class Meeting:
    """A conference as its invitation shows it."""

    uid: str
    title: str
    starts_at: datetime
    duration_minutes: int
    sequence: int
    url: str
    cancelled: bool = False


def uid_for(conference_id: int, host: str) -> str:
    """The event's stable identifier: the same for the conference's whole life."""
    return f"conference-{conference_id}@{host or 'casebridge'}"


_ROLES = {ConferenceRole.CHAIR: "CHAIR", ConferenceRole.MEMBER: "REQ-PARTICIPANT",
          ConferenceRole.GUEST: "OPT-PARTICIPANT"}


def _address(person: Person, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for name, value in params.items():
        address.params[name.upper().replace("_", "-")] = vText(value)
    return address


def event(meeting: Meeting, *, organizer: Person, invitees: Iterable[Invitee],
          stamp: datetime) -> Event:
    """The conference as one ``VEVENT``."""
    item = Event()
    item.add("uid", meeting.uid)
    item.add("sequence", meeting.sequence)
    item.add("dtstamp", stamp.astimezone(UTC))
    start = meeting.starts_at.astimezone(UTC)
    item.add("dtstart", start)
    item.add("dtend", start + timedelta(minutes=meeting.duration_minutes))
    item.add("summary", meeting.title)
    item.add("description", "Spine case conference on Casebridge. Join the video case "
                            f"review in the browser: {meeting.url}")
    item.add("url", meeting.url)
    item.add("location", meeting.url)
    item.add("conference", meeting.url,
             parameters={"VALUE": "URI", "FEATURE": "AUDIO,VIDEO", "LABEL": "Casebridge room"})
    item.add("status", "CANCELLED" if meeting.cancelled else "CONFIRMED")
    item.add("organizer", _address(organizer))
    for person in invitees:
        item.add("attendee", _address(person, role=_ROLES[person.conference_role],
                                      partstat="NEEDS-ACTION", rsvp="TRUE",
                                      cutype="INDIVIDUAL"))
    return item


def calendar(events: Iterable[Event], *, method: Method, name: str | None = None) -> bytes:
    """A ``VCALENDAR`` holding ``events``, as the bytes of an ``.ics`` file."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method.value)
    if name:
        cal.add("x-wr-calname", name)
    for item in events:
        cal.add_component(item)
    return bytes(cal.to_ical())


def invitation(meeting: Meeting, *, organizer: Person, invitees: Iterable[Invitee],
               stamp: datetime) -> bytes:
    """The ``.ics`` of an invitation mail: a request, or a cancellation."""
    method = Method.CANCEL if meeting.cancelled else Method.REQUEST
    return calendar([event(meeting, organizer=organizer, invitees=invitees, stamp=stamp)],
                    method=method)
