"""An agent that trades its API key for Charter credentials and calls a service with them: the Python twin of
Examples/Agent.

    CHARTER_URL=http://127.0.0.1:8080 CHARTER_API_KEY=chr_live_… python SDKs/python/examples/agent.py [service-url]

The key needs `token.authorize` (an `agent` key) and its app an envelope granting `/email/send` and email/send on
mailto:*, such as {"capabilities": {"mailto:*": {"email/send": [{}]}}, "commands": {"/email/send": [["like", ".to",
"*@example.com"]]}}. With the URL of service.py, the agent and a sub-agent call it; without, they print what they
would send. The agent's own identity is kept in ~/.charter/agent-identity.json, created on first run.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from charter_sdk import CharterError, Client, Delegation, SigningKey, Token, sign_invocation
from charter_sdk.identity import IdentitySource

MAIL: dict[str, dict[str, list[dict[str, object]]]] = {"mailto:*": {"email/send": [{}]}}


@dataclass(frozen=True)
class Call:
    who: str
    status: int | None  # None: printed, not sent
    answer: str

    def __str__(self) -> str:
        return f"{self.who}: {self.status if self.status is not None else '(not sent)'} {self.answer}"


def run(charter_url: str, api_key: str, service_url: str | None = None, *, http: httpx.Client | None = None,
        identity: IdentitySource = None) -> list[Call]:
    """Every call the agent and its sub-agent make, with the service's answers (or the headers, without one)."""
    web = http if http is not None else httpx.Client(timeout=10)
    calls: list[Call] = []

    def send(path: str, headers: Mapping[str, str], who: str) -> None:
        if service_url is None:
            calls.append(Call(who, None, f"Authorization: {headers['Authorization'][:40]}…  ucans: "
                                         f"{len(headers.get('ucans', '').split(','))} proof(s)"))
            return
        answer = web.post(service_url.rstrip("/") + path, headers=dict(headers))
        calls.append(Call(who, answer.status_code, answer.text.strip()))

    try:
        with Client(charter_url, api_key, identity=identity) as agent:
            # The service names itself; a real agent would have its DID in configuration.
            service = (web.get(service_url.rstrip("/") + "/did").text.strip() if service_url is not None
                       else SigningKey.generate().did)

            # UCAN 1.0: one invocation per call, signed with the agent's key, citing its cached delegation. The
            # service accepts each once, and only within the envelope's policy.
            delegation = agent.delegation("/email/send")
            first = agent.invoke("/email/send", {"to": "ada@example.com", "subject": "hi"}, audience=service)
            send("/email/send", first.headers, "agent → ada@example.com")
            send("/email/send", first.headers, "agent → ada@example.com, the same invocation again")
            send("/email/send", agent.invoke("/email/send", {"to": "eve@elsewhere.com"}, audience=service).headers,
                 "agent → eve@elsewhere.com")

            # A sub-agent may send to one address only, for two minutes: its policy adds to the envelope's.
            sub_agent = SigningKey.generate()
            narrower = agent.delegate(sub_agent.did, command="/email/send",
                                      policy=[["==", ".to", "ops@example.com"]], ttl=120)
            assert isinstance(narrower, Delegation)
            for to in ("ops@example.com", "ada@example.com"):
                call = sign_invocation(sub_agent, "/email/send", {"to": to}, audience=service,
                                       chain=[delegation, narrower], expiration=int(time.time()) + 60)
                send("/email/send", call.headers, f"sub-agent → {to}")

            # UCAN 0.10: the agent's token (addressed to the agent), delegated to the service for a minute; the
            # service verifies the chain with the root in `ucans`.
            root = agent.token(MAIL)
            child = agent.delegate(service, capabilities=MAIL, ttl=60, proof=root)
            assert isinstance(child, Token)
            send("/send", {"Authorization": f"Bearer {child.text}", "ucans": root.text}, "agent → /send (0.10)")
    finally:
        if http is None:
            web.close()
    return calls


def main() -> None:
    charter, key = os.environ.get("CHARTER_URL"), os.environ.get("CHARTER_API_KEY")
    if not charter or not key:
        print("set CHARTER_URL and CHARTER_API_KEY")
        sys.exit(64)
    try:
        for call in run(charter, key, sys.argv[1] if len(sys.argv) > 1 else None):
            print(call)
    except CharterError as error:
        print(f"refused: {error}")
        sys.exit(1)


if __name__ == "__main__":
    main()
