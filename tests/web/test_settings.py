from pathlib import Path

import pytest

from web.settings import (
    DEFAULT_INSTITUTION,
    ConfigError,
    Institution,
    SmtpServer,
    load_settings,
    smtp_server,
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("CASEBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cb.db'}")
    for name in ("NAME", "ADDRESS", "PHONE"):
        monkeypatch.delenv(f"CASEBRIDGE_INSTITUTION_{name}", raising=False)
    return monkeypatch


def test_settings_institution_defaults_to_a_plain_name(env: pytest.MonkeyPatch) -> None:
    assert load_settings().institution == Institution(name=DEFAULT_INSTITUTION)


def test_settings_institution_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("CASEBRIDGE_INSTITUTION_NAME", " Lakeside General Hospital ")
    env.setenv("CASEBRIDGE_INSTITUTION_ADDRESS", "200 Shore Road | Lakeside ON;  K0A 1B0 |")
    env.setenv("CASEBRIDGE_INSTITUTION_PHONE", "+1 613 555 0100")
    assert load_settings().institution == Institution(
        name="Lakeside General Hospital", address="200 Shore Road\nLakeside ON\nK0A 1B0",
        phone="+1 613 555 0100")


def test_settings_institution_refuses_a_runaway_value(env: pytest.MonkeyPatch) -> None:
    env.setenv("CASEBRIDGE_INSTITUTION_PHONE", "1" * 301)
    with pytest.raises(ConfigError, match="CASEBRIDGE_INSTITUTION_PHONE"):
        load_settings()


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.hospital.example", SmtpServer("mail.hospital.example", 25, "plain")),
    ("smtp://127.0.0.1:2525", SmtpServer("127.0.0.1", 2525, "plain")),
    ("smtp+starttls://cb%40h:p%3Ass@mail.hospital.example:587",
     SmtpServer("mail.hospital.example", 587, "starttls", "cb@h", "p:ss")),
    ("smtps://cb:secret@mail.hospital.example", SmtpServer("mail.hospital.example", 465,
                                                           "tls", "cb", "secret")),
])
def test_smtp_url_forms(url: str, expected: SmtpServer) -> None:
    assert smtp_server(url) == expected


@pytest.mark.parametrize("url", ["mail.hospital.example", "http://mail:25", "smtp://",
                                 "smtp://h:99999", "smtp://:pw@h:25", "smtp://h:25/x?y=1"])
def test_smtp_url_refusals(url: str) -> None:
    with pytest.raises(ConfigError, match="CASEBRIDGE_SMTP_URL"):
        smtp_server(url)


def test_mail_and_sign_in_settings(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.smtp is None and settings.oidc is None and settings.public_url is None
    assert settings.link_base == "http://127.0.0.1:8000"
    env.setenv("CASEBRIDGE_PUBLIC_URL", "https://cb.hospital.example/")
    env.setenv("CASEBRIDGE_OIDC_ISSUER", "https://login.hospital.example/realms/staff")
    env.setenv("CASEBRIDGE_OIDC_CLIENT_ID", "casebridge")
    env.setenv("CASEBRIDGE_OIDC_CLIENT_SECRET", "s3cret")
    settings = load_settings()
    assert settings.link_base == "https://cb.hospital.example"
    assert settings.oidc is not None and settings.oidc.name == "single sign-on"
    assert "s3cret" not in repr(settings)
    env.delenv("CASEBRIDGE_OIDC_CLIENT_SECRET")
    with pytest.raises(ConfigError, match="CASEBRIDGE_OIDC_CLIENT_SECRET"):
        load_settings()


def test_fhir_patient_system(env: pytest.MonkeyPatch) -> None:
    env.delenv("CASEBRIDGE_FHIR_PATIENT_SYSTEM", raising=False)
    assert load_settings().fhir_patient_system == "urn:casebridge:patient-reference"
    env.setenv("CASEBRIDGE_FHIR_PATIENT_SYSTEM", "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14")
    assert load_settings().fhir_patient_system.startswith("urn:oid:1.2.840")
    for bad in ("patients", "https:no-slashes", "urn:with space"):
        env.setenv("CASEBRIDGE_FHIR_PATIENT_SYSTEM", bad)
        with pytest.raises(ConfigError, match="CASEBRIDGE_FHIR_PATIENT_SYSTEM"):
            load_settings()
