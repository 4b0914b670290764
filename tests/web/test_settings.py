from pathlib import Path

import pytest

from web.settings import DEFAULT_INSTITUTION, ConfigError, Institution, load_settings


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
