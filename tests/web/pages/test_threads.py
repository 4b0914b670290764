"""The case page's thread and the notifications page."""

import re

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.web.conftest import csrf_of, sign_in
from tests.web.pages.conftest import CHAIR, HALE, RAMAN, database, field_error, field_value

CASE = 1  # SPN-2026-0117, on the demo agenda
LEE = "lee@casebridge.example"


def _raman_id(app: Starlette) -> int:
    from sqlmodel import select

    from storage.tables import User

    with database(app) as session:
        raman = session.exec(select(User).where(User.email == RAMAN)).one()
        assert raman.id is not None
        return raman.id


def test_a_member_posts_in_the_thread_and_the_mentioned_colleague_is_told(
        client: TestClient, app: Starlette, demo: None) -> None:
    sign_in(client, LEE)
    page = client.get(f"/cases/{CASE}").text
    assert 'id="thread"' in page and "No messages yet." in page
    raman = _raman_id(app)
    assert f'value="{raman}"' in page  # offered in the picker
    posted = client.post(f"/cases/{CASE}/messages", data={
        "csrf_token": csrf_of(page),
        "body": "Plateau at week 6 <b>again</b>; notes at https://pacs.example/x.",
        "mentions": str(raman)}, follow_redirects=True)
    assert posted.status_code == 200 and "Message posted." in posted.text
    # Escaped; only the https link becomes markup.
    assert "&lt;b&gt;again&lt;/b&gt;" in posted.text
    assert ('<a href="https://pacs.example/x" target="_blank" rel="noopener noreferrer">'
            in posted.text)
    assert "Notified: Dr. Priya Raman" in posted.text
    sign_in(client, RAMAN)
    dashboard = client.get("/").text
    assert re.search(r'Notifications <span class="count-badge" aria-label="1 unread">1</span>',
                     dashboard)
    inbox = client.get("/notifications").text
    assert "Jordan Lee, DPT mentioned you in the thread of case SPN-2026-0117." in inbox
    assert "Plateau" not in inbox  # no clinical text in a notification
    mention = re.search(r'action="/notifications/(\d+)/open"', inbox)
    assert mention
    opened = client.post(f"/notifications/{mention.group(1)}/open",
                         data={"csrf_token": csrf_of(inbox)}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/cases/{CASE}#thread"
    assert "count-badge" not in client.get("/").text


def test_a_refused_message_keeps_what_was_typed(client: TestClient, demo: None) -> None:
    sign_in(client, LEE)
    page = client.get(f"/cases/{CASE}").text
    long = "x" * 4001
    refused = client.post(f"/cases/{CASE}/messages",
                          data={"csrf_token": csrf_of(page), "body": long})
    assert refused.status_code == 422
    # (the field holds 4001 characters, so its error is looked up directly)
    assert re.search(r'id="body-error">[^<]*(<[^>]+>[^<]*)*at most 4000 characters',
                     refused.text)
    assert field_value(refused.text, "body") == long
    blank = client.post(f"/cases/{CASE}/messages",
                        data={"csrf_token": csrf_of(page), "body": "  "})
    assert blank.status_code == 422
    assert "empty" in (field_error(blank.text, "body") or "")


def test_no_one_reads_another_persons_notifications(client: TestClient, demo: None) -> None:
    sign_in(client, CHAIR)
    page = client.get("/notifications")
    assert page.status_code == 200 and "Nothing yet." in page.text
    # The coordinator's notification of a new request is not the chair's to open.
    missing = client.post("/notifications/1/open", data={"csrf_token": csrf_of(page.text)},
                          follow_redirects=False)
    assert missing.status_code == 404


def test_the_referrer_sees_the_form_on_her_own_case_only(client: TestClient,
                                                        demo: None) -> None:
    sign_in(client, HALE)
    own = client.get("/cases/7").text  # RRC-88412, her request
    assert 'action="/cases/7/messages"' in own


def test_the_calendar_page_shows_the_address_and_resets_it(client: TestClient,
                                                           demo: None) -> None:
    sign_in(client, RAMAN)
    assert 'href="/calendar"' in client.get("/").text
    conference = client.get("/conferences/1").text
    assert 'href="/conferences/1/invite.ics"' in conference
    page = client.get("/calendar").text
    address = re.search(r'id="feed-url" class="mono" readonly value="([^"]+)"', page)
    assert address and address.group(1).endswith(".ics")
    path = "/calendar/" + address.group(1).split("/calendar/")[1]
    assert client.get(path).status_code == 200
    reset = client.post("/calendar/reset", data={"csrf_token": csrf_of(page)},
                        follow_redirects=True)
    assert "new address" in reset.text and address.group(1) not in reset.text
    assert client.get(path).status_code == 404


def test_outcomes_on_the_case_page_chart_and_forms(client: TestClient, demo: None) -> None:
    sign_in(client, LEE)
    page = client.get(f"/cases/{CASE}").text
    assert 'id="outcomes"' in page and "No outcome measures yet." in page
    csrf = csrf_of(page)
    # Seven sections: refused next to the sections, what was typed kept.
    seven = {f"a{n}": "2" for n in range(7)}
    refused = client.post(f"/cases/{CASE}/outcomes", data={
        "csrf_token": csrf, "instrument": "odi", "collected_on": "2026-09-01",
        "timepoint": "baseline", **seven})
    assert refused.status_code == 422 and "At least 8" in refused.text
    assert field_value(refused.text, "a6") == "2"
    bad = client.post(f"/cases/{CASE}/outcomes", data={
        "csrf_token": csrf, "instrument": "odi", "collected_on": "2026-09-01", "a3": "9"})
    assert bad.status_code == 422
    assert "Section 4 is scored 0 to 5." in (field_error(bad.text, "a3") or "")
    ok = client.post(f"/cases/{CASE}/outcomes", data={
        "csrf_token": csrf, "instrument": "odi", "collected_on": "2026-09-01",
        "timepoint": "baseline", **seven, "a7": "1"}, follow_redirects=True)
    assert "Outcome recorded." in ok.text
    later = client.post(f"/cases/{CASE}/outcomes", data={
        "csrf_token": csrf, "instrument": "odi", "collected_on": "2026-11-20", "score": "20"},
        follow_redirects=True)
    assert '<svg viewBox="0 0 560 220" role="img"' in later.text
    assert "Latest 20.0" in later.text and "down 17.5 from baseline 37.5" in later.text
    assert "a clinically important improvement." in later.text
    assert later.text.count('class="point"') == 2
    link = client.post(f"/cases/{CASE}/outcome-links", data={
        "csrf_token": csrf, "instruments": ["odi", "nrs_back"]})
    assert link.status_code == 200
    address = re.search(r'id="outcome-link" class="mono" readonly value="[^"]*(/outcomes/[^"]+)"',
                        link.text)
    assert address and client.get(address.group(1)).status_code == 200
    none = client.post(f"/cases/{CASE}/outcome-links", data={"csrf_token": csrf})
    assert none.status_code == 422 and "at least one questionnaire" in none.text
