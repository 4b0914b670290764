"""The rural clinician hears of her request without checking; coordinators hear of new
requests; no notification carries clinical text."""

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.factories import hold_demo
from tests.web.api.conftest import Headers


def _inbox(client: TestClient, headers: Headers) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get("/api/v1/notifications", headers=headers).json()
    return items


def test_each_step_of_a_request_is_told(client: TestClient, app: Starlette,
                                        auth: Callable[[str], Headers], conference_id: int,
                                        people: dict[str, int]) -> None:
    # The demo's own history: Hale's two requests reached the coordinators, one was
    # scheduled (she was told when and where).
    coordinator = _inbox(client, auth("coordinator"))
    assert [n["text"] for n in coordinator] == [
        "New second-opinion request for RRC-88530 from Dr. Martha Hale (Ridgeview Rural "
        "Clinic).",
        "New second-opinion request for RRC-88412 from Dr. Martha Hale (Ridgeview Rural "
        "Clinic)."]
    hale = _inbox(client, auth("hale"))
    assert len(hale) == 1 and str(hale[0]["text"]).startswith(
        "Your request for RRC-88412 is on the agenda of Weekly multidisciplinary")
    declined = client.post("/api/v1/requests/2/decline", headers=auth("coordinator"),
                           json={"reason": "Needs an MRI first: weakness 4/5 L5."})
    assert declined.status_code == 200, declined.text
    told = _inbox(client, auth("hale"))[0]
    assert told["text"] == ("Your request for RRC-88530 was declined; the reason is on the "
                            "request's page.")
    assert "MRI" not in str(told["text"])
    # The decision signed: the letter is ready.
    hold_demo(app)
    item = client.get("/api/v1/requests/1", headers=auth("hale")).json()["agenda_item_id"]
    url = f"/api/v1/agenda-items/{item}/decision"
    client.put(url, headers=auth("okafor"), json={
        "outcome": "physical_therapy", "rationale": "Improving.", "plan": "PT six weeks.",
        "follow_up_weeks": 6, "present_user_ids": [people["okafor"]], "version": 0})
    assert client.post(f"{url}/sign", headers=auth("okafor")).status_code == 200
    letter = _inbox(client, auth("hale"))[0]
    assert letter["text"] == "The panel's decision on RRC-88412 is signed: the letter is ready."
    assert letter["link"] == "/requests/1/letter"
