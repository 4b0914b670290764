"""The care loop on the pages: follow-ups on the coordinator's dashboard, a task ticked
off by its owner, a returning case's panel."""

import re
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.conferences import ConferenceStatus
from conference.decision import DecisionContent
from conference.decision_outcomes import Outcome
from storage import agenda, conferences, decisions, users
from tests.factories import found
from tests.web.conftest import csrf_of, sign_in
from tests.web.pages.conftest import CHAIR, COORDINATOR, database

LEE = "lee@casebridge.example"
CASE, ITEM = 7, 7  # Dr. Hale's request on the demo agenda


def _signed(app: Starlette, outcome: Outcome, weeks: int, *, days_ago: int = 0) -> list[int]:
    with database(app) as session:
        chair = found(users.find_by_email(session, CHAIR))
        lee = found(users.find_by_email(session, LEE))
        raman = found(users.find_by_email(session, "raman@casebridge.example"))
        present = [found(u.id) for u in (chair, lee, raman)]
        conf = conferences.get_conference(session, 1)
        conf.status = ConferenceStatus.LIVE
        session.add(conf)
        at = datetime.now(UTC) - timedelta(days=days_ago)
        agenda.record_attendance(session, item_id=ITEM, user_ids=present, now=at)
        decisions.save_draft(session, actor=chair, item_id=ITEM, read_version=0, now=at,
                             content=DecisionContent(
                                 outcome=outcome, rationale="Weakness progressing.",
                                 plan="Decompression.", follow_up_weeks=weeks,
                                 present_user_ids=tuple(present)))
        decisions.sign(session, actor=chair, item_id=ITEM, now=at)
        return present


def test_a_follow_up_goes_back_on_an_agenda_from_the_dashboard(
        client: TestClient, app: Starlette, demo: None) -> None:
    _signed(app, Outcome.PHYSICAL_THERAPY, 1, days_ago=10)  # due three days ago
    sign_in(client, COORDINATOR)
    home = client.get("/").text
    assert "Follow-ups to schedule" in home and "Overdue" in home
    assert "Schedule a conference to put it on" in home  # nothing upcoming yet
    with database(app) as session:
        coordinator = found(users.find_by_email(session, COORDINATOR))
        later = conferences.create_conference(
            session, actor=coordinator, title="January conference",
            starts_at=datetime.now(UTC) + timedelta(days=30), duration_minutes=60,
            chair_id=found(found(users.find_by_email(session, CHAIR)).id))
        later_id = found(later.id)
    home = client.get("/").text
    follow = re.search(r'action="/follow-ups/(\d+)/schedule"', home)
    assert follow
    refused = client.post(f"/follow-ups/{follow.group(1)}/schedule", data={
        "csrf_token": csrf_of(home), "conference_id": str(later_id), "planned_minutes": "0"})
    assert refused.status_code == 422
    done = client.post(f"/follow-ups/{follow.group(1)}/schedule", data={
        "csrf_token": csrf_of(home), "conference_id": str(later_id), "planned_minutes": "10"},
        follow_redirects=True)
    assert "The case is back on the agenda." in done.text
    assert "Scheduled" in done.text
    with database(app) as session:
        returning = [i for i in agenda.items(session, later_id) if i.case_id == CASE]
        assert len(returning) == 1
    case = client.get(f"/cases/{CASE}").text
    assert "Returning:</strong> decided physical therapy on" in case


def test_the_owner_ticks_off_a_post_operative_task(client: TestClient, app: Starlette,
                                                   demo: None) -> None:
    _signed(app, Outcome.SURGERY_RECOMMENDED, 12)
    sign_in(client, LEE)
    home = client.get("/").text
    assert "Your post-operative tasks" in home and "Post-operative rehabilitation plan" in home
    task = re.search(r'action="/handoffs/(\d+)/done"', home)
    assert task
    ticked = client.post(f"/handoffs/{task.group(1)}/done",
                         data={"csrf_token": csrf_of(home), "done": "1"}, follow_redirects=True)
    assert "Task marked done." in ticked.text and "Your post-operative tasks" not in ticked.text
    case = client.get(f"/cases/{CASE}").text
    assert case.count('class="card loop-item') == 3 and "Done</span>" in case
    assert "Dr. Martha Hale" in case  # the referrer owns the return to primary care
    # Not Raman's task: refused.
    sign_in(client, "raman@casebridge.example")
    page = client.get(f"/cases/{CASE}").text
    assert client.post(f"/handoffs/{task.group(1)}/done",
                       data={"csrf_token": csrf_of(page), "done": "0"}).status_code == 403
