export { CharterError, UCANError, VerificationError, type VerificationCode } from "./errors.js";
export { CID, SigningKey, didOf, isDID } from "./crypto.js";
export { Policy } from "./policy.js";
export { Capability, Token, type Capabilities, type CapabilityMap, type Caveat } from "./ucan.js";
export { ProofStore, validate, type ValidatedChain, type ValidationOptions } from "./validate.js";
export { Delegation, Invocation, SignedInvocation, signInvocation, checkCommand, proves } from "./ucan1.js";
export { validateInvocation, type InvocationValidationOptions, type ValidatedInvocation } from "./validate-invocation.js";
export type { IPLD } from "./dagcbor.js";
export { Verifier, FeedError, ReplayCache, NEW_KEYS_PER_VERIFICATION, credentials, type VerifierOptions, type VerifiedToken, type VerifiedInvocation, type Grant, type HeadersLike } from "./verifier.js";
export { Guard, type GuardOptions, type Requirement, type Refusal, type VerifiedFor } from "./middleware.js";
export { charterMiddleware, withCharter, metadataMiddleware, type NodeRequest, type NodeResponse, type Next, type CharterRequest } from "./node.js";
export { charterFetch, verifiedOf, metadataFetch } from "./fetch.js";
export {
  protectedResourceMetadata, protectedResourceMetadataURL, protectedResourceMetadataPath, metadataAnswer, checkScope,
  type ProtectedResource, type ProtectedResourceMetadata,
} from "./metadata.js";
export { loadIdentity, saveIdentity, defaultIdentityFile } from "./identity.js";
export { Client, systemClock, DEFAULT_RETRY, type ClientOptions, type Clock, type RetryPolicy, type Credential } from "./client.js";
