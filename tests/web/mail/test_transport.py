"""The three ways to a mail server that CASEBRIDGE_SMTP_URL names: plain, STARTTLS with
credentials, and TLS from the first byte; and a server that refuses the credentials."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.mailbox import smtp_server
from web.mailer import failure, smtp_transport
from web.settings import SmtpServer
from web.settings import smtp_server as parse_smtp


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _contexts(certificate: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(*certificate)
    client = ssl.create_default_context(cafile=str(certificate[0]))
    return server, client


def _check(_server: Any, _session: Any, _envelope: Any, mechanism: str,
           data: Any) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"casebridge", b"pa:ss word")
    return AuthResult(success=good, handled=False)


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = (
        "casebridge@hospital.example", "okafor@hospital.example", "Invitation: board")
    message.set_content("Hello.")
    return message


@pytest.fixture
def starttls(certificate: tuple[Path, Path]) -> Iterator[tuple[Any, int, ssl.SSLContext]]:
    server_ctx, client_ctx = _contexts(certificate)
    with smtp_server(tls_context=server_ctx, require_starttls=True, authenticator=_check,
                     auth_required=True, auth_require_tls=True,
                     auth_exclude_mechanism=["LOGIN"]) as (box, port):
        yield box, port, client_ctx


def test_starttls_with_credentials(starttls: tuple[Any, int, ssl.SSLContext]) -> None:
    box, port, context = starttls
    url = f"smtp+starttls://casebridge:pa%3Ass%20word@localhost:{port}"
    smtp_transport(parse_smtp(url) or pytest.fail(), context=context)(_message())
    assert [m["Subject"] for m in box.wait_for(1)] == ["Invitation: board"]


def test_wrong_credentials_are_a_passing_failure(
        starttls: tuple[Any, int, ssl.SSLContext]) -> None:
    box, port, context = starttls
    server = SmtpServer("localhost", port, "starttls", "casebridge", "wrong")
    with pytest.raises(Exception) as refused:
        smtp_transport(server, context=context)(_message())
    words, permanent = failure(refused.value)
    # The configuration is wrong, not this mail: it waits until an admin fixes it.
    assert "credentials" in words and not permanent
    assert not box.messages


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_tls_from_the_start(certificate: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = _contexts(certificate)
    # aiosmtpd does not see its implicit TLS as TLS for AUTH: it is, from the first byte.
    with smtp_server(ssl_context=server_ctx, authenticator=_check, auth_required=True,
                     auth_require_tls=False) \
            as (box, port):
        url = f"smtps://casebridge:pa%3Ass%20word@localhost:{port}"
        smtp_transport(parse_smtp(url) or pytest.fail(), context=client_ctx)(_message())
        assert [m["Subject"] for m in box.wait_for(1)] == ["Invitation: board"]


def test_an_untrusted_certificate_is_refused(certificate: tuple[Path, Path]) -> None:
    server_ctx, _ = _contexts(certificate)
    with smtp_server(ssl_context=server_ctx) as (box, port):
        with pytest.raises(ssl.SSLError) as refused:
            smtp_transport(SmtpServer("localhost", port, "tls"))(_message())
        assert not failure(refused.value)[1]
        assert not box.messages
