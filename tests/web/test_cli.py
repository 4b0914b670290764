import io
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from tests.databases import PostgresDatabases
from tests.ports import free_port
from web.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CASEBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'cb.db'}")
    monkeypatch.delenv("CASEBRIDGE_SECRET_KEY", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(args))
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_db_upgrade(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "up to date" in out
    assert (env / "cb.db").exists() and (env / "cb.secret").exists()
    assert oct((env / "cb.secret").stat().st_mode)[-3:] == "600"


def test_cli_users_add_prints_id(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "users", "add", "dr.lee@clinic.org", "--name", "Dr. Lee",
                         "--role", "specialist", "--specialty", "pain_medicine",
                         "--password-stdin", stdin="a long passphrase\n")
    assert (code, err) == (0, "")
    assert out.strip().isdigit()


def test_cli_users_add_duplicate_is_one_line_exit_1(env: Path, capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    args = ("users", "add", "a@b.org", "--name", "A", "--role", "admin", "--password-stdin")
    assert run(capsys, *args, stdin="a long passphrase\n")[0] == 0
    code, _, err = run(capsys, *args, stdin="a long passphrase\n")
    assert code == 1 and err.count("\n") == 1 and "already uses a@b.org" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("args", "stdin", "needle"), [
    (("users", "add", "not-an-email", "--name", "A", "--role", "admin", "--password-stdin"),
     "a long passphrase\n", "not an email"),
    (("users", "add", "a@b.org", "--name", "A", "--role", "specialist", "--password-stdin"),
     "a long passphrase\n", "specialty"),
    (("users", "add", "a@b.org", "--name", "A", "--role", "admin", "--password-stdin"),
     "short\n", "10 characters"),
    (("users", "add", "a@b.org", "--name", "A", "--role", "admin", "--password-stdin"),
     "", "No password"),
])
def test_cli_users_add_bad_input_exit_2(env: Path, capsys: pytest.CaptureFixture[str],
                                        args: tuple[str, ...], stdin: str, needle: str) -> None:
    code, _, err = run(capsys, *args, stdin=stdin)
    assert code == 2 and needle in err and err.count("\n") == 1


def test_cli_bad_usage_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["users", "add", "a@b.org", "--role", "wizard"])
    assert exit_info.value.code == 2


def test_cli_demo_loads_once(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "coordinator@casebridge.example" in out
    code, _, err = run(capsys, "demo")
    assert code == 2 and "empty database" in err


def test_cli_unreachable_database_exit_1(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CASEBRIDGE_DATABASE_URL",
                       "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    monkeypatch.setenv("CASEBRIDGE_SECRET_KEY", "x" * 32)
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 1 and err.startswith("casebridge: cannot reach the database")
    assert err.count("\n") == 1


def test_cli_bad_ice_servers_exit_2(env: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CASEBRIDGE_ICE_SERVERS", '[{"url": "stun:x"}]')
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 2 and "CASEBRIDGE_ICE_SERVERS" in err




@pytest.mark.parametrize(("name", "value"), [
    ("CASEBRIDGE_SMTP_URL", "mail.hospital.example:25"),
    ("CASEBRIDGE_SMTP_URL", "smtp://mail.hospital.example:notaport"),
    ("CASEBRIDGE_PUBLIC_URL", "casebridge.hospital.example"),
    ("CASEBRIDGE_OIDC_ISSUER", "https://login.hospital.example"),  # no client id
    ("CASEBRIDGE_MAIL_FROM", "Casebridge <cb@hospital.example>"),
    ("CASEBRIDGE_LOG_FORMAT", "xml"),
    ("CASEBRIDGE_ROOM_CAPACITY", "1"),
    ("CASEBRIDGE_FORWARD", "rtp"),
    ("CASEBRIDGE_TURN_URLS", "turn:turn.hospital.example:3478"),  # no secret
    ("CASEBRIDGE_TURN_SECRET", "s3cret"),  # no URLs
    ("CASEBRIDGE_ICE_TRANSPORT_POLICY", "relay"),  # no relay configured
    ("CASEBRIDGE_DICOMWEB_URL", "https://pacs.hospital.example/dicom-web"),  # no viewer
    ("CASEBRIDGE_VIEWER", "javascript:{study_uid}"),
])
def test_cli_bad_mail_or_sign_in_settings_exit_2_with_one_line(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "serve")
    assert code == 2 and name in err and len(err.strip().splitlines()) == 1


def test_cli_serve_demo_answers_on_localhost(env: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--demo", "--port", str(port)],
        env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                response = httpx2.get(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not answer")
        assert response.status_code == 200 and 'name="password"' in response.text
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as c:
            assert c.get("/healthz").json() == {"status": "ok", "database": "ok",
                                               "redis": "not_configured"}
            c.get("/cases/1?token=supersecret-guest-token")
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert "okafor@casebridge.example" in output
    assert "token=[redacted]" in output and "supersecret" not in output  # access log
    # No mail server in the demo: its mail goes to the log, labelled, never as sent mail.
    assert "DEMO MAIL, NOT SENT (no CASEBRIDGE_SMTP_URL)" in output
    assert f"http://127.0.0.1:{port}/" in output.split("DEMO MAIL", 1)[1]


@pytest.mark.postgres
def test_cli_upgrade_and_demo_on_postgresql(postgres_databases: PostgresDatabases,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CASEBRIDGE_DATABASE_URL", postgres_databases.empty())
    monkeypatch.setenv("CASEBRIDGE_SECRET_KEY", "x" * 32)
    assert run(capsys, "db", "upgrade")[0] == 0
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "okafor@casebridge.example" in out
    code, out, _ = run(capsys, "users", "add", "it@hospital.example", "--name", "IT Desk",
                       "--role", "admin", "--password-stdin", stdin="a long passphrase\n")
    assert code == 0 and int(out) > 9


def test_cli_postgresql_needs_a_shared_secret(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CASEBRIDGE_DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    monkeypatch.delenv("CASEBRIDGE_SECRET_KEY", raising=False)
    code, _, err = run(capsys, "db", "upgrade")
    assert code == 2 and "CASEBRIDGE_SECRET_KEY" in err
