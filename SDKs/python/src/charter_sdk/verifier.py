"""Offline verification of Charter-minted UCANs (0.10 tokens and 1.0 invocations) for upstream services.

`sync()` reads the public issuer list and each trusted organization's signed revocation feed; verification makes
no network call, reading one immutable snapshot that a successful sync round replaces whole. Before the first
successful round every verification is `not_synced`; once the oldest signed feed head held is older than
`max_feed_age` by the verifier's clock, `feed_stale`: a verifier that cannot reach Charter (or only a proxy
replaying old answers) stops accepting tokens rather than miss a revocation. The rules and codes are those of
Charter's Swift `CharterVerifier`.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

import httpx

from ._crypto import BLAKE3, CID, DAG_CBOR, RAW, _blake3, is_did, public_key_of, signature_holds
from ._encoding import JSONError, b64_decode, b64url_decode, b64url_encode, canonical_json, is_int, parse_json
from .errors import UCANError, VerificationError, verification_error
from .ucan import MAX_DEPTH, MAX_TOKEN_BYTES, Capability, ProofStore, Token, ValidatedChain, validate
from .ucan1 import MAX_TOKEN_BYTES as MAX_ENVELOPE_BYTES
from .ucan1 import Delegation, Invocation, check_command, validate_invocation

log = logging.getLogger("charter.verifier")
PAGE_SIZE = 1000


class FeedError(Exception):
    """Why a sync round failed: an unreachable server, a bad status, or an answer that does not check out."""


_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z\Z")


def parse_timestamp(text: str) -> float | None:
    """Charter's timestamps, strictly: exactly `2026-11-24T18:49:50.743Z`, fields in range."""
    match = _TIMESTAMP.match(text) if isinstance(text, str) and len(text) == 24 else None
    if match is None:
        return None
    year, month, day, hour, minute, second, millis = (int(part) for part in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    return moment.timestamp() + millis / 1000


@dataclass(frozen=True)
class _Issuer:
    did: str
    org: str | None
    environment: str
    not_after: float | None


@dataclass(frozen=True)
class _Entry:
    seq: int
    kind: str  # "token" or "envelope"
    subject: str  # the `revoke` field exactly as signed
    cid: CID | None
    issuer: str
    challenge: bytes
    covers_until: float

    def authentic(self, trusted: frozenset[str]) -> bool:
        """Whether a trusted issuer signed `REVOKE:` + subject: a forged or foreign entry is ignored."""
        return self.issuer in trusted and signature_holds(self.issuer, b"REVOKE:" + self.subject.encode(),
                                                          self.challenge)


@dataclass(frozen=True)
class _Head:
    org: str
    environment: str
    since: int
    next_since: int
    seq: int
    time: float
    entries: str
    issuer: str
    signature: bytes
    message: bytes


@dataclass(frozen=True)
class _Page:
    entries: list[_Entry]
    listed: list[Any]
    skipped: int
    next_since: int
    head: _Head


@dataclass(frozen=True)
class _Position:
    since: int = 0
    head: tuple[int, float] | None = None  # (seq, time) of the newest head accepted


FeedKey = tuple[str, str]  # (org, environment)


@dataclass(frozen=True)
class _Trust:
    dids: frozenset[str]
    organization: Mapping[str, str]
    feed_signers: Mapping[FeedKey, frozenset[str]] | None
    windows: Mapping[str, float]

    @classmethod
    def pinned(cls, dids: Iterable[str]) -> _Trust:
        return cls(frozenset(dids), {}, None, {})

    @classmethod
    def published(cls, issuers: Iterable[_Issuer]) -> _Trust:
        listed = list(issuers)
        organization: dict[str, str] = {}
        signers: dict[FeedKey, set[str]] = {}
        windows: dict[str, float] = {}
        for issuer in listed:
            if issuer.org is not None:
                organization[issuer.did] = issuer.org
                signers.setdefault((issuer.org, issuer.environment), set()).add(issuer.did)
            if issuer.not_after is not None:
                windows[issuer.did] = issuer.not_after
        return cls(frozenset(issuer.did for issuer in listed), organization,
                   {key: frozenset(value) for key, value in signers.items()}, windows)

    def signs(self, feed: FeedKey, did: str) -> bool:
        if self.feed_signers is None:
            return did in self.dids
        return did in self.feed_signers.get(feed, frozenset())


@dataclass(frozen=True)
class _Snapshot:
    trust: _Trust
    revoked_tokens: Mapping[CID, _Entry]
    revoked_envelopes: Mapping[str, _Entry]
    feeds: Mapping[FeedKey, _Position]
    last_sync: float | None
    feed_time: float | None


@dataclass(frozen=True)
class VerifiedToken:
    """A 0.10 token whose whole chain verified, with the Charter facts of its root (`fct`)."""

    token: Token
    chain: ValidatedChain = field(repr=False)
    org: str | None
    env: str | None
    app: str | None
    envelope: str | None
    key: str | None


@dataclass(frozen=True)
class VerifiedInvocation:
    """A 1.0 invocation whose chain verified: what to run, with what, for whom, under which Charter grant."""

    invocation: Invocation
    delegations: tuple[Delegation, ...] = field(repr=False)
    org: str | None
    env: str | None
    app: str | None
    envelope: str | None
    key: str | None

    @property
    def command(self) -> str:
        return self.invocation.command

    @property
    def arguments(self) -> dict[str, Any]:
        return self.invocation.arguments

    @property
    def agent(self) -> str:
        """The DID whose key signed the invocation."""
        return self.invocation.issuer


K = TypeVar("K")
V = TypeVar("V")


class _Bounded(Generic[K, V]):
    """Values worked out from an exact input (a token's text, a delegation's bytes), kept for the next request
    that presents it.

    The verifier stores only what a chain rooted at a trusted issuer used, so forged tokens never take a slot;
    and it is bounded twice, by count and by the total size of the inputs kept (a parsed token takes a few
    times its size in memory): when either bound would be passed it is emptied, and refills with what is in use.
    """

    capacity = 4096
    max_bytes = 16 * 1024 * 1024

    def __init__(self) -> None:
        self._values: dict[K, V] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    @property
    def bytes(self) -> int:
        """The total size of the inputs kept."""
        return self._bytes

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    def put(self, key: K, value: V, size: int) -> None:
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._values:
                return
            if len(self._values) >= self.capacity or self._bytes + size > self.max_bytes:
                self._values.clear()
                self._bytes = 0
            self._values[key] = value
            self._bytes += size


class _Unreadable(Exception):
    """A supplied proof that does not parse, met while the chain is walked: the verifier's error, carried past
    the walk's own handling of UCANError."""

    def __init__(self, error: VerificationError) -> None:
        super().__init__(error.message)
        self.error = error


def _unreadable_proof(index: int, error: UCANError, code: str, message: str) -> VerificationError:
    return VerificationError(code, f"proofs[{index}]: {message}",
                             f"proofs[{index}]" + (f".{error.field}" if error.field else ""))


class _SuppliedProofs(ProofStore):
    """The 0.10 proofs a request supplies, each parsed only when the chain reaches it by CID (hashed from its
    exact text): a forged chain is refused at its first bad link without parsing the rest. Proofs cached from an
    earlier verified chain come parsed, their signatures checked."""

    def __init__(self, texts: Sequence[str], cache: _Bounded[str, Token]) -> None:
        super().__init__()
        self._pending: dict[CID, tuple[int, str]] = {}
        self._blake3: dict[CID, CID] | None = None
        self.read: list[tuple[str, Token]] = []  # parsed here, with their texts, to be cached once trusted
        for index, text in enumerate(texts):
            cached = cache.get(text)
            if cached is not None:
                self.add(cached, signature_verified=True)
                continue
            if len(text) > MAX_TOKEN_BYTES:  # refused at once, as parsing it would be
                self._parse(index, text)
            self._pending.setdefault(CID.of(text.encode("utf-8", "surrogatepass"), RAW), (index, text))

    @staticmethod
    def _parse(index: int, text: str) -> Token:
        try:
            return Token.parse(text)
        except UCANError as error:
            raise _unreadable_proof(index, error, "malformed", error.description) from None

    def token_for(self, cid: CID) -> Token | None:
        found = super().token_for(cid)
        if found is not None or not self._pending:
            return found
        if cid.hasher == BLAKE3:
            if self._blake3 is None:
                self._blake3 = {CID(RAW, BLAKE3, _blake3(text.encode("utf-8", "surrogatepass"))): sha256
                                for sha256, (_, text) in self._pending.items()}
            named = self._blake3.get(cid)
            if named is None:
                return None
            cid = named
        entry = self._pending.pop(cid, None)
        if entry is None:
            return None
        try:
            token = self._parse(*entry)
        except VerificationError as error:
            raise _Unreadable(error) from None
        self.add(token)
        self.read.append((entry[1], token))
        return token

    def parse_the_rest(self) -> None:
        """Parses the proofs the chain did not use, as Swift's verifier parses every proof supplied: one that
        does not parse is refused (`malformed`), used or not."""
        for index, text in sorted(self._pending.values()):
            self._parse(index, text)
        self._pending.clear()


class _SuppliedDelegations(Mapping[CID, Delegation]):
    """The 1.0 delegations a request supplies, by CID (hashed from their exact bytes), each parsed and its
    signature checked only when validation reads it: after the subject is found trusted and the chain's
    principals up to it line up. Delegations cached from an earlier verified chain come parsed."""

    def __init__(self, proofs: Sequence[bytes | str], cache: _Bounded[bytes, Delegation]) -> None:
        self._parsed: dict[CID, Delegation] = {}
        self._pending: dict[CID, tuple[int, bytes]] = {}
        self.read: list[Delegation] = []  # parsed here, to be cached once trusted
        for index, proof in enumerate(proofs):
            data = _envelope_bytes(proof, f"proofs[{index}]")
            cached = cache.get(data)
            if cached is not None:
                self._parsed[cached.cid] = cached
                continue
            if len(data) > MAX_ENVELOPE_BYTES:  # refused at once, as parsing it would be
                self._parse(index, data)
            self._pending.setdefault(CID.of(data, DAG_CBOR), (index, data))

    @staticmethod
    def _parse(index: int, data: bytes) -> Delegation:
        try:
            return Delegation.parse(data)
        except UCANError as error:
            raise _unreadable_proof(index, error, verification_error(error).code, error.message) from None

    def __getitem__(self, cid: CID) -> Delegation:
        found = self._parsed.get(cid)
        if found is not None:
            return found
        entry = self._pending.pop(cid, None)
        if entry is None:
            raise KeyError(cid)
        try:
            delegation = self._parse(*entry)
        except VerificationError as error:
            raise _Unreadable(error) from None
        self._parsed[cid] = delegation
        self.read.append(delegation)
        return delegation

    def __contains__(self, cid: object) -> bool:
        return cid in self._parsed or cid in self._pending

    def __iter__(self) -> Iterator[CID]:
        return iter([*self._parsed, *self._pending])

    def __len__(self) -> int:
        return len(self._parsed) + len(self._pending)

    def parse_the_rest(self) -> None:
        """Parses (and checks the signature of) the delegations the chain did not cite, as Swift's verifier does
        every one supplied: one that does not hold is refused, cited or not."""
        for cid, (index, data) in sorted(self._pending.items(), key=lambda item: item[1][0]):
            self._parsed[cid] = self._parse(index, data)
        self._pending.clear()


def _check_first_root(token: Token, store: _SuppliedProofs, trusted: frozenset[str]) -> None:
    """Follows each token's first proof down to the chain's first root, parsing but checking no signature, and
    refuses that root unless a trusted issuer signed it: the signature that makes a chain Charter's is checked
    before any other, so a forged chain costs the parsing of one path and one signature check.

    It refuses only what validation, reaching that root first, would refuse with the same error; anything else
    on the way (a missing proof, a link that does not hold, a chain too deep) it leaves for validation to name.
    """
    current, depth = token, 1
    while current.proofs:
        proof = store.token_for(current.proofs[0])
        if depth >= MAX_DEPTH or proof is None or proof.audience != current.issuer:
            return
        current, depth = proof, depth + 1
    if current is token:
        return
    field = ".".join(["prf[0]"] * (depth - 1))
    if current.issuer not in trusted:
        raise UCANError("untrusted_issuer", f"{current.issuer} is not a trusted issuer", f"{field}.iss")
    if current.cid not in store.verified:
        if not current.has_valid_signature:
            raise UCANError("invalid_signature", f"does not verify under {current.issuer}", f"{field}.signature")
        store.verified.add(current.cid)


class ReplayCache:
    """Invocation CIDs until they expire: a second presentation is a replay. Bounded: when full of live
    entries, new invocations are refused (`full`) rather than one forgotten."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = max(1, capacity)
        self._expiries: dict[CID, int] = {}
        self._heap: list[tuple[int, bytes, CID]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiries)

    def record(self, cid: CID, expires_at: int | None, now: int) -> str:
        """`fresh` (now remembered), `replayed`, `full`, or `unbounded` (no expiry)."""
        if expires_at is None:
            return "unbounded"
        with self._lock:
            while self._heap and self._heap[0][0] < now:
                expiry, _, old = heapq.heappop(self._heap)
                if self._expiries.get(old) == expiry:
                    del self._expiries[old]
            if cid in self._expiries:
                return "replayed"
            if len(self._expiries) >= self.capacity:
                return "full"
            self._expiries[cid] = expires_at
            heapq.heappush(self._heap, (expires_at, cid.bytes, cid))
            return "fresh"


class Verifier:
    """Verifies Charter-minted UCANs offline against synced issuers and revocations.

    >>> verifier = Verifier("https://charter.example.com", audiences=[service_did], organizations=["org_…"])
    >>> verifier.sync()                       # then every few seconds, or start() a background thread
    >>> verified = verifier.verify(token, proofs, requiring=Capability("mailto:*", "email/send"))

    `issuers` pins trusted issuer DIDs instead of trusting what the server publishes; with pinned issuers and
    `server=None` (air-gapped) there is no feed, so **revocation is not checked**. `clock` returns the time in
    seconds since the epoch (injectable for tests); `transport` is httpx's, for tests and proxies.
    """

    def __init__(
        self, server: str | None, audiences: Iterable[str], organizations: Iterable[str],
        environments: Iterable[str] = ("live",), *, issuers: Iterable[str] | None = None, leeway: int = 30,
        max_feed_age: float = 60, max_invocation_lifetime: int = 300, replay_capacity: int = 100_000,
        sync_interval: float = 10, clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server.rstrip("/") if server is not None else None
        self.audiences = frozenset(audiences)
        self.organizations = frozenset(organizations)
        self.environments = frozenset(environments)
        self.pinned = frozenset(issuers) if issuers is not None else None
        for did in self.audiences | (self.pinned or frozenset()):
            public_key_of(did)
        self.leeway = leeway
        self.max_feed_age = max_feed_age
        self.max_invocation_lifetime = max_invocation_lifetime
        self.sync_interval = sync_interval
        self.clock = clock
        self.replays = ReplayCache(replay_capacity)
        self._feeds: list[FeedKey] = sorted((org, env) for org in self.organizations for env in self.environments)
        trust = _Trust.pinned(self.pinned) if self.pinned is not None else _Trust.pinned(())
        self._snapshot = _Snapshot(trust, {}, {}, {}, None, None)
        self._state_lock = threading.Lock()
        self._presented: _Bounded[str, Token] = _Bounded()
        self._proofs: _Bounded[str, Token] = _Bounded()  # signatures checked
        self._delegations: _Bounded[bytes, Delegation] = _Bounded()
        self._http = httpx.Client(base_url=self.server, timeout=max(1.0, min(sync_interval, 30.0)),
                                  follow_redirects=False, transport=transport) if self.server else None
        self._sync_wanted = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Verifier(server={self.server!r}, organizations={sorted(self.organizations)!r})"

    @property
    def last_successful_sync(self) -> float | None:
        """When the last sync round completed, by the verifier's clock; None before the first."""
        return self._snapshot.last_sync

    # Sync

    def sync(self) -> None:
        """One sync round: every feed page of each trusted organization and environment after the last `seq`
        seen (each page's signed head checked), then the issuer list; applied all or nothing.

        Raises FeedError when there is no server, it cannot be reached, or an answer does not check out (a
        dropped, altered, reordered or replayed page); the previous state is then kept, and goes stale.
        """
        if self._http is None:
            raise FeedError("no server is configured, so there is nothing to sync")
        started = self.clock()
        current = self._snapshot
        positions = dict(current.feeds)
        pages: list[tuple[FeedKey, _Page]] = []
        for key in self._feeds:
            position = positions.get(key, _Position())
            while True:
                page = self._revocations(key, position.since)
                _check_head(page, key, position)
                previous = position.since
                for entry in page.entries:
                    if not previous < entry.seq <= page.next_since:
                        raise FeedError("/v1/revocations: entries out of order or outside the signed range")
                    previous = entry.seq
                pages.append((key, page))
                advanced = page.next_since > position.since
                position = _Position(page.next_since, (page.head.seq, page.head.time))
                if page.next_since >= page.head.seq:
                    break
                if not advanced:
                    raise FeedError("/v1/revocations: next_since did not advance")
            positions[key] = position
        # Issuers after the pages: a page may be signed by an issuer created to sign it (an organization's first).
        if self.pinned is None:
            trust = _Trust.published(issuer for issuer in self._issuers() if self._may_trust(issuer))
        else:
            trust = current.trust
        accepted: list[_Entry] = []
        rejected = skipped = 0
        for key, page in pages:
            if not trust.signs(key, page.head.issuer):
                raise FeedError(f"the {key[0]} {key[1]} feed: the page head is not signed by a trusted issuer of "
                                "that organization")
            for entry in page.entries:
                if entry.authentic(trust.dids):
                    accepted.append(entry)
                else:
                    rejected += 1
            skipped += page.skipped
        if skipped:
            log.warning("skipped %d revocation entries of an unknown kind", skipped)
        if rejected:
            log.warning("ignored %d revocation entries not signed by a trusted issuer", rejected)
        with self._state_lock:
            self._snapshot = self._merge(self._snapshot, trust, accepted, positions, started)

    def _merge(self, snapshot: _Snapshot, trust: _Trust, entries: list[_Entry],
               feeds: Mapping[FeedKey, _Position], synced_at: float) -> _Snapshot:
        tokens = dict(snapshot.revoked_tokens)
        envelopes = dict(snapshot.revoked_envelopes)
        for entry in entries:
            if entry.cid is not None:
                tokens[entry.cid] = entry
            else:
                envelopes[entry.subject] = entry
        cutoff = synced_at - max(0, self.leeway)
        tokens = {cid: entry for cid, entry in tokens.items() if entry.covers_until >= cutoff}
        envelopes = {name: entry for name, entry in envelopes.items() if entry.covers_until >= cutoff}
        positions = dict(snapshot.feeds)
        for key, position in feeds.items():
            mine = positions.get(key)
            if mine is None or position.since >= mine.since:
                positions[key] = position
        oldest: float | None = None
        for key in self._feeds:
            head = positions.get(key, _Position()).head
            if head is None:
                oldest = None
                break
            oldest = head[1] if oldest is None else min(oldest, head[1])
        last = synced_at if snapshot.last_sync is None else max(snapshot.last_sync, synced_at)
        return _Snapshot(trust, tokens, envelopes, positions, last, oldest)

    def _may_trust(self, issuer: _Issuer) -> bool:
        return issuer.environment in self.environments and (issuer.org is None or issuer.org in self.organizations)

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        assert self._http is not None
        try:
            response = self._http.get(path, params=params, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise FeedError(f"{path}: cannot reach {self.server}: {error or type(error).__name__}") from None
        if response.status_code != 200:
            raise FeedError(f"{path}: HTTP {response.status_code}")
        try:
            body = parse_json(response.content)
        except JSONError as error:
            raise FeedError(f"{path}: the answer is not JSON ({error})") from None
        if not isinstance(body, dict):
            raise FeedError(f"{path}: the answer is not a JSON object")
        return body

    def _issuers(self) -> list[_Issuer]:
        """Every published issuer whose status is `active`, `verify_only` or `expired`; others are not trusted."""
        listed = self._get("/v1/issuers").get("issuers")
        if not isinstance(listed, list):
            raise FeedError("/v1/issuers has no issuers array")
        issuers: list[_Issuer] = []
        for index, item in enumerate(listed):
            if not (isinstance(item, dict) and isinstance(item.get("did"), str) and is_did(item["did"])
                    and isinstance(item.get("status"), str) and isinstance(item.get("environment"), str)):
                raise FeedError(f"/v1/issuers: issuers[{index}] is not an issuer")
            # Present on every issuer: null only for the shared issuers of an older server, never by omission.
            if "org" not in item:
                raise FeedError(f"/v1/issuers: issuers[{index}].org is not an organization id or null")
            org = item["org"]
            if org is not None and not isinstance(org, str):
                raise FeedError(f"/v1/issuers: issuers[{index}].org is not an organization id or null")
            not_after: float | None = None
            if item.get("not_after") is not None:
                not_after = parse_timestamp(item["not_after"])
                if not_after is None:
                    raise FeedError(f"/v1/issuers: issuers[{index}].not_after is not a timestamp")
            status = item["status"]
            if status not in ("active", "verify_only", "expired"):
                continue
            if status != "active" and not_after is None:
                continue
            issuers.append(_Issuer(item["did"], org, item["environment"], not_after))
        return issuers

    def _revocations(self, key: FeedKey, since: int) -> _Page:
        body = self._get("/v1/revocations", {"org": key[0], "environment": key[1], "since": str(since),
                                             "limit": str(PAGE_SIZE)})
        listed, after = body.get("revocations"), body.get("next_since")
        if not isinstance(listed, list) or not is_int(after):
            raise FeedError("/v1/revocations has no revocations array or next_since")
        next_since = after if isinstance(after, int) else 0
        head = _parse_head(body.get("head"))
        entries: list[_Entry] = []
        skipped = 0
        for index, item in enumerate(listed):
            fields = item if isinstance(item, dict) else {}
            challenge = b64url_decode(fields["challenge"]) if isinstance(fields.get("challenge"), str) else None
            until = parse_timestamp(fields["covers_until"]) if isinstance(fields.get("covers_until"), str) else None
            if not (is_int(fields.get("seq")) and isinstance(fields.get("kind"), str)
                    and isinstance(fields.get("revoke"), str) and isinstance(fields.get("iss"), str)
                    and is_did(fields["iss"]) and challenge is not None and until is not None):
                raise FeedError(f"/v1/revocations: revocations[{index}] is not a revocation")
            cid: CID | None = None
            if fields["kind"] == "token":
                try:
                    cid = CID.parse(fields["revoke"])
                except UCANError:
                    raise FeedError(f"/v1/revocations: revocations[{index}].revoke is not a CID") from None
            elif fields["kind"] != "envelope":
                skipped += 1
                continue
            assert challenge is not None and until is not None
            entries.append(_Entry(fields["seq"], fields["kind"], fields["revoke"], cid, fields["iss"], challenge,
                                  until))
        return _Page(entries, listed, skipped, next_since, head)

    # Background sync

    def start(self) -> None:
        """Syncs in a daemon thread every `sync_interval` seconds (sooner, at most once a second, after a root
        from an unknown issuer), logging failures, until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="charter-verifier-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        self.stop()
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        due = time.monotonic()
        last = due - 1
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= due or (now - last >= 1 and self._sync_wanted.is_set()):
                self._sync_wanted.clear()
                last = now
                try:
                    self.sync()
                except Exception as error:  # noqa: BLE001 - logged; the verifier fails closed once stale
                    log.error("charter sync failed: %s", error)
                due = time.monotonic() + max(0.05, self.sync_interval)
            self._stop.wait(min(0.25, max(0.05, self.sync_interval)))

    # Verification

    def _check_freshness(self, snapshot: _Snapshot, now: float) -> None:
        if self.server is None:
            if self.pinned is not None:
                return
            raise VerificationError("not_synced", "published issuers need a server to sync from")
        if snapshot.feed_time is None:
            raise VerificationError("not_synced", "issuers and revocations have not been synced yet")
        age = now - snapshot.feed_time
        if age > self.max_feed_age:
            raise VerificationError(
                "feed_stale", f"revocation data is {int(age)}s old, over the limit of {int(self.max_feed_age)}s")

    def _check_organization(self, snapshot: _Snapshot, org: str | None, issuer: str) -> None:
        if org is None or org not in self.organizations:
            raise VerificationError("untrusted_issuer", "the token is not from an organization this service trusts")
        owner = snapshot.trust.organization.get(issuer)
        if owner is not None and owner != org:
            raise VerificationError("untrusted_issuer", f"the token's issuer does not sign for organization {org}")

    def _check_window(self, snapshot: _Snapshot, issuer: str, now: float) -> None:
        not_after = snapshot.trust.windows.get(issuer)
        if not_after is not None and now >= not_after:
            raise VerificationError("untrusted_issuer", f"{issuer} was retired and verifies nothing after its window")

    def _refused(self, error: VerificationError) -> VerificationError:
        if error.code == "untrusted_issuer" and self.pinned is None:
            self._sync_wanted.set()
        return error

    def verify(self, token: str, proofs: Sequence[str] = (), requiring: Capability | None = None) -> VerifiedToken:
        """Verifies a 0.10 token and the proofs its chain cites (any order), offline.

        Raises VerificationError with the first reason it is refused.
        """
        try:
            return self._verify(token, proofs, requiring)
        except VerificationError as error:
            raise self._refused(error) from None

    def _verify(self, text: str, proofs: Sequence[str], requiring: Capability | None) -> VerifiedToken:
        snapshot = self._snapshot
        now = self.clock()
        self._check_freshness(snapshot, now)
        token = self._presented.get(text)
        if token is None:
            try:
                token = Token.parse(text)
            except UCANError as error:
                raise VerificationError("malformed", error.description, error.field) from None
        # Swift checks the audience once every proof is parsed; a token for another service is refused before.
        if token.audience not in self.audiences:
            raise verification_error(UCANError(
                "audience_not_accepted", f"{token.audience} is not an accepted audience", "aud"))
        if len(proofs) > 32:
            raise VerificationError("malformed", "more than 32 proofs supplied")
        store = _SuppliedProofs(proofs, self._proofs)
        try:
            _check_first_root(token, store, snapshot.trust.dids)
            chain = validate(token, store, int(now // 1), leeway=self.leeway, trusted_issuers=set(snapshot.trust.dids))
        except _Unreadable as unreadable:
            raise unreadable.error from None
        except UCANError as error:
            raise verification_error(error) from None
        store.parse_the_rest()
        for issuer in chain.root_issuers:
            self._check_window(snapshot, issuer, now)
        roots = [token] if not token.proofs else [proof for proof in chain.proofs.values() if not proof.proofs]
        for root in roots:
            self._check_organization(snapshot, root.fact("org"), root.issuer)
        # Rooted at a trusted issuer of a trusted organization: now, and only now, worth keeping parsed (every
        # proof parsed here is on the chain: only what the walk reached was).
        self._presented.put(text, token, len(text))
        for proof_text, proof in store.read:
            self._proofs.put(proof_text, proof, len(proof_text))
        self._check_token_revocation(snapshot, token, chain, roots)
        if requiring is not None and not any(have.covers(requiring) for have in token.capabilities):
            raise VerificationError("not_covered", f"the token does not grant {requiring}")
        root = token
        while root.proofs and root.proofs[0] in chain.proofs:
            root = chain.proofs[root.proofs[0]]
        return VerifiedToken(token, chain, root.fact("org"), root.fact("env"), root.fact("app"),
                             root.fact("envelope"), root.fact("key"))

    @staticmethod
    def _check_token_revocation(snapshot: _Snapshot, token: Token, chain: ValidatedChain, roots: list[Token]) \
            -> None:
        if snapshot.revoked_tokens:
            for hasher in {cid.hasher for cid in snapshot.revoked_tokens}:
                own = token.cid_with(hasher)
                entry = snapshot.revoked_tokens.get(own) if own is not None else None
                if entry is not None and entry.issuer in chain.issuers:
                    raise VerificationError("revoked", f"token {entry.subject} is revoked")
                for cited, proof in chain.proofs.items():
                    cid = cited if cited.hasher == hasher else proof.cid_with(hasher)
                    entry = snapshot.revoked_tokens.get(cid) if cid is not None else None
                    if entry is not None and entry.issuer in chain.issuers:
                        raise VerificationError("revoked", f"proof {entry.subject} is revoked")
        if snapshot.revoked_envelopes:
            for root in roots:
                envelope = root.fact("envelope")
                entry = snapshot.revoked_envelopes.get(envelope) if envelope is not None else None
                if entry is not None:
                    raise VerificationError("revoked", f"envelope {entry.subject} is revoked")

    def verify_headers(self, headers: Mapping[str, str], requiring: Capability | None = None) -> VerifiedToken:
        """`verify` with the token from `Authorization: Bearer` and proofs from `ucans` (comma-separated)."""
        token, proofs = credentials(headers)
        return self.verify(token, proofs, requiring)

    def verify_invocation(
        self, invocation: bytes | str, proofs: Sequence[bytes | str] = (), command: str | None = None,
    ) -> VerifiedInvocation:
        """Verifies a 1.0 invocation (envelope bytes, or their base64) and the delegations its `prf` cites (any
        order), offline, and accepts each invocation once.

        It must be addressed to one of `audiences` and expire within `max_invocation_lifetime`; its chain must
        root at a trusted issuer of a trusted organization as subject; every policy on it must hold on the
        arguments (`policy_violation` names the statement); with `command`, the invocation's must be exactly it.
        Raises VerificationError with the first reason it is refused.
        """
        try:
            return self._verify_invocation(invocation, proofs, command)
        except VerificationError as error:
            raise self._refused(error) from None

    def _verify_invocation(
        self, invocation: bytes | str, proofs: Sequence[bytes | str], command: str | None,
    ) -> VerifiedInvocation:
        snapshot = self._snapshot
        now = self.clock()
        self._check_freshness(snapshot, now)
        raw = _envelope_bytes(invocation, "invocation")
        try:
            parsed = Invocation.parse(raw)
        except UCANError as error:
            raise verification_error(error) from None
        if parsed.audience is None or parsed.audience not in self.audiences:
            raise VerificationError("wrong_audience", "the invocation is not addressed to this service", "aud")
        seconds = int(now // 1)
        longest = self.max_invocation_lifetime
        if parsed.expiration is None or parsed.expiration > seconds + longest:
            raise VerificationError("malformed", f"an invocation must expire within {longest} seconds", "exp")
        if len(proofs) > 32:
            raise VerificationError("malformed", "more than 32 proofs supplied")
        supplied = _SuppliedDelegations(proofs, self._delegations)
        try:
            validated = validate_invocation(parsed, supplied, seconds, leeway=self.leeway,
                                            trusted_subjects=set(snapshot.trust.dids))
        except _Unreadable as unreadable:
            raise unreadable.error from None
        except UCANError as error:
            raise verification_error(error) from None
        supplied.parse_the_rest()
        if not validated.delegations:
            raise VerificationError("untrusted_issuer", "the invocation cites no delegation from Charter", "prf")
        root = validated.delegations[0]
        self._check_window(snapshot, root.issuer, now)
        verified = VerifiedInvocation(
            parsed, tuple(validated.delegations), root.meta_string("org"), root.meta_string("env"),
            root.meta_string("app"), root.meta_string("envelope"), root.meta_string("key"))
        self._check_organization(snapshot, verified.org, root.issuer)
        # Rooted at a trusted issuer of a trusted organization: now, and only now, worth keeping parsed (every
        # delegation parsed here is on the chain: only what validation read was).
        for delegation in supplied.read:
            self._delegations.put(delegation.bytes, delegation, len(delegation.bytes))
        if snapshot.revoked_tokens:
            issuers = {delegation.issuer for delegation in validated.delegations}
            for cid in parsed.proofs:
                entry = snapshot.revoked_tokens.get(cid) if cid in supplied else None
                if entry is not None and entry.issuer in issuers:
                    raise VerificationError("revoked", f"delegation {entry.subject} is revoked")
        if verified.envelope is not None and verified.envelope in snapshot.revoked_envelopes:
            raise VerificationError("revoked", f"envelope {verified.envelope} is revoked")
        if command is not None and parsed.command != command:
            raise VerificationError("not_covered", f"the invocation is for {parsed.command}, and this needs "
                                                   f"{command}", "cmd")
        # Remembered for as long as validation would accept it, leeway included; last, so that an invocation
        # refused for another reason is not remembered.
        outcome = self.replays.record(parsed.cid, parsed.expiration + max(0, self.leeway), seconds)
        if outcome == "replayed":
            raise VerificationError("replayed", f"invocation {parsed.cid} was presented before")
        if outcome != "fresh":
            raise VerificationError("overloaded", "too many live invocations to remember; try again shortly")
        return verified

    def verify_invocation_headers(self, headers: Mapping[str, str], command: str | None = None) \
            -> VerifiedInvocation:
        """`verify_invocation` with the invocation from `Authorization: Bearer <base64>` and its delegations from
        `ucans`, as Charter's `RequireInvocation` reads them."""
        if command is not None:
            check_command(command)
        invocation, proofs = credentials(headers)
        return self.verify_invocation(invocation, list(proofs), command)


def credentials(headers: Mapping[str, str]) -> tuple[str, list[str]]:
    """The bearer credential and the `ucans` proofs of a request's headers (any header-name case)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = lowered.get("authorization")
    if authorization is None:
        raise VerificationError("malformed", "no Authorization header")
    if len(authorization) <= 7 or authorization[:7].lower() != "bearer ":
        raise VerificationError("malformed", "the Authorization header is not a Bearer token")
    token = authorization[7:].strip(" \t")
    proofs = [part.strip(" \t") for part in lowered.get("ucans", "").split(",")]
    return token, [proof for proof in proofs if proof]


def _envelope_bytes(value: bytes | str, field_name: str) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    decoded = b64_decode(value)
    if not decoded:
        raise VerificationError("malformed", f"{field_name} is not the base64 of a UCAN 1.0 envelope", field_name)
    return decoded


def _parse_head(value: Any) -> _Head:
    fields = dict(value) if isinstance(value, dict) else {}
    signature_text = fields.pop("signature", None)
    signature = b64url_decode(signature_text) if isinstance(signature_text, str) else None
    if not (signature is not None and isinstance(fields.get("org"), str)
            and isinstance(fields.get("environment"), str) and all(
                is_int(fields.get(name)) for name in ("since", "next_since", "seq", "time_ms"))
            and isinstance(fields.get("entries"), str) and isinstance(fields.get("iss"), str)
            and is_did(fields["iss"])):
        raise FeedError("/v1/revocations: the page has no well-formed signed head")
    return _Head(fields["org"], fields["environment"], fields["since"], fields["next_since"], fields["seq"],
                 fields["time_ms"] / 1000, fields["entries"], fields["iss"], signature,
                 b"charter-feed-head:" + canonical_json(fields))


def _check_head(page: _Page, feed: FeedKey, position: _Position) -> None:
    """The head is its issuer's signature over exactly the page received, for the page asked, and no older than
    what the verifier has; whether the issuer is trusted for the feed is checked once the issuers are read."""
    head = page.head
    name = f"the {feed[0]} {feed[1]} feed"
    if not signature_holds(head.issuer, head.message, head.signature):
        raise FeedError(f"{name}: the page head's signature does not verify")
    if (head.org, head.environment) != feed or head.since != position.since or head.next_since != page.next_since:
        raise FeedError(f"{name}: the signed head is for another page")
    if b64url_encode(hashlib.sha256(canonical_json(page.listed)).digest()) != head.entries:
        raise FeedError(f"{name}: the entries are not the ones the head signs (dropped, altered or reordered)")
    if not (page.next_since >= head.since and head.seq >= page.next_since):
        raise FeedError(f"{name}: the signed head's range is inconsistent")
    if position.head is not None:
        last_seq, last_time = position.head
        if not ((head.time > last_time or (head.time == last_time and page.next_since > head.since))
                and head.seq >= last_seq):
            raise FeedError(f"{name}: the signed head is not newer than one already seen (a replayed answer)")

