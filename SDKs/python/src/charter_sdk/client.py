"""The agent SDK: an API key in, cached and refreshed UCANs out; 1.0 invocations signed with the agent's key.

`Client` is for threads, `AsyncClient` for asyncio; both keep one credential per capability set (0.10) or per
command and policy (1.0), share one `/v1/authorize` between concurrent callers, refresh a credential in the
background once 80% of its lifetime has passed (a failed refresh keeps the current one), retry an unreachable
server, a 5xx or a 429 with exponential backoff (honouring `Retry-After`), and raise a refusal at once as a
`CharterError` with the server's code, status and field. No redirect is followed, so the key goes only to the
server it was given for; it is never logged and never in a repr.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol, Union

import httpx

from ._crypto import SigningKey, is_did
from ._encoding import b64_decode, b64url_encode, canonical_json
from .errors import CharterError, UCANError
from .identity import IdentitySource, load_identity
from .policy import Policy
from .ucan import Capabilities, Capability, Token, capability_map, to_capabilities
from .ucan1 import Delegation, SignedInvocation, check_command, proves, sign_invocation


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on a transient failure: `attempts` in all, waits doubling from
    `initial_delay` up to `max_delay` seconds (a `Retry-After` is honoured, capped at `max_delay`)."""

    attempts: int = 5
    initial_delay: float = 0.1
    max_delay: float = 5.0


class Clock(Protocol):
    """Where the client reads the time and waits, for refreshes and retry backoff; tests pass one they move."""

    def now(self) -> float:
        """Seconds since the epoch: the time tokens' `exp` is compared with."""

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Blocks for `seconds` (by this clock) or until `stop` is set; returns whether `stop` was set."""

    async def sleep(self, seconds: float) -> None:
        """Waits `seconds` by this clock, in asyncio."""


class SystemClock:
    """The system's clock."""

    def now(self) -> float:
        return time.time()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        return stop.wait(max(0.0, seconds))

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


Credential = Union[Token, Delegation]
Headers = Mapping[str, str]


@dataclass(frozen=True)
class _Grant:
    """What a credential is minted for: the cache's key, and the body that asks for it."""

    key: str
    body: dict[str, Any]
    command: str | None = None


@dataclass(frozen=True)
class _Minted:
    credential: Credential
    issued_at: float
    expires_at: float

    @property
    def refresh_at(self) -> float:
        return self.issued_at + (self.expires_at - self.issued_at) * 0.8


def _expiration(now: float, ttl: float) -> int:
    return math.floor(now) + math.ceil(ttl)


class _Base:
    """What the thread and asyncio clients share: configuration, requests, answers and delegation rules."""

    def __init__(
        self, server: str, api_key: str | None, identity: IdentitySource, ttl_seconds: int | None,
        retry: RetryPolicy, clock: Clock | None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("CHARTER_API_KEY")
        if not key:
            raise CharterError("api_key_missing", "no API key given and CHARTER_API_KEY is not set")
        # Checked here, once: a key with a newline (read from a file) or a non-ASCII character would otherwise fail
        # inside httpx, whose error quotes the header value, key and all.
        if not all("\x21" <= char <= "\x7e" for char in key):
            raise CharterError(
                "api_key_malformed", "the API key holds a character no key has (a trailing newline from a file?)")
        self.__api_key = key
        self.server = server.rstrip("/")
        self.identity: SigningKey = load_identity(identity)
        self.did = self.identity.did
        self.ttl_seconds = ttl_seconds
        self.retry = retry
        self.clock: Clock = clock if clock is not None else SystemClock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server={self.server!r}, did={self.did!r})"

    @property
    def _authorization(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.__api_key}", "Accept": "application/json"}

    def _redact(self, text: str) -> str:
        return text.replace(self.__api_key, "[redacted]")

    def _token_grant(self, capabilities: Capabilities) -> _Grant:
        try:
            checked = to_capabilities(capabilities)
        except UCANError as error:
            raise CharterError("invalid_request", error.description, field="capabilities") from None
        cap = capability_map(checked)
        body: dict[str, Any] = {"audience": self.did, "capabilities": cap}
        if self.ttl_seconds is not None:
            body["ttl_seconds"] = self.ttl_seconds
        return _Grant("cap:" + canonical_json(cap).decode(), body)

    def _command_grant(self, command: str, policy: Sequence[Any] | Policy | None) -> _Grant:
        try:
            check_command(command, "command")
            statements = (policy if isinstance(policy, Policy) else Policy(list(policy or ()), "policy")).ipld
        except UCANError as error:
            raise CharterError("invalid_request", error.description, field=error.field) from None
        body: dict[str, Any] = {"format": "ucan/1.0", "audience": self.did, "command": command}
        if statements:
            try:
                canonical_json(statements)
            except (TypeError, ValueError):
                raise CharterError("invalid_policy", "the policy cannot be sent as JSON", field="policy") from None
            body["policy"] = statements
        if self.ttl_seconds is not None:
            body["ttl_seconds"] = self.ttl_seconds
        return _Grant(f"cmd:{command}:" + canonical_json(statements).decode(), body, command)

    def _error(self, response: httpx.Response) -> CharterError:
        status = response.status_code
        if 300 <= status < 400:
            return CharterError(
                "unexpected_response",
                f"HTTP {status}: redirects are not followed, so a key goes only to the server it is for",
                status=status)
        try:
            error = response.json().get("error")
            code, message = error["code"], error["message"]
            if not isinstance(code, str) or not isinstance(message, str):
                raise TypeError
        except (ValueError, TypeError, KeyError, AttributeError):
            return CharterError("unexpected_response", f"HTTP {status} without a Charter error body", status=status)
        field = error.get("field")
        retry_after: float | None = None
        try:
            retry_after = float(response.headers["Retry-After"])
        except (KeyError, ValueError):
            pass
        return CharterError(self._redact(code), self._redact(message), status=status,
                            field=self._redact(field) if isinstance(field, str) else None, retry_after=retry_after)

    def _unreachable(self, error: Exception) -> CharterError:
        reason = self._redact(str(error)) or type(error).__name__
        return CharterError("server_unreachable", f"cannot reach {self.server}: {reason}")

    def _minted(self, grant: _Grant, response: httpx.Response, issued_at: float) -> _Minted:
        if not 200 <= response.status_code < 300:
            raise self._error(response)
        try:
            answer = response.json()
            text = answer["token"]
            if not isinstance(text, str):
                raise TypeError
        except (ValueError, TypeError, KeyError):
            raise CharterError("unexpected_response", "the server's answer is not a JSON object with a token") \
                from None
        credential: Credential
        if grant.command is None:
            try:
                token = Token.parse(text)
            except UCANError:
                token = None
            if token is None or token.audience != self.did:
                raise CharterError("unexpected_response", f"the answer holds no token for {self.did}")
            credential, expiration = token, token.expiration
        else:
            raw = b64_decode(text)
            try:
                delegation = Delegation.parse(raw) if raw else None
            except UCANError:
                delegation = None
            if delegation is None or delegation.audience != self.did or delegation.command != grant.command:
                raise CharterError("unexpected_response",
                                   f"the answer holds no delegation of {grant.command} for {self.did}")
            credential, expiration = delegation, delegation.expiration
        if expiration is None:
            raise CharterError("unexpected_response", "the answer's credential never expires")
        return _Minted(credential, issued_at, float(expiration))

    def _backoff(self, error: CharterError, delay: float) -> float:
        return min(error.retry_after if error.retry_after is not None else delay, self.retry.max_delay)

    def _delegate_token(self, parent: Token, capabilities: Capabilities, audience: str, ttl: float) -> Token:
        if parent.audience != self.did:
            raise CharterError("would_widen", f"the proof is addressed to {parent.audience}")
        try:
            wanted = to_capabilities(capabilities)
        except UCANError as error:
            raise CharterError("invalid_request", error.description, field="capabilities") from None
        for capability in wanted:
            if not any(have.covers(capability) for have in parent.capabilities):
                raise CharterError("would_widen", f"{capability} is not covered by the proof")
        expiration = self._child_expiration(parent.expiration, ttl)
        self._check_audience(audience)
        return Token.sign(self.identity, audience=audience, capabilities=wanted, expiration=expiration,
                          not_before=parent.not_before, nonce=b64url_encode(os.urandom(16)), proofs=[parent.cid])

    def _delegate_command(
        self, parent: Delegation, command: str, policy: Sequence[Any] | Policy, audience: str, ttl: float,
    ) -> Delegation:
        if parent.audience != self.did:
            raise CharterError("would_widen", f"the proof is made out to {parent.audience}")
        if not proves(parent.command, command):
            raise CharterError("would_widen", f"{parent.command} does not prove {command}")
        expiration = self._child_expiration(parent.expiration, ttl)
        self._check_audience(audience)
        try:
            return Delegation.sign(self.identity, audience=audience, subject=parent.subject, command=command,
                                   policy=policy, expiration=expiration, not_before=parent.not_before,
                                   nonce=os.urandom(16))
        except UCANError as error:
            raise CharterError("invalid_request", error.description, field=error.field) from None

    def _child_expiration(self, parent_expiration: int | None, ttl: float) -> int:
        """The `exp` of a delegation lasting `ttl` seconds from now; refused (`would_widen`) past its proof's."""
        expiration = _expiration(self.clock.now(), ttl)
        if parent_expiration is not None and expiration > parent_expiration:
            raise CharterError("would_widen", f"a lifetime of {ttl:g}s would outlive the proof, which expires at "
                                              f"{parent_expiration}")
        return expiration

    @staticmethod
    def _check_audience(audience: str) -> None:
        if not is_did(audience):
            raise CharterError("invalid_request", "the audience is not an Ed25519 did:key", field="audience")

    def _invocation(
        self, delegation: Delegation, command: str, arguments: Mapping[str, Any] | None, audience: str | None,
        ttl: float,
    ) -> SignedInvocation:
        if audience is None:
            raise CharterError("invalid_request", "an invocation needs the service's DID as its audience",
                               field="audience")
        self._check_audience(audience)
        try:
            return sign_invocation(self.identity, command, arguments, audience=audience, chain=[delegation],
                                   expiration=_expiration(self.clock.now(), ttl))
        except UCANError as error:
            raise CharterError("invalid_request", error.description, field=error.field) from None


class _Entry:
    __slots__ = ("minted", "pending")

    def __init__(self, minted: _Minted | None = None, pending: Future[_Minted] | None = None) -> None:
        self.minted = minted
        self.pending = pending


class Client(_Base):
    """The agent SDK for threaded code. Thread-safe; close it (or use `with`) to stop its refreshes.

    >>> agent = Client("https://charter.example.com")            # key from CHARTER_API_KEY
    >>> token = agent.token({"mailto:*": {"email/send": [{}]}})   # aud = agent.did
    """

    def __init__(
        self, server: str, api_key: str | None = None, *, identity: IdentitySource = None,
        ttl_seconds: int | None = None, retry: RetryPolicy = RetryPolicy(), clock: Clock | None = None,
        timeout: float = 30.0, transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(server, api_key, identity, ttl_seconds, retry, clock)
        self._http = httpx.Client(base_url=self.server, timeout=timeout, follow_redirects=False, transport=transport)
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._closed = threading.Event()

    def close(self) -> None:
        """Stops background refreshes and releases the connection pool."""
        self._closed.set()
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self, capabilities: Capabilities) -> Token:
        """A UCAN 0.10 token for `capabilities` (a `cap` map or Capability objects), from the cache while it is
        fresh, else from `/v1/authorize`."""
        credential = self._get(self._token_grant(capabilities)).credential
        assert isinstance(credential, Token)
        return credential

    def delegation(self, command: str, policy: Sequence[Any] | Policy | None = None) -> Delegation:
        """A UCAN 1.0 delegation of `command` to this agent, narrowed by `policy` (statements added to the
        envelope grant's), from the cache while it is fresh, else from `/v1/authorize`."""
        credential = self._get(self._command_grant(command, policy)).credential
        assert isinstance(credential, Delegation)
        return credential

    def invoke(
        self, command: str, args: Mapping[str, Any] | None = None, audience: str | None = None, *, ttl: float = 60,
        policy: Sequence[Any] | Policy | None = None,
    ) -> SignedInvocation:
        """Signs a fresh UCAN 1.0 invocation of `command` with the agent's key for one call to `audience` (the
        service's DID), citing the agent's delegation for it. Its `headers` are what the request carries."""
        return self._invocation(self.delegation(command, policy), command, args, audience, ttl)

    def delegate(
        self, audience: str, *, ttl: float, capabilities: Capabilities | None = None, command: str | None = None,
        policy: Sequence[Any] | Policy = (), proof: Credential | None = None,
    ) -> Credential:
        """Signs a narrower delegation to a sub-agent with the agent's own key: a 0.10 token of `capabilities`
        (proof: by default the agent's token for them) or a 1.0 delegation of `command` under `policy` (proof: by
        default the agent's delegation of it). Refuses (`would_widen`) a capability or command the proof does
        not grant, a lifetime past the proof's, or a proof made out to someone else."""
        if command is not None:
            if proof is not None and not isinstance(proof, Delegation):
                raise CharterError("invalid_request", "a 1.0 delegation needs a 1.0 delegation as its proof")
            parent = proof if proof is not None else self.delegation(command)
            return self._delegate_command(parent, command, policy, audience, ttl)
        if capabilities is None:
            raise CharterError("invalid_request", "delegate needs capabilities (0.10) or a command (1.0)")
        if proof is not None and not isinstance(proof, Token):
            raise CharterError("invalid_request", "a 0.10 token needs a 0.10 token as its proof")
        token = proof if proof is not None else self.token(capabilities)
        return self._delegate_token(token, capabilities, audience, ttl)

    def _get(self, grant: _Grant) -> _Minted:
        now = self.clock.now()
        with self._lock:
            entry = self._entries.get(grant.key)
            if entry is not None and entry.minted is not None and entry.minted.expires_at > now:
                return entry.minted
            if entry is not None and entry.pending is not None:
                future, owner = entry.pending, False
            else:
                future, owner = Future(), True
                self._entries[grant.key] = _Entry(pending=future)
        if not owner:
            return future.result()
        try:
            minted = self._authorize(grant)
        except BaseException as error:
            with self._lock:
                if self._entries.get(grant.key) is not None and self._entries[grant.key].pending is future:
                    del self._entries[grant.key]
            future.set_exception(error)
            raise
        self._store(grant, minted)
        future.set_result(minted)
        return minted

    def _store(self, grant: _Grant, minted: _Minted) -> None:
        with self._lock:
            self._entries[grant.key] = _Entry(minted=minted)
        threading.Thread(target=self._refresh, args=(grant, minted), daemon=True,
                         name="charter-refresh").start()

    def _refresh(self, grant: _Grant, minted: _Minted) -> None:
        if self.clock.wait(minted.refresh_at - self.clock.now(), self._closed):
            return
        with self._lock:
            entry = self._entries.get(grant.key)
            if entry is None or entry.minted is not minted:
                return
        try:
            fresh = self._authorize(grant)
        except Exception:  # noqa: BLE001 - a failed refresh keeps the current credential until it expires
            return
        if not self._closed.is_set():
            self._store(grant, fresh)

    def _authorize(self, grant: _Grant) -> _Minted:
        delay = self.retry.initial_delay
        attempt = 1
        while True:
            try:
                return self._authorize_once(grant)
            except CharterError as error:
                if not error.transient or attempt >= self.retry.attempts or self._closed.is_set():
                    raise
                if self.clock.wait(self._backoff(error, delay), self._closed):
                    raise
                delay = min(delay * 2, self.retry.max_delay)
                attempt += 1

    def _authorize_once(self, grant: _Grant) -> _Minted:
        issued_at = self.clock.now()
        try:
            response = self._http.post("/v1/authorize", json=grant.body, headers=self._authorization)
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        return self._minted(grant, response, issued_at)


class AsyncClient(_Base):
    """The agent SDK for asyncio: the same as `Client`, with coroutines. Use it within one event loop."""

    def __init__(
        self, server: str, api_key: str | None = None, *, identity: IdentitySource = None,
        ttl_seconds: int | None = None, retry: RetryPolicy = RetryPolicy(), clock: Clock | None = None,
        timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(server, api_key, identity, ttl_seconds, retry, clock)
        self._http = httpx.AsyncClient(base_url=self.server, timeout=timeout, follow_redirects=False,
                                       transport=transport)
        self._ready: dict[str, _Minted] = {}
        self._pending: dict[str, asyncio.Future[_Minted]] = {}
        self._refreshes: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    async def aclose(self) -> None:
        self._closed = True
        for task in self._refreshes.values():
            task.cancel()
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def token(self, capabilities: Capabilities) -> Token:
        credential = (await self._get(self._token_grant(capabilities))).credential
        assert isinstance(credential, Token)
        return credential

    async def delegation(self, command: str, policy: Sequence[Any] | Policy | None = None) -> Delegation:
        credential = (await self._get(self._command_grant(command, policy))).credential
        assert isinstance(credential, Delegation)
        return credential

    async def invoke(
        self, command: str, args: Mapping[str, Any] | None = None, audience: str | None = None, *, ttl: float = 60,
        policy: Sequence[Any] | Policy | None = None,
    ) -> SignedInvocation:
        return self._invocation(await self.delegation(command, policy), command, args, audience, ttl)

    async def delegate(
        self, audience: str, *, ttl: float, capabilities: Capabilities | None = None, command: str | None = None,
        policy: Sequence[Any] | Policy = (), proof: Credential | None = None,
    ) -> Credential:
        if command is not None:
            if proof is not None and not isinstance(proof, Delegation):
                raise CharterError("invalid_request", "a 1.0 delegation needs a 1.0 delegation as its proof")
            parent = proof if proof is not None else await self.delegation(command)
            return self._delegate_command(parent, command, policy, audience, ttl)
        if capabilities is None:
            raise CharterError("invalid_request", "delegate needs capabilities (0.10) or a command (1.0)")
        if proof is not None and not isinstance(proof, Token):
            raise CharterError("invalid_request", "a 0.10 token needs a 0.10 token as its proof")
        token = proof if proof is not None else await self.token(capabilities)
        return self._delegate_token(token, capabilities, audience, ttl)

    async def _get(self, grant: _Grant) -> _Minted:
        minted = self._ready.get(grant.key)
        if minted is not None and minted.expires_at > self.clock.now():
            return minted
        pending = self._pending.get(grant.key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._pending[grant.key] = pending
            asyncio.get_running_loop().create_task(self._fetch(grant, pending))
        return await asyncio.shield(pending)

    async def _fetch(self, grant: _Grant, pending: asyncio.Future[_Minted]) -> None:
        try:
            minted = await self._authorize(grant)
        except asyncio.CancelledError:
            self._pending.pop(grant.key, None)
            pending.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - handed to every waiter
            self._pending.pop(grant.key, None)
            pending.set_exception(error)
            return
        self._pending.pop(grant.key, None)
        self._store(grant, minted)
        pending.set_result(minted)

    def _store(self, grant: _Grant, minted: _Minted) -> None:
        self._ready[grant.key] = minted
        previous = self._refreshes.get(grant.key)
        if previous is not None and previous is not asyncio.current_task():
            previous.cancel()
        self._refreshes[grant.key] = asyncio.get_running_loop().create_task(self._refresh(grant, minted))

    async def _refresh(self, grant: _Grant, minted: _Minted) -> None:
        await self.clock.sleep(minted.refresh_at - self.clock.now())
        if self._closed or self._ready.get(grant.key) is not minted:
            return
        try:
            fresh = await self._authorize(grant)
        except Exception:  # noqa: BLE001 - a failed refresh keeps the current credential until it expires
            return
        if not self._closed:
            self._store(grant, fresh)

    async def _authorize(self, grant: _Grant) -> _Minted:
        delay = self.retry.initial_delay
        attempt = 1
        while True:
            try:
                return await self._authorize_once(grant)
            except CharterError as error:
                if not error.transient or attempt >= self.retry.attempts or self._closed:
                    raise
                await self.clock.sleep(self._backoff(error, delay))
                delay = min(delay * 2, self.retry.max_delay)
                attempt += 1

    async def _authorize_once(self, grant: _Grant) -> _Minted:
        issued_at = self.clock.now()
        try:
            response = await self._http.post("/v1/authorize", json=grant.body, headers=self._authorization)
        except httpx.HTTPError as error:
            raise self._unreachable(error) from None
        return self._minted(grant, response, issued_at)


__all__ = ["AsyncClient", "Capability", "Client", "Clock", "RetryPolicy", "SystemClock"]
