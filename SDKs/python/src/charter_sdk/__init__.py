"""Charter for Python.

Agents trade an API key for short-lived UCAN capability tokens (`Client`, `AsyncClient`); upstream services verify
them offline against Charter's published issuers and signed revocation feed (`Verifier`). UCAN 0.10 tokens (JWT)
and UCAN 1.0 delegations and invocations (DAG-CBOR), Ed25519 through PyNaCl (libsodium).

The integrations are submodules, imported on their own so that the package needs none of their frameworks:
`charter_sdk.asgi` (`CharterMiddleware`, plain ASGI, exported here too), `charter_sdk.fastapi` (dependencies,
needs Starlette) and `charter_sdk.mcp` (a TokenVerifier and per-tool protection for MCP servers, needs the `mcp`
package). `ProtectedResource` describes a service as an OAuth protected resource (RFC 9728) for all of them.
"""

from ._crypto import CID, SigningKey
from .asgi import CharterMiddleware
from .client import AsyncClient, Client, Clock, RetryPolicy, SystemClock
from .errors import CharterError, UCANError, VerificationError
from .policy import Policy
from .resource import ProtectedResource
from .ucan import Capability, Token
from .ucan1 import Delegation, Invocation, SignedInvocation, sign_invocation
from .verifier import FeedError, VerifiedInvocation, VerifiedToken, Verifier

__all__ = [
    "AsyncClient", "CID", "Capability", "CharterError", "CharterMiddleware", "Client", "Clock", "Delegation",
    "FeedError", "Invocation", "Policy", "ProtectedResource", "RetryPolicy", "SignedInvocation", "SigningKey",
    "SystemClock", "Token", "UCANError", "VerificationError", "VerifiedInvocation", "VerifiedToken", "Verifier",
    "sign_invocation",
]
__version__ = "0.1.0"
