"""Charter under load, crashes and hostile connections, against a real release build on loopback.

Usage: soak.py CHARTER_BINARY [--minutes M] [--crashes N] [--phases load,crash,connections]

1. Load: M minutes (default 10) of mixed traffic from wrk (mints, key creation and revocation,
   audit reads) at the highest rate it reaches; no 5xx, only expected statuses, resident memory at
   the end within 10% of after warm-up, and the audit chain verifies afterwards.
2. Crashes: N times (default 20) `kill -9` the server at a random moment under load and restart it;
   every key creation and every mint a client saw acknowledged must have its record, SQLite's
   integrity_check must pass and the audit chain must verify.
3. Connections: a client sending its headers a byte at a time is cut off, 2,000 idle connections
   do not stop the server answering, and a 10 MB body is refused with 413.

Prints a summary table; exits 1 if anything failed.
"""

import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import charter_api

charter = sys.argv[1]
minutes = float(sys.argv[sys.argv.index("--minutes") + 1]) if "--minutes" in sys.argv else 10
crashes = int(sys.argv[sys.argv.index("--crashes") + 1]) if "--crashes" in sys.argv else 20
phases = sys.argv[sys.argv.index("--phases") + 1].split(",") if "--phases" in sys.argv else [
    "load", "crash", "connections"]
rows = []  # (check, figure, passed)


def record(check, figure, passed):
    rows.append((check, figure, passed))
    print(f"{'ok  ' if passed else 'FAIL'} {check}: {figure}", flush=True)


class Server:
    """`charter serve` on a free port over the SQLite file in `directory`."""

    def __init__(self, directory):
        self.directory = directory
        self.database = os.path.join(directory, "charter.db")
        self.owner = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [charter, "serve", "--database", self.database, "--port", "0", "--log-level", "error"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 60
        self.base = None
        while time.time() < deadline and self.base is None:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.strip().startswith("chr_live_"):
                self.owner = line.strip()
            match = re.match(r"charter listening on (http://\S+)", line)
            if match:
                self.base = match.group(1)
        if self.base is None:
            raise SystemExit("charter serve did not start")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])

    def call(self, method, path, body=None, key=None, timeout=10):
        return charter_api.call(self.base + path, method, key or self.owner, body, timeout)

    def setup(self):
        """An envelope for minting; returns the console app's id."""
        app = self.call("GET", "/v1/apps")[1]["apps"][0]["id"]
        self.call("POST", "/v1/envelopes", {
            "app_id": app, "name": f"soak-{random.randrange(10**9)}",
            "capabilities": {"mailto:*": {"email/send": [{}]}}, "max_ttl_seconds": 900})
        return app

    def verify_audit(self):
        result = subprocess.run([charter, "audit", "verify", "--database", self.database],
                                capture_output=True, text=True)
        return result.returncode == 0, (result.stdout + result.stderr).strip()


MINT = {"audience": "did:key:z6MkpTYBshrFQiBoTeZfWt8V59oCZ9np6dQJSFgBhJti3nnV",
        "capabilities": {"mailto:a@example.com": {"email/send": [{}]}}, "ttl_seconds": 300}

WRK_SCRIPT = r"""
-- Mixed traffic: 7 mints, 1 key creation, 1 revocation of a key this thread created, 1 audit read.
-- statuses and id are globals, so the main thread can read and set them (thread:get / thread:set).
local counter, created = 0, {}
statuses, id = {}, 0
local owner, app = os.getenv("SOAK_OWNER"), os.getenv("SOAK_APP")
local headers = {["Authorization"] = "Bearer " .. owner, ["Content-Type"] = "application/json"}
local mint = os.getenv("SOAK_MINT")
local threads = {}
function setup(thread) table.insert(threads, thread); thread:set("id", #threads) end
function request()
  counter = counter + 1
  local slot = counter % 10
  if slot == 0 and #created > 0 then
    return wrk.format("POST", "/v1/keys/" .. table.remove(created, 1) .. "/revoke", headers, "")
  elseif slot == 1 then
    return wrk.format("POST", "/v1/keys", headers,
      '{"app_id":"' .. app .. '","label":"soak-' .. id .. '-' .. counter .. '","role":"member"}')
  elseif slot == 2 then
    return wrk.format("GET", "/v1/audit?limit=20", headers)
  end
  return wrk.format("POST", "/v1/authorize", headers, mint)
end
function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 201 then
    local found = body:match('"id":"(key_[%w]+)"')
    if found then table.insert(created, found) end
  end
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(total) do table.insert(parts, '"' .. status .. '":' .. count) end
  io.write("STATUSES {" .. table.concat(parts, ",") .. "}\n")
end
"""


def load_phase():
    directory = tempfile.mkdtemp(prefix="charter-soak-")
    server = Server(directory)
    app = server.setup()
    script = os.path.join(directory, "mixed.lua")
    with open(script, "w") as file:
        file.write(WRK_SCRIPT)
    seconds = int(minutes * 60)
    environment = dict(os.environ, SOAK_OWNER=server.owner, SOAK_APP=app, SOAK_MINT=json.dumps(MINT))
    wrk = subprocess.Popen(["wrk", "-t", "2", "-c", "32", "-d", f"{seconds}s", "--latency", "-s", script,
                            server.base], stdout=subprocess.PIPE, text=True, env=environment)
    samples = []
    started = time.time()
    while wrk.poll() is None:
        time.sleep(5)
        if wrk.poll() is None:
            samples.append((time.time() - started, server.rss_kib()))
    output = wrk.stdout.read()
    server.stop()
    statuses = json.loads(re.search(r"STATUSES (\{.*\})", output).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    # The latency distribution line, not a percentage that happens to end in 99 (e.g. "+/- Stdev 89.99%").
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE).group(1)
    total = sum(statuses.values())
    errors = {status: count for status, count in statuses.items() if status not in ("200", "201")}
    server_errors = sum(count for status, count in statuses.items() if status.startswith("5"))
    warm = next((rss for at, rss in samples if at >= min(60, seconds / 5)), samples[0][1])
    end = samples[-1][1]
    growth = (end - warm) / warm * 100
    record("load: requests", f"{total:,} in {seconds}s, {rate:,.0f} req/s, p99 {p99}", total > 0)
    record("load: 5xx responses", str(server_errors), server_errors == 0)
    record("load: other errors", json.dumps(errors) if errors else "none", not errors)
    record("load: RSS after warm-up → end", f"{warm / 1024:.1f} MiB → {end / 1024:.1f} MiB ({growth:+.1f}%)",
           abs(growth) <= 10)
    verified, message = server.verify_audit()
    record("load: audit chain", message, verified)


def crash_phase():
    directory = tempfile.mkdtemp(prefix="charter-crash-")
    server = Server(directory)
    app = server.setup()
    acknowledged_keys, acknowledged_tokens = [], []
    lock = threading.Lock()
    for round_number in range(crashes):
        stop = threading.Event()

        def client(worker):
            counter = 0
            while not stop.is_set():
                counter += 1
                try:
                    status, body = server.call("POST", "/v1/keys", {
                        "app_id": app, "label": f"crash-{round_number}-{worker}-{counter}", "role": "member"},
                        timeout=5)
                    if status == 201:
                        with lock:
                            acknowledged_keys.append(body["api_key"]["id"])
                    status, body = server.call("POST", "/v1/authorize", MINT, timeout=5)
                    if status == 200:
                        with lock:
                            acknowledged_tokens.append(body["cid"])
                except (OSError, urllib.error.URLError, ValueError):
                    pass  # the server died mid-request: nothing was acknowledged

        workers = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for worker in workers:
            worker.start()
        time.sleep(random.uniform(0.3, 2.0))
        server.kill()
        stop.set()
        for worker in workers:
            worker.join()
        server.start()
    database = sqlite3.connect(server.database)
    known_keys = {row[0] for row in database.execute("SELECT id FROM api_keys")}
    known_tokens = {row[0] for row in database.execute("SELECT cid FROM minted_tokens")}
    audited = {row[0] for row in database.execute(
        "SELECT target FROM audit_records WHERE action IN ('key.create', 'token.mint')")}
    integrity = database.execute("PRAGMA integrity_check").fetchone()[0]
    database.close()
    server.stop()
    lost_keys = [k for k in acknowledged_keys if k not in known_keys or k not in audited]
    lost_tokens = [c for c in acknowledged_tokens if c not in known_tokens or c not in audited]
    record("crash: kill -9 under load", f"{crashes} times", True)
    record("crash: acknowledged key creations kept",
           f"{len(acknowledged_keys) - len(lost_keys)}/{len(acknowledged_keys)}", not lost_keys)
    record("crash: acknowledged mints kept", f"{len(acknowledged_tokens) - len(lost_tokens)}/{len(acknowledged_tokens)}",
           not lost_tokens)
    record("crash: PRAGMA integrity_check", integrity, integrity == "ok")
    verified, message = server.verify_audit()
    record("crash: audit chain", message, verified)


def connection_phase():
    directory = tempfile.mkdtemp(prefix="charter-conn-")
    server = Server(directory)
    host, port = server.base.replace("http://", "").split(":")
    port = int(port)

    slow = socket.create_connection((host, port))
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    started = time.time()
    closed_after = None
    while time.time() - started < 40:
        try:
            slow.sendall(b"X-Slow: a\r\n")
            slow.settimeout(2)
            if slow.recv(1) == b"":
                closed_after = time.time() - started
                break
        except socket.timeout:
            continue
        except OSError:
            closed_after = time.time() - started
            break
    slow.close()
    record("connections: headers a line every 2 s (slowloris)",
           f"closed after {closed_after:.1f}s" if closed_after else "still open after 40 s",
           closed_after is not None and closed_after < 30)

    idle = []
    for _ in range(2000):
        try:
            idle.append(socket.create_connection((host, port), timeout=5))
        except OSError:
            break
    started = time.time()
    status, _ = server.call("GET", "/v1/me")
    answered = time.time() - started
    record("connections: 2,000 idle connections open", f"{len(idle)} opened, /v1/me {status} in {answered * 1000:.0f} ms",
           status == 200 and answered < 2)
    for connection in idle:
        connection.close()

    big = b'{"label":"' + b"x" * (10 * 1024 * 1024) + b'"}'
    request = urllib.request.Request(server.base + "/v1/keys", data=big, method="POST")
    request.add_header("Authorization", f"Bearer {server.owner}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            code = response.status
    except urllib.error.HTTPError as error:
        code = error.code
    except (OSError, urllib.error.URLError):
        code = "closed"
    record("connections: 10 MB body", str(code), code == 413 or code == "closed")
    status, _ = server.call("GET", "/v1/me")
    record("connections: still serving afterwards", str(status), status == 200)
    server.stop()


for phase in phases:
    {"load": load_phase, "crash": crash_phase, "connections": connection_phase}[phase]()

width = max(len(check) for check, _, _ in rows)
print("\n" + "check".ljust(width) + "  result  figure")
for check, figure, passed in rows:
    print(check.ljust(width) + ("  pass    " if passed else "  FAIL    ") + figure)
sys.exit(0 if all(passed for _, _, passed in rows) else 1)
