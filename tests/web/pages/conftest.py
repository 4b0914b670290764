"""Helpers for page tests: demo people, an outsider, and reading fields out of HTML."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import Session
from starlette.applications import Starlette

from conference.people import Role, Specialty
from storage import users
from storage.demo import DEMO_PASSWORD
from storage.engine import session_scope

ADMIN = "admin@casebridge.example"
COORDINATOR = "coordinator@casebridge.example"
CHAIR = "okafor@casebridge.example"  # neurosurgery, chairs the demo conference
RAMAN = "raman@casebridge.example"  # pain medicine, member
HALE = "hale@ridgeview-clinic.example"  # referring clinician, guest of the demo conference
OUTSIDER = "outsider@casebridge.example"

DEMO_CONFERENCE = 1
SCHEDULED_REQUEST = 1  # RRC-88412: scheduled onto the demo conference, item 7, case 7
SUBMITTED_REQUEST = 2  # RRC-88530: still waiting in the queue, case 8


@contextmanager
def database(app: Starlette) -> Iterator[Session]:
    with session_scope(app.state.engine) as session:
        yield session


@pytest.fixture
def outsider(app: Starlette, demo: None) -> str:
    """A specialist who belongs to no conference."""
    with database(app) as session:
        users.create_user(session, email=OUTSIDER, name="Dr. Out Sider",
                          role=Role.SPECIALIST, specialty=Specialty.NEUROSURGERY,
                          password=DEMO_PASSWORD)
    return OUTSIDER


def field_error(html: str, name: str) -> str | None:
    """The error shown for field ``name``, checked to sit right after that field."""
    match = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">(.*?)</p>',
                      html, re.S)
    if match is None:
        return None
    control = re.search(rf'id="f-{re.escape(name)}"', html)
    assert control is not None, f"no control f-{name}"
    between = html[control.end():match.start()]
    assert 0 < len(between) < 2500 and 'class="field' not in between, \
        f"the error for {name} is not next to its field"
    assert re.search(rf'id="f-{re.escape(name)}"[^>]*aria-invalid="true"', html) or \
        'aria-invalid="true"' in html[control.start():control.start() + 600]
    text = re.sub(r"<[^>]+>", "", match.group(1)).replace("⚠", "").strip()
    return html_lib.unescape(text)


def field_value(html: str, name: str) -> str:
    """What the field shows: an input's value, a textarea's text or the selected option."""
    n = re.escape(name)
    for pattern in (rf'<input[^>]*id="f-{n}"[^>]*value="([^"]*)"',
                    rf'<textarea id="f-{n}"[^>]*>(.*?)</textarea>'):
        match = re.search(pattern, html, re.S)
        if match:
            return html_lib.unescape(match.group(1))
    select = re.search(rf'<select id="f-{n}".*?</select>', html, re.S)
    assert select is not None, f"no field {name}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""
