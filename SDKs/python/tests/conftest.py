"""A real `charter serve` on loopback for the whole session, and helpers that drive it over HTTP with the owner key."""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from charter_sdk import SigningKey


def charter_binary() -> str:
    configured = os.environ.get("CHARTER")
    if configured:
        return configured
    # Only reads where `swift build` puts the binary; building is the Makefile's job.
    path = subprocess.run(["swift", "build", "--show-bin-path"], capture_output=True, text=True, check=True,
                          cwd=os.path.join(os.path.dirname(__file__), "..", "..", "..")).stdout.strip()
    return os.path.join(path, "charter")


CHARTER = charter_binary()


class Server:
    """`charter serve` on a temporary SQLite database and a free port, its output drained (as scripts/interop.py)."""

    def __init__(self, directory: str) -> None:
        self.process = subprocess.Popen(
            [CHARTER, "serve", "--database", "sqlite:" + os.path.join(directory, "charter.db"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.url = ""
        self.owner = ""
        started = threading.Event()

        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.lines.append(line)
                if line.strip().startswith("chr_live_") and not self.owner:
                    self.owner = line.strip()
                if line.startswith("charter listening on http://"):
                    self.url = line.split(" on ", 1)[1].strip()
                    started.set()
            started.set()

        threading.Thread(target=drain, daemon=True).start()
        if not started.wait(60) or not self.url or not self.owner:
            self.stop()
            raise RuntimeError("charter serve did not start:\n" + "".join(self.lines))
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def call(self, method: str, path: str, body: Any = None, key: str | None = None,
             params: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key or self.owner}"}
        response = self.http.request(method, path, json=body, headers=headers, params=params)
        return response.status_code, response.json() if response.content else {}

    def ok(self, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        status, answer = self.call(method, path, body, key)
        assert 200 <= status < 300, (status, answer)
        return answer

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="charter-python-sdk-") as directory:
        running = Server(directory)
        try:
            yield running
        finally:
            running.http.close()
            running.stop()


@dataclass
class Tenant:
    """A fresh app of the owner's organization, its envelope, and an agent key for it."""

    server: Server
    org: str
    app: str
    environment: str
    envelope: str = ""
    key: str = ""
    key_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def add_envelope(self, capabilities: Any = None, commands: Any = None, max_ttl: int = 600,
                     audiences: dict[str, str] | None = None) -> str:
        """A new envelope for the app; `audiences` maps the resource URLs of services to their DIDs."""
        body: dict[str, Any] = {"app_id": self.app, "name": f"env-{time.monotonic_ns()}", "max_ttl_seconds": max_ttl}
        if capabilities is not None:
            body["capabilities"] = capabilities
        if commands is not None:
            body["commands"] = commands
        if audiences is not None:
            body["audiences"] = audiences
        self.envelope = self.server.ok("POST", "/v1/envelopes", body)["id"]
        return self.envelope

    def add_key(self, role: str = "agent") -> tuple[str, str]:
        issued = self.server.ok("POST", "/v1/keys", {"app_id": self.app, "label": f"agent-{time.monotonic_ns()}",
                                                     "role": role})
        self.key, self.key_id = issued["key"], issued["api_key"]["id"]
        return self.key, self.key_id

    def audited(self, action: str = "token.mint", outcome: str = "success", key_id: str | None = None) -> int:
        """How many audit records of `action` with `outcome` the key made."""
        status, page = self.server.call("GET", "/v1/audit", params={"action": action, "limit": 500})
        assert status == 200, page
        wanted = key_id or self.key_id
        return sum(1 for record in page["records"] if record["key_id"] == wanted and record["outcome"] == outcome)

    def revoke_envelope(self, envelope: str | None = None) -> None:
        self.server.ok("POST", f"/v1/envelopes/{envelope or self.envelope}/revoke")

    def revoke_token(self, cid: str) -> None:
        self.server.ok("POST", f"/v1/tokens/{cid}/revoke")


MAIL = {"mailto:*": {"email/send": [{}]}}
COMMANDS = {"/email/send": [["like", ".to", "*@example.com"]], "/calendar": [["==", ".calendar", "work"]]}


def make_tenant(server: Server, environment: str = "live", capabilities: Any = MAIL, commands: Any = COMMANDS,
                audiences: dict[str, str] | None = None, max_ttl: int = 600) -> Tenant:
    me = server.ok("GET", "/v1/me")
    app = server.ok("POST", "/v1/apps", {"name": f"app-{time.monotonic_ns()}", "environment": environment})["id"]
    tenant = Tenant(server, me["organization"]["id"], app, environment)
    tenant.add_envelope(capabilities, commands, max_ttl, audiences)
    tenant.add_key()
    return tenant


@pytest.fixture
def tenant(server: Server) -> Tenant:
    return make_tenant(server)


@pytest.fixture
def service() -> SigningKey:
    """The upstream service's own identity: its DID is the audience it accepts."""
    return SigningKey.generate()


class ManualClock:
    """A clock the test moves by hand; waits return as soon as it has been moved past their deadline.

    `deadlines` records every wait's deadline, so a test can tell when a background refresh has scheduled the
    next one (the moment its work is done) without sleeping for real.
    """

    def __init__(self, start: float | None = None) -> None:
        self.time = time.time() if start is None else start
        self.deadlines: list[float] = []
        self.condition = threading.Condition()

    def now(self) -> float:
        with self.condition:
            return self.time

    def advance(self, seconds: float) -> None:
        with self.condition:
            self.time += seconds
            self.condition.notify_all()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        with self.condition:
            deadline = self.time + seconds
            self.deadlines.append(deadline)
            self.condition.notify_all()
            while self.time < deadline and not stop.is_set():
                self.condition.wait(0.05)
            return stop.is_set()

    async def sleep(self, seconds: float) -> None:
        with self.condition:
            deadline = self.time + seconds
            self.deadlines.append(deadline)
        while self.now() < deadline:
            await asyncio.sleep(0.005)

    def deadline_after(self, moment: float, timeout: float = 30) -> float:
        """Blocks until some wait's deadline is later than `moment`, and returns it (bounded, never a pass/fail
        sleep: it returns as soon as the background work reaches its next wait)."""
        end = time.monotonic() + timeout
        with self.condition:
            while True:
                later = [deadline for deadline in self.deadlines if deadline > moment]
                if later:
                    return min(later)
                remaining = end - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no wait past {moment}")
                self.condition.wait(remaining)


class InstantClock:
    """The real time, but waits return at once; records what was waited, so backoff is checked without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def now(self) -> float:
        return time.time()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        if seconds > 10:  # a refresh, not a backoff: wait for real (until the client closes)
            return stop.wait(seconds)
        self.waits.append(seconds)
        return stop.is_set()

    async def sleep(self, seconds: float) -> None:
        if seconds > 10:
            await asyncio.sleep(seconds)
            return
        self.waits.append(seconds)
