import pytest

from conference.errors import ImagingLinkRejected, InvalidInput
from conference.imaging import check_imaging_url, check_study_instance_uid


@pytest.mark.parametrize("url", [
    "https://pacs.example-hospital.org/viewer?study=1.2.3", "HTTPS://PACS.example.org/a",
])
def test_imaging_url_accepted(url: str) -> None:
    assert check_imaging_url(url) == url


@pytest.mark.parametrize("url", [
    "http://localhost:8042/ohif/viewer?StudyInstanceUIDs=1.2.3",
    "http://127.0.0.1/x", "http://[::1]:8080/x",
])
def test_imaging_url_loopback_http_only_in_development_or_allow_listed(url: str) -> None:
    """Security issue item 11: loopback links passed with the default settings."""
    with pytest.raises(ImagingLinkRejected) as err:
        check_imaging_url(url)
    assert err.value.reason == "insecure_scheme"
    assert check_imaging_url(url, allow_loopback_http=True) == url
    host = url.split("//")[1].split("/")[0].rsplit(":", 1)[0] if "[" not in url else "::1"
    assert check_imaging_url(url, allowed_hosts={host}) == url


@pytest.mark.parametrize(("url", "reason"), [
    ("javascript:alert(1)", "scheme_not_allowed"),
    ("data:text/html;base64,PHNjcmlwdD4=", "scheme_not_allowed"),
    ("ftp://pacs.example.org/study", "scheme_not_allowed"),
    ("file:///etc/passwd", "scheme_not_allowed"),
    ("pacs.example.org/study", "scheme_not_allowed"),
    ("http://pacs.example.org/study", "insecure_scheme"),
    ("https://user:secret@pacs.example.org/", "credentials_in_url"),
    ("https://user@pacs.example.org/", "credentials_in_url"),
    ("https:///nohost", "no_host"),
    ("https://pacs.example.org:notaport/", "malformed"),
    ("https://pacs.example.org/a b", "malformed"),
    ("", "empty"),
    ("https://pacs.example.org/" + "a" * 2100, "too_long"),
])
def test_imaging_url_rejected_with_reason(url: str, reason: str) -> None:
    with pytest.raises(ImagingLinkRejected) as err:
        check_imaging_url(url)
    assert err.value.reason == reason
    assert err.value.details == {"field": "url", "reason": reason}
    assert err.value.message


def test_imaging_url_loopback_http_can_be_turned_off() -> None:
    with pytest.raises(ImagingLinkRejected) as err:
        check_imaging_url("http://localhost/x", allow_loopback_http=False)
    assert err.value.reason == "insecure_scheme"


def test_imaging_url_host_allow_list() -> None:
    allowed = ["pacs.example.org"]
    assert check_imaging_url("https://PACS.example.org/x", allowed_hosts=allowed)
    with pytest.raises(ImagingLinkRejected) as err:
        check_imaging_url("https://evil.example.com/x", allowed_hosts=allowed)
    assert err.value.reason == "host_not_allowed"
    assert "pacs.example.org" in err.value.message


@pytest.mark.parametrize("uid", ["1.2.840.113619.2.55.3", "2.25.0"])
def test_study_uid_accepted(uid: str) -> None:
    assert check_study_instance_uid(uid) == uid


@pytest.mark.parametrize("uid", ["1.02.3", "abc", "1", "1.2." + "3" * 70, "1..2", ""])
def test_study_uid_rejected(uid: str) -> None:
    with pytest.raises(InvalidInput):
        check_study_instance_uid(uid)
