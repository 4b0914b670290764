import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2

from tests.ports import free_port
from web.logs import RedactTokens, install, redact


def test_logs_redact_tokens_in_paths() -> None:
    assert redact("/ws/conferences/1?token=abc.def-ghi") == "/ws/conferences/1?token=[redacted]"
    assert redact("/cases/3?a=1&token=xyz&b=2") == "/cases/3?a=1&token=[redacted]&b=2"
    assert redact("/cases/3?access_token=s3cret") == "/cases/3?access_token=[redacted]"
    assert redact("/cases/3?mytoken=keep") == "/cases/3?mytoken=keep"


def test_logs_filter_rewrites_uvicorn_access_records() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/cases/1?token=abc", "1.1", 200), None)
    assert RedactTokens().filter(record)
    assert "abc" not in record.getMessage() and "token=[redacted]" in record.getMessage()


def test_logs_install_is_idempotent() -> None:
    install()
    install()
    filters = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, RedactTokens) for f in filters) == 1


def test_json_logs_one_line_a_request_with_its_id(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--port", str(port)],
        env={**os.environ, "CASEBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cb.db'}",
             "CASEBRIDGE_LOG_FORMAT": "json"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx2.get(f"http://127.0.0.1:{port}/login?token=s3cret-guest",
                                    headers={"X-Request-ID": "trace-0123456789"}, timeout=1)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert answer.headers["x-request-id"] == "trace-0123456789"
        mine = httpx2.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "x y"})
        assert len(mine.headers["x-request-id"]) == 32  # not a sane id: a new one
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0]
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(e) for e in lines)
    request = next(e for e in lines if e.get("request_id") == "trace-0123456789"
                   and e["logger"] == "casebridge.request")
    assert request["path"] == "/login" and request["status"] == 200
    assert request["method"] == "GET" and request["duration_ms"] >= 0
    assert "s3cret-guest" not in output
    assert not [line for line in output.splitlines()
                if line.strip() and not line.startswith("{") and "Casebridge is serving" not in line
                and "Database" not in line]
