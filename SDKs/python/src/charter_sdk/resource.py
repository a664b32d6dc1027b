"""A service as an OAuth 2.0 protected resource: its RFC 9728 metadata, and the RFC 6750 `Bearer` challenges it
answers refusals with, as Charter's Swift, Python and TypeScript verifiers all write them.

    ProtectedResource("https://mail.example.com/mcp", ["https://charter.example.com"], scopes_supported=["email/send"])

names the authorization server (Charter) that issues tokens for the resource; its document is served at
`/.well-known/oauth-protected-resource` + the resource URL's path (`/.well-known/oauth-protected-resource/mcp`), and
every challenge carries its URL as `resource_metadata`, which is how MCP clients find Charter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from .errors import VerificationError

WELL_KNOWN = "/.well-known/oauth-protected-resource"

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), so no space, `"` or `\`.
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+\Z")


def _url(value: str, what: str) -> tuple[str, str, str]:
    """(scheme, authority, path) of an absolute http(s) URL with a host and neither query nor fragment (RFC 9728
    §1.2), as the Swift and TypeScript verifiers accept it."""
    if not isinstance(value, str) or any(ord(char) < 0x21 or ord(char) == 0x7F or char in '"\\' for char in value):
        raise ValueError(f"{what} is not a URL: {value!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or "#" in value or "?" in value:
        raise ValueError(f"{what} must be an absolute http(s) URL without a query or fragment: {value!r}")
    return parts.scheme, parts.netloc, parts.path


def check_scope(scope: str) -> str:
    """`scope` if it is one RFC 6749 scope token (an ability such as `email/send` is), else ValueError."""
    if not isinstance(scope, str) or not _SCOPE_TOKEN.match(scope):
        raise ValueError(f"not an OAuth scope token: {scope!r}")
    return scope


class ProtectedResource:
    """What a resource server says of itself (RFC 9728): its URL, the authorization servers that issue tokens for
    it (Charter's base URL), and optionally the scopes (abilities) it understands.

    `metadata_path` is where the document is served, `metadata_url` what challenges name as `resource_metadata`,
    `document()` the JSON: `{"resource", "authorization_servers", "bearer_methods_supported": ["header"],
    "scopes_supported"?}`.
    """

    __slots__ = ("resource", "authorization_servers", "scopes_supported", "metadata_path", "metadata_url")

    def __init__(self, resource: str, authorization_servers: Iterable[str], *,
                 scopes_supported: Iterable[str] | None = None) -> None:
        scheme, authority, path = _url(resource, "resource")
        if isinstance(authorization_servers, str):
            raise ValueError("authorization_servers is a list of URLs, such as [charter_url]")
        servers = tuple(authorization_servers)
        if not servers:
            raise ValueError("a protected resource names at least one authorization server")
        for server in servers:
            _url(server, "authorization server")
        self.resource = resource
        self.authorization_servers = servers
        scopes = tuple(check_scope(scope) for scope in scopes_supported or ())
        self.scopes_supported = scopes or None  # none listed: the document omits the member
        # RFC 9728 §3.1: the well-known segment goes between the host and the path; a bare "/" is no path.
        self.metadata_path = WELL_KNOWN + (path if path != "/" else "")
        self.metadata_url = f"{scheme}://{authority}{self.metadata_path}"

    def __repr__(self) -> str:
        return f"ProtectedResource({self.resource!r}, {list(self.authorization_servers)!r})"

    def document(self) -> dict[str, object]:
        """The RFC 9728 metadata document."""
        document: dict[str, object] = {"resource": self.resource,
                                       "authorization_servers": list(self.authorization_servers),
                                       "bearer_methods_supported": ["header"]}
        if self.scopes_supported is not None:
            document["scopes_supported"] = list(self.scopes_supported)
        return document

    def body(self) -> bytes:
        """The document as served: compact JSON, keys sorted."""
        return json.dumps(self.document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def quoted(value: str) -> str:
    """An RFC 7230 quoted-string: `\\` and `"` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bearer(error: str | None = None, scope: str | None = None, resource_metadata: str | None = None) -> str:
    """A `WWW-Authenticate: Bearer` challenge with the parameters given, always in this order."""
    params = [f"{name}={quoted(value)}" for name, value in
              (("error", error), ("scope", scope), ("resource_metadata", resource_metadata)) if value is not None]
    return "Bearer " + ", ".join(params) if params else "Bearer"


def challenge(error: VerificationError, *, presented: bool, scope: str | None = None,
              protected_resource: ProtectedResource | None = None) -> str | None:
    """The `WWW-Authenticate` a refusal carries, or None.

    A 401 without credentials (`presented` False: no Authorization header) is a bare challenge that names the
    metadata; a 401 for credentials that failed is `error="invalid_token"`; a 403 `not_covered` where the route
    demands a 0.10 capability (`scope`, its ability) is `error="insufficient_scope"` with the scope it needs (the
    MCP step-up). Other refusals (policy violations, 503s) carry none.
    """
    metadata = protected_resource.metadata_url if protected_resource is not None else None
    if error.status == 401:
        return bearer("invalid_token" if presented else None, None, metadata)
    if error.code == "not_covered" and scope is not None:
        return bearer("insufficient_scope", scope, metadata)
    return None


__all__ = ["ProtectedResource", "bearer", "challenge", "check_scope", "quoted"]
