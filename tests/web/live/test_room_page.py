"""The live room page: who may open it, and what a guest link shows."""

import json
import re
from collections.abc import Sequence
from pathlib import Path

from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.decision_outcomes import OUTCOME_LABELS
from conference.people import SPECIALTY_LABELS
from storage.tables import AgendaItem, Conference
from tests.factories import guest_token, id_of, other_conference_item
from tests.web.conftest import sign_in
from web.live import room_labels

STATIC = Path(__file__).resolve().parents[3] / "web" / "static"


def _conference(app: Starlette) -> tuple[int, Sequence[AgendaItem]]:
    from sqlmodel import Session

    with Session(app.state.engine) as session:
        conf = session.exec(select(Conference)).one()
        items = session.exec(select(AgendaItem).where(AgendaItem.conference_id == conf.id)
                             .order_by(col(AgendaItem.position))).all()
        assert conf.id is not None
        return conf.id, items


def test_room_page_for_a_member(client: TestClient, demo: None, app: Starlette) -> None:
    conf_id, items = _conference(app)
    sign_in(client, "lee@casebridge.example")
    page = client.get(f"/conferences/{conf_id}/room")
    assert page.status_code == 200
    assert 'src="/static/js/room.js"' in page.text and "<script>" not in page.text
    assert page.text.count('class="case-brief"') == len(items)
    assert 'class="advance"' not in page.text  # only the chair and coordinators move on
    assert f'href="/cases/{items[0].case_id}#decision-{items[0].id}"' in page.text


def test_room_page_chair_gets_the_controls(client: TestClient, demo: None, app: Starlette) -> None:
    conf_id, _ = _conference(app)
    sign_in(client, "okafor@casebridge.example")
    page = client.get(f"/conferences/{conf_id}/room")
    assert 'class="advance"' in page.text and 'id="waiting"' in page.text


def test_room_page_outsider_not_found(client: TestClient, demo: None, app: Starlette) -> None:
    conf_id, _ = _conference(app)
    from sqlmodel import Session

    from tests import factories

    with Session(app.state.engine) as session:
        outsider = factories.user(session)
        session.commit()
        email = outsider.email
    sign_in(client, email, factories.PASSWORD)
    assert client.get(f"/conferences/{conf_id}/room").status_code == 404


def test_room_page_needs_sign_in(client: TestClient, demo: None, app: Starlette) -> None:
    conf_id, _ = _conference(app)
    response = client.get(f"/conferences/{conf_id}/room", follow_redirects=False)
    assert response.status_code == 303 and "/login" in response.headers["location"]


def test_room_page_guest_link_shows_only_its_case(client: TestClient, demo: None, app: Starlette
                                                  ) -> None:
    conf_id, items = _conference(app)
    token = guest_token(app, item_id=id_of(items[-1]), name="Dr. Hale")
    case_page = client.get(f"/cases/{items[-1].case_id}?token={token}")
    assert f'href="/conferences/{conf_id}/room?token={token}"' in case_page.text
    page = client.get(f"/conferences/{conf_id}/room?token={token}")
    assert page.status_code == 200
    assert page.text.count('class="case-brief"') == 1
    assert f'data-item-id="{items[-1].id}"' in page.text
    assert 'id="guest-name"' not in page.text
    assert "You join as <strong>Dr. Hale</strong>" in page.text
    assert "#decision-" not in page.text  # guests read; they do not record decisions
    other = guest_token(app, item_id=other_conference_item(app), name="X")
    assert client.get(f"/conferences/{conf_id}/room?token={other}").status_code == 404


def test_room_agenda_fragment(client: TestClient, demo: None, app: Starlette) -> None:
    conf_id, items = _conference(app)
    sign_in(client, "lee@casebridge.example")
    fragment = client.get(f"/conferences/{conf_id}/room/agenda")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.count('class="case-brief"') == len(items)
    assert 'id="agenda-h"' in fragment.text
    token = guest_token(app, item_id=id_of(items[0]), name="Guest")
    client.cookies.clear()
    guest = client.get(f"/conferences/{conf_id}/room/agenda?token={token}")
    assert guest.text.count('class="case-brief"') == 1
    assert client.get(f"/conferences/{conf_id}/room/agenda",
                      follow_redirects=False).status_code == 303



def test_room_page_serves_the_labels_the_script_shows(client: TestClient, demo: None,
                                                       app: Starlette) -> None:
    conf_id, _ = _conference(app)
    sign_in(client, "lee@casebridge.example")
    page = client.get(f"/conferences/{conf_id}/room").text
    blob = re.search(r'<script type="application/json" id="room-labels">(.*?)</script>', page)
    assert blob is not None
    labels = json.loads(blob.group(1))
    assert labels == room_labels()
    assert labels["specialties"] == {s.value: t for s, t in SPECIALTY_LABELS.items()}
    assert labels["outcomes"] == {o.value: t for o, t in OUTCOME_LABELS.items()}
    assert labels["conference_roles"] == {"chair": "Chair", "member": "Member", "guest": "Guest"}
    assert labels["specialties"]["orthopedic_spine"] == "Orthopedic spine surgery"


def _copies(label: str, text: str) -> bool:
    """``label`` itself, or a quoted cut of it that a copy drifted to ("Orthopedic spine")."""
    words = label.split()
    cuts = [" ".join(words[:n]) for n in range(2, len(words))]
    return label in text or any(re.search(re.escape(cut) + "[\"'`]", text) for cut in cuts)


def test_room_no_label_is_copied_into_the_scripts() -> None:
    """The room's labels come from the server; a copy in JavaScript drifts (it did:
    "Orthopedic spine" against the server's "Orthopedic spine surgery")."""
    served = {label for table in room_labels().values() for label in table.values()}
    scripts = {p.relative_to(STATIC).as_posix(): p.read_text() for p in STATIC.rglob("*.js")}
    assert "js/room.js" in scripts and "js/grid.js" in scripts
    copied = sorted((name, label) for name, text in scripts.items() for label in served
                    if _copies(label, text))
    assert copied == []


def test_every_view_of_case_content_is_audited(client: TestClient, demo: None,
                                               app: Starlette) -> None:
    """Security issue item 7: the room and its agenda fragment showed every case's
    summary without moving the case's audit count; so did the lists."""
    from sqlmodel import Session

    from conference.audit import Entity
    from storage import audit

    conf_id, items = _conference(app)
    case_id = items[0].case_id

    def views(via: str) -> int:
        with Session(app.state.engine) as session:
            return sum(1 for e in audit.events_for(session, entity=Entity.CASE,
                                                   entity_id=case_id)
                       if e.action.value == "viewed" and (e.detail or {}).get("via") == via)

    sign_in(client, "lee@casebridge.example")
    for path, via in ((f"/conferences/{conf_id}/room", "room"),
                      (f"/conferences/{conf_id}/room/agenda", "room"),
                      (f"/conferences/{conf_id}", "conference"), ("/", "dashboard")):
        before = views(via)
        assert client.get(path).status_code == 200
        assert views(via) == before + 1, path
    token = guest_token(app, item_id=id_of(items[0]), name="Dr. Guest")
    guest = TestClient(app)
    before = views("room")
    assert guest.get(f"/conferences/{conf_id}/room?token={token}").status_code == 200
    assert views("room") == before + 1


def test_room_label_guard_catches_copies() -> None:
    assert _copies("Orthopedic spine surgery", 'orthopedic_spine: "Orthopedic spine",')
    assert _copies("Chair", "` · Chair`")
    assert not _copies("Orthopedic spine surgery", "labels.specialties[info.specialty]")


def test_room_panel_shows_the_latest_outcome_scores(client: TestClient, demo: None,
                                                    app: Starlette) -> None:
    from datetime import date, timedelta

    from storage import outcomes, users
    from storage.engine import session_scope
    from tests.factories import found

    conf_id, items = _conference(app)
    with session_scope(app.state.engine) as session:
        lee = found(users.find_by_email(session, "lee@casebridge.example"))
        for days, odi in ((60, 48), (1, 30)):
            outcomes.record(session, actor=lee, case_id=items[0].case_id, instrument="odi",
                            collected_on=date.today() - timedelta(days=days), total=odi)
    sign_in(client, "okafor@casebridge.example")
    page = client.get(f"/conferences/{conf_id}/room").text
    assert ("Latest outcomes:</strong> Oswestry Disability Index: 30.0 "
            "(-18.0 since baseline, clinically important)") in page
