"""Private PostgreSQL, Redis and coturn servers on free ports, for tests that stop them.

The shared servers (127.0.0.1:5432, :6379) are never stopped by a test; a test
that needs an outage starts its own here and stops it (PostgreSQL runs as the
``postgres`` user, as ``initdb`` refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from aioice import stun

from tests.ports import free_port


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return found[-1]


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@dataclass
class PrivatePostgres:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        subprocess.run(_as_postgres(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.data / "log"),
            "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start"),
            check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(_as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-m",
                                    "immediate", "stop"), check=False, capture_output=True)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="cb-pg-"))
    shutil.chown(folder, "postgres") if os.geteuid() == 0 else None
    data = folder / "data"
    subprocess.run(_as_postgres(_pg_bin("initdb"), "-D", str(data), "-A", "trust",
                                "-U", "postgres"), check=True, capture_output=True)
    server = PrivatePostgres(data, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Coturn:
    """A private coturn relay on loopback with TURN REST credentials (use-auth-secret)."""

    port: int
    secret: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def answers(self) -> bool:
        """Whether it answers a STUN Binding request (RFC 8489) on its port."""
        request = stun.Message(message_method=stun.Method.BINDING,
                               message_class=stun.Class.REQUEST)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.settimeout(0.1)
            probe.sendto(bytes(request), ("127.0.0.1", self.port))
            try:
                return stun.parse_message(probe.recv(2048)).transaction_id == \
                    request.transaction_id
            except (TimeoutError, ValueError):
                return False


@contextmanager
def private_coturn(secret: str) -> Iterator[Coturn]:
    """coturn on 127.0.0.1 relaying between loopback peers only, for tests."""
    with tempfile.TemporaryDirectory() as folder:
        server = Coturn(free_port(), secret)
        relay_ports = free_port()  # a start; coturn takes the range after it
        server.process = subprocess.Popen(
            ["turnserver", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
             f"--listening-port={server.port}", "--use-auth-secret",
             f"--static-auth-secret={secret}", "--realm=casebridge.test",
             "--allow-loopback-peers", "--no-tls", "--no-dtls", "--no-cli", "--no-tcp-relay",
             f"--min-port={relay_ports}", f"--max-port={relay_ports + 200}",
             f"--pidfile={folder}/turn.pid", f"--userdb={folder}/turn.db"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if server.answers():
                    break
            else:
                raise RuntimeError("coturn did not start")
            yield server
        finally:
            server.process.kill()
            server.process.wait()


ORTHANC_DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"


@dataclass
class Orthanc:
    """A private Orthanc archive with its DICOMweb plugin, behind HTTP basic auth."""

    port: int
    username: str
    password: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb_url(self) -> str:
        """With the credentials, as CASEBRIDGE_DICOMWEB_URL carries them."""
        return f"http://{self.username}:{self.password}@127.0.0.1:{self.port}/dicom-web"

    def upload(self, dicom: bytes) -> None:
        import httpx2

        response = httpx2.post(f"{self.root}/instances", content=dicom,
                               auth=(self.username, self.password), timeout=10)
        response.raise_for_status()


@contextmanager
def private_orthanc() -> Iterator[Orthanc]:
    """Orthanc on 127.0.0.1 (no DICOM port), storing in a temporary folder."""
    import json

    import httpx2

    with tempfile.TemporaryDirectory() as folder:
        server = Orthanc(free_port(), "casebridge", "archive-password")
        config = {
            "Name": "casebridge-test", "HttpPort": server.port, "DicomServerEnabled": False,
            "StorageDirectory": folder, "IndexDirectory": folder,
            "RemoteAccessAllowed": False, "AuthenticationEnabled": True,
            "RegisteredUsers": {server.username: server.password},
            "Plugins": [ORTHANC_DICOMWEB_PLUGIN],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }
        path = Path(folder) / "orthanc.json"
        path.write_text(json.dumps(config))
        server.process = subprocess.Popen(["Orthanc", str(path)], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    if httpx2.get(f"{server.root}/system", timeout=1,
                                  auth=(server.username, server.password)).status_code == 200:
                        break
                except httpx2.HTTPError:
                    pass
                time.sleep(0.05)
            else:
                raise RuntimeError("Orthanc did not start")
            yield server
        finally:
            server.process.kill()
            server.process.wait()
