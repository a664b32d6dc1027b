"""The examples import, and run the whole exchange: examples/agent.py against examples/service.py (in process,
through Starlette's TestClient) with credentials from the real `charter serve`. The MCP examples run over real HTTP
in test_mcp_example.py."""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

from starlette.testclient import TestClient

from charter_sdk import SigningKey
from conftest import Tenant

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"charter_example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_examples_import() -> None:
    service, agent = example("service"), example("agent")
    assert callable(service.create_app) and callable(service.main)
    assert callable(agent.run) and callable(agent.main)
    mcp_server, mcp_client = example("mcp_server"), example("mcp_client")
    assert callable(mcp_server.create_app) and callable(mcp_server.main)
    assert callable(mcp_client.run) and callable(mcp_client.main)


def test_the_agent_example_calls_the_service_example(tenant: Tenant) -> None:
    service, agent = example("service"), example("agent")
    app = service.create_app(tenant.server.url, tenant.org)
    with TestClient(app) as http:
        assert http.get("/did").text == app.state.did + "\n"
        calls = agent.run(tenant.server.url, tenant.key, "http://testserver", http=http,
                          identity=SigningKey.generate())
    outcomes = [(call.who, call.status, call.answer.split(" ")[0] if call.status == 200 else call.answer)
                for call in calls]
    assert [(who, status) for who, status, _ in outcomes] == [
        ("agent → ada@example.com", 200), ("agent → ada@example.com, the same invocation again", 401),
        ("agent → eve@elsewhere.com", 403), ("sub-agent → ops@example.com", 200), ("sub-agent → ada@example.com", 403),
        ("agent → /send (0.10)", 200)], outcomes
    assert calls[0].answer.startswith("sent to ada@example.com for did:key:") and tenant.app in calls[0].answer
    assert '"code":"replayed"' in calls[1].answer and '"code":"policy_violation"' in calls[2].answer
    assert '"field":"prf[1].pol"' in calls[4].answer
    assert calls[5].answer == f"sent for app {tenant.app} under envelope {tenant.envelope}"
    # Without a service, the agent prints what it would send.
    dry = agent.run(tenant.server.url, tenant.key, identity=SigningKey.generate())
    assert len(dry) == 6 and all(call.status is None and "Authorization: " in call.answer for call in dry)
