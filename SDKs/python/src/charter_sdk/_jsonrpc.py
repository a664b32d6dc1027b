"""A request body read once, within a bound, and replayed to the application; the tools a JSON-RPC body calls."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from .asgi import Message, Receive


class BodyTooLarge(Exception):
    """The request body is over the bound."""


class Unreadable(Exception):
    """The body is not one JSON text whose objects each name a key once, or a `tools/call` names no tool."""


async def read_body(receive: Receive, limit: int) -> tuple[bytes, list[Message]] | None:
    """The whole body and the messages to replay (one `http.request`, then whatever ended the read); None when
    the client disconnected before the body was complete."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        if message["type"] != "http.request":
            continue
        body.extend(message.get("body", b""))
        if len(body) > limit:
            raise BodyTooLarge
        if not message.get("more_body", False):
            return bytes(body), [{"type": "http.request", "body": bytes(body), "more_body": False}]


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out `messages` first, then the real one's (a disconnect, later)."""
    pending = deque(messages)

    async def replayed() -> Message:
        if pending:
            return pending.popleft()
        return await receive()

    return replayed


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        # Parsers disagree on which of two equal keys wins: the one the MCP server reads might not be the one
        # checked here.
        raise Unreadable("a JSON object names a key twice")
    return document


def tool_calls(body: bytes) -> list[str]:
    """The tool names of the `tools/call` requests in a JSON-RPC body (a message or a batch of them)."""
    try:
        document = json.loads(body.decode("utf-8"), object_pairs_hook=_unique)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Unreadable("the body is not JSON") from error
    messages = document if isinstance(document, list) else [document]
    names: list[str] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            continue
        params = message.get("params")
        name = params.get("name") if isinstance(params, dict) else None
        if not isinstance(name, str):
            raise Unreadable("a tools/call names no tool")
        names.append(name)
    return names
