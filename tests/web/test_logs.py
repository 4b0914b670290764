import logging

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
