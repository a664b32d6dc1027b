"""How fast the Python SDK's hot paths are, in one run:

- `Verifier.verify` of a Charter-minted root token (the whole offline check: freshness, parse cache, signature,
  times, trusted issuer and organization, revocation, capability) per second, beside PyNaCl's raw
  `VerifyKey.verify` of the same signed bytes with the same signature per second, and their ratio (goal: ≥ 0.7);
- cached `Client.token()` calls per second (the token is minted once; every call after that is the cache).

    CHARTER=path/to/charter .build/python-sdk-venv/bin/python SDKs/python/bench.py [--seconds 1] [--rounds 5]

It starts its own `charter serve` on loopback (a temporary SQLite database, port 0), as the tests do, unless
--server and --key name a running one and an agent key of an app whose envelope grants email/send on mailto:*.
Each figure is the median of `--rounds` timed rounds of `--seconds`, the rounds of the three loops interleaved so
that a slower moment of the machine weighs on all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import nacl
import nacl.signing

from charter_sdk import Capability, Client, SigningKey, Verifier
from charter_sdk._crypto import public_key_of

MAIL: dict[str, dict[str, list[dict[str, object]]]] = {"mailto:*": {"email/send": [{}]}}


@contextmanager
def charter_serve(binary: str) -> Iterator[tuple[str, str]]:
    """(url, owner key) of a fresh `charter serve`, stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="charter-python-bench-") as directory:
        process = subprocess.Popen(
            [binary, "serve", "--database", "sqlite:" + os.path.join(directory, "charter.db"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        found: dict[str, str] = {}
        lines: list[str] = []
        started = threading.Event()

        def drain() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.strip().startswith("chr_live_") and "owner" not in found:
                    found["owner"] = line.strip()
                if line.startswith("charter listening on http://"):
                    found["url"] = line.split(" on ", 1)[1].strip()
                    started.set()
            started.set()

        threading.Thread(target=drain, daemon=True).start()
        try:
            if not started.wait(60) or "url" not in found or "owner" not in found:
                raise RuntimeError("charter serve did not start:\n" + "".join(lines))
            yield found["url"], found["owner"]
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=30)


def agent_key(url: str, owner: str) -> tuple[str, str]:
    """(org, agent key) of a new app whose envelope grants email/send on mailto:*."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {owner}"}, timeout=30) as http:
        def ok(method: str, path: str, body: Any = None) -> Any:
            answer = http.request(method, path, json=body)
            answer.raise_for_status()
            return answer.json()

        org = ok("GET", "/v1/me")["organization"]["id"]
        app = ok("POST", "/v1/apps", {"name": f"bench-{time.monotonic_ns()}", "environment": "live"})["id"]
        ok("POST", "/v1/envelopes", {"app_id": app, "name": "bench", "max_ttl_seconds": 3600, "capabilities": MAIL})
        key = ok("POST", "/v1/keys", {"app_id": app, "label": "bench", "role": "agent"})["key"]
        return org, key


def rate(work: Callable[[], object], seconds: float) -> float:
    """Calls of `work` per second over about `seconds` (checking the clock every 64 calls)."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(64):
            work()
        calls += 64
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def bench(url: str, key: str, org: str | None, seconds: float, rounds: int) -> dict[str, Any]:
    with Client(url, key, identity=SigningKey.generate()) as agent:
        token = agent.token(MAIL)
        if org is None:
            org = token.fact("org")
        verifier = Verifier(url, audiences=[agent.did], organizations=[org or ""], max_feed_age=3600)
        try:
            verifier.sync()
            needed = Capability("mailto:ops@example.com", "email/send")
            verified = verifier.verify(token.text, requiring=needed)
            assert verified.org == org

            message, signature = token.text.encode()[: token.signed_length], token.signature
            verify_key = nacl.signing.VerifyKey(public_key_of(token.issuer))
            verify_key.verify(message, signature)

            loops: dict[str, Callable[[], object]] = {
                "verifier_verify": lambda: verifier.verify(token.text, requiring=needed),
                "nacl_verify": lambda: verify_key.verify(message, signature),
                "client_token_cached": lambda: agent.token(MAIL),
            }
            for work in loops.values():  # warm up
                rate(work, min(0.2, seconds))
            measured: dict[str, list[float]] = {name: [] for name in loops}
            for _ in range(rounds):
                for name, work in loops.items():
                    measured[name].append(rate(work, seconds))
        finally:
            verifier.close()
    figures = {name: statistics.median(values) for name, values in measured.items()}
    return {
        "verifier_verify_per_s": round(figures["verifier_verify"]),
        "nacl_verify_per_s": round(figures["nacl_verify"]),
        "ratio": round(figures["verifier_verify"] / figures["nacl_verify"], 3),
        "client_token_cached_per_s": round(figures["client_token_cached"]),
        "rounds": {name: [round(value) for value in values] for name, values in measured.items()},
        "token_bytes": len(token.text),
        "python": platform.python_version(),
        "pynacl": nacl.__version__,
        "cpu_count": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timed round (default 1)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per figure (default 5)")
    parser.add_argument("--server", help="a running Charter's URL (else a `charter serve` of $CHARTER is started)")
    parser.add_argument("--key", help="with --server: an agent key (else $CHARTER_API_KEY)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    if options.server:
        key = options.key or os.environ.get("CHARTER_API_KEY", "")
        if not key:
            parser.error("--server needs --key or CHARTER_API_KEY")
        results = bench(options.server, key, None, options.seconds, options.rounds)
    else:
        binary = os.environ.get("CHARTER", "")
        if not binary or not os.access(binary, os.X_OK):
            parser.error("set CHARTER to the charter binary (or pass --server and --key)")
        with charter_serve(binary) as (url, owner):
            org, key = agent_key(url, owner)
            results = bench(url, key, org, options.seconds, options.rounds)
    if options.json:
        print(json.dumps(results, indent=2))
        return
    print(f"Verifier.verify (0.10 root token, {results['token_bytes']} bytes): "
          f"{results['verifier_verify_per_s']:>9,}/s")
    print(f"PyNaCl VerifyKey.verify (same bytes):          {results['nacl_verify_per_s']:>9,}/s")
    print(f"ratio (goal >= 0.7):                           {results['ratio']:>9}")
    print(f"Client.token() from the cache:                 {results['client_token_cached_per_s']:>9,}/s")
    print(f"(medians of {options.rounds} rounds of {options.seconds:g}s; Python {results['python']}, "
          f"PyNaCl {results['pynacl']}, {results['cpu_count']} CPUs)")


if __name__ == "__main__":
    main()
