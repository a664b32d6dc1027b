"""The agent's identity: an Ed25519 key, given or kept in a 0600 JSON file as `charter ucan keygen` prints it."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Union

from ._crypto import SigningKey
from ._encoding import b64_decode, b64_encode
from .errors import CharterError

IdentitySource = Union[SigningKey, str, "os.PathLike[str]", None]
"""A key, a path to an identity file, or None for `~/.charter/agent-identity.json`."""


def default_identity_file() -> Path:
    return Path.home() / ".charter" / "agent-identity.json"


def load_identity(source: IdentitySource) -> SigningKey:
    """The key itself, or the key in the file, created (mode 0600, `O_EXCL`) the first time."""
    if isinstance(source, SigningKey):
        return source
    path = Path(source) if source is not None else default_identity_file()
    try:
        return _load(path.read_bytes(), path)
    except FileNotFoundError:
        return _create(path)
    except OSError as error:
        raise CharterError("identity_unreadable", f"cannot read {path}: {error.strerror}") from None


def _load(data: bytes, path: Path) -> SigningKey:
    unreadable = CharterError("identity_unreadable", f"{path} holds no Ed25519 key")
    try:
        document = json.loads(data)
    except ValueError:
        raise unreadable from None
    text = document.get("secret_key") if isinstance(document, dict) else None
    secret = b64_decode(text) if isinstance(text, str) else None
    if secret is None:
        raise unreadable
    try:
        key = SigningKey.from_secret(secret) if len(secret) == 64 else None
    except ValueError:
        key = None
    if key is None:
        raise unreadable
    did = document.get("did")
    if isinstance(did, str) and did != key.did:
        raise CharterError("identity_unreadable", f"{path}: did does not match the key")
    return key


def _create(path: Path) -> SigningKey:
    key = SigningKey.generate()
    text = json.dumps({"did": key.did, "secret_key": b64_encode(key.secret_key)}, sort_keys=True,
                      separators=(",", ":")).encode()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        # Another process won the race: use its key.
        return _load(path.read_bytes(), path)
    except OSError as error:
        raise CharterError("identity_unreadable", f"cannot create {path}: {os.strerror(error.errno or errno.EIO)}") \
            from None
    try:
        written = os.write(descriptor, text)
        os.fsync(descriptor)
        if written != len(text):
            raise OSError(errno.EIO, "short write")
    except OSError:
        os.close(descriptor)
        path.unlink(missing_ok=True)
        raise CharterError("identity_unreadable", f"cannot write {path}") from None
    os.close(descriptor)
    return key
