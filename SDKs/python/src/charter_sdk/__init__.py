"""Charter for Python.

Agents trade an API key for short-lived UCAN capability tokens (`Client`, `AsyncClient`); upstream services verify
them offline against Charter's published issuers and signed revocation feed (`Verifier`). UCAN 0.10 tokens (JWT)
and UCAN 1.0 delegations and invocations (DAG-CBOR), Ed25519 through PyNaCl (libsodium).
"""

from ._crypto import CID, SigningKey
from .client import AsyncClient, Client, Clock, RetryPolicy, SystemClock
from .errors import CharterError, UCANError, VerificationError
from .policy import Policy
from .ucan import Capability, Token
from .ucan1 import Delegation, Invocation, SignedInvocation, sign_invocation
from .verifier import FeedError, VerifiedInvocation, VerifiedToken, Verifier

__all__ = [
    "AsyncClient", "CID", "Capability", "CharterError", "Client", "Clock", "Delegation", "FeedError", "Invocation",
    "Policy", "RetryPolicy", "SignedInvocation", "SigningKey", "SystemClock", "Token", "UCANError",
    "VerificationError", "VerifiedInvocation", "VerifiedToken", "Verifier", "sign_invocation",
]
__version__ = "0.1.0"
