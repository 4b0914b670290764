"""A real OpenID provider for the single sign-on tests: panva's ``oidc-provider``
(OpenID Certified) under node, from ``tests/oidc`` (installed from the npm registry by
``scripts/prepare``, or here on first use). Each test gets its own provider process
on a free port, configured through the environment (see ``tests/oidc/provider.mjs``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx2

from tests.ports import free_port

FOLDER = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "casebridge"
CLIENT_SECRET = "casebridge-test-client-secret-0123456789"
ACCOUNTS = {
    "okafor": {"email": "okafor@casebridge.example", "email_verified": True,
               "name": "Dr. Amara Okafor"},
    "unverified": {"email": "brooks@casebridge.example", "email_verified": False,
                   "name": "Dr. Daniel Brooks"},
    "stranger": {"email": "stranger@elsewhere.example", "email_verified": True,
                 "name": "Someone Else"},
    "shouting": {"email": "OKAFOR@CaseBridge.example", "email_verified": True,
                 "name": "Dr. Amara Okafor"},
}


def install() -> None:
    """``npm install`` the provider once (a no-op when it is there)."""
    if not (FOLDER / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=FOLDER, check=True, capture_output=True, timeout=300)


@dataclass
class Provider:
    issuer: str
    redirect_uri: str
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@contextmanager
def identity_provider(redirect_uri: str, **env: str) -> Iterator[Provider]:
    install()
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="cb-oidc-", suffix=".log", delete=False)
    process = subprocess.Popen(
        ["node", "provider.mjs"], cwd=FOLDER, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PORT": str(port), "CLIENT_ID": CLIENT_ID,
                        "CLIENT_SECRET": CLIENT_SECRET, "REDIRECT_URI": redirect_uri,
                        "ACCOUNTS": json.dumps(ACCOUNTS), **env})
    try:
        issuer = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx2.get(f"{issuer}/.well-known/openid-configuration",
                              timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the identity provider did not start:\n"
                                   + Path(log.name).read_text())
            time.sleep(0.1)
        yield Provider(issuer, redirect_uri, Path(log.name))
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        os.unlink(log.name)


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_INPUT = re.compile(r"<input[^>]*>")
_NAME = re.compile(r'name="([^"]*)"')
_VALUE = re.compile(r'value="([^"]*)"')


def log_in(authorize_url: str, login: str, redirect_uri: str) -> str:
    """Walk the provider's own login and consent pages as a browser would (a client
    with cookies); returns the address it sends the browser back to (the callback)."""
    with httpx2.Client(follow_redirects=False, timeout=10) as browser:
        url = authorize_url
        response = browser.get(url)
        for _ in range(12):
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if url.startswith(redirect_uri):
                    return url
                response = browser.get(url)
                continue
            match = _FORM.search(response.text)
            assert match, f"no form on the provider's page ({url}):\n{response.text[:500]}"
            fields: dict[str, Any] = {}
            for tag in _INPUT.findall(match.group(2)):
                name, value = _NAME.search(tag), _VALUE.search(tag)
                if name:
                    fields[name.group(1)] = unescape(value.group(1)) if value else ""
            if "login" in fields:
                fields.update(login=login, password="any")
            url = urljoin(url, unescape(match.group(1)))
            response = browser.post(url, data=fields)
        raise AssertionError("the provider never sent the browser back")
