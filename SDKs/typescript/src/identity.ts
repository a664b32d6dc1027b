// The agent's identity on disk: `{"did", "secret_key"}` with the base64 of libsodium's 64-byte secret key (seed, then
// public key), the file `charter ucan keygen` prints and the Swift and Python clients keep at
// `~/.charter/agent-identity.json`, readable by its owner only.

import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { SigningKey, randomBytes } from "./crypto.js";
import { b64Decode, b64Encode, canonicalJSON, fromUtf8, hex, isObject, parseJSON, utf8 } from "./encoding.js";
import { CharterError } from "./errors.js";

/** `~/.charter/agent-identity.json`, where the Charter clients keep an agent's key by default. */
export function defaultIdentityFile(): string {
  return join(homedir(), ".charter", "agent-identity.json");
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

function read(path: string): SigningKey {
  const data = readFileSync(path);
  const unreadable = new CharterError("identity_unreadable", `${path} holds no Ed25519 key`);
  let document: unknown;
  try {
    const text = fromUtf8(data);
    document = text === null ? null : parseJSON(text);
  } catch {
    throw unreadable;
  } finally {
    data.fill(0);
  }
  const text = isObject(document) ? document.secret_key : undefined;
  const secret = typeof text === "string" ? b64Decode(text) : null;
  if (secret === null || secret.length !== 64) throw unreadable;
  let key: SigningKey;
  try {
    key = SigningKey.fromSecret(secret);
  } catch {
    throw unreadable;
  } finally {
    secret.fill(0);
  }
  const did = (document as Record<string, unknown>).did;
  if (typeof did === "string" && did !== key.did) {
    throw new CharterError("identity_unreadable", `${path}: did does not match the key`);
  }
  return key;
}

/**
 * Writes `key` to a new identity file at `path`, mode 0600 (its directory, when created, 0700). The file appears
 * whole or not at all: it is written and synced under a temporary name, then linked into place, which fails if
 * `path` exists (CharterError `identity_exists`), even as a symbolic link; no other process ever reads a half-written
 * key. The temporary name is removed whatever happens, and the directory synced, so that the new name (and not the
 * temporary one) survives a crash.
 */
export function saveIdentity(key: SigningKey, path: string): void {
  const secret = key.exportSecretKey();
  const text = utf8(canonicalJSON({ did: key.did, secret_key: b64Encode(secret) }));
  secret.fill(0);
  const directory = dirname(path);
  const temporary = join(directory, `.${hex(randomBytes(8))}.tmp`);
  let created = false, linking = false;
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const descriptor = openSync(temporary, "wx", 0o600);
    created = true;
    try {
      let written = 0;
      while (written < text.length) written += writeSync(descriptor, text, written, text.length - written);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    linking = true;
    linkSync(temporary, path);
  } catch (error) {
    if (linking && errorCode(error) === "EEXIST") throw new CharterError("identity_exists", `${path} already exists`);
    throw new CharterError("identity_unreadable", `cannot create ${path}: ${errorCode(error) ?? "failed"}`);
  } finally {
    text.fill(0);
    if (created) {
      try {
        unlinkSync(temporary);
      } catch {
        // already gone
      }
      syncDirectory(directory);
    }
  }
}

/** Makes the directory's entries durable (the link made, the temporary name removed); best effort where unsupported. */
function syncDirectory(directory: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(directory, "r");
    fsyncSync(descriptor);
  } catch {
    // a file system or platform (Windows) that cannot sync a directory: the file itself was synced
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/** `read`, with any failure to read the file as CharterError `identity_unreadable`. */
function readExisting(path: string): SigningKey {
  try {
    return read(path);
  } catch (error) {
    if (error instanceof CharterError) throw error;
    let why = errorCode(error) ?? "failed";
    try {
      if (why === "ENOENT" && lstatSync(path).isSymbolicLink()) why = "a symbolic link to nothing";
    } catch {
      // gone since
    }
    throw new CharterError("identity_unreadable", `cannot read ${path}: ${why}`);
  }
}

/**
 * The agent's key from an identity file, created with a fresh key the first time (see `saveIdentity`). When two
 * processes start at once, both end up with the key of the one that created the file. Throws CharterError
 * `identity_unreadable` when the file exists but holds no key, or cannot be read (a symbolic link to nothing
 * included) or created.
 */
export function loadIdentity(path: string = defaultIdentityFile()): SigningKey {
  try {
    return read(path);
  } catch (error) {
    if (error instanceof CharterError) throw error;
    if (errorCode(error) !== "ENOENT") {
      throw new CharterError("identity_unreadable", `cannot read ${path}: ${errorCode(error) ?? "failed"}`);
    }
  }
  const key = SigningKey.generate();
  try {
    saveIdentity(key, path);
  } catch (error) {
    // Another process won, or the name is taken by something that cannot be read (a dangling symbolic link).
    if (error instanceof CharterError && error.code === "identity_exists") return readExisting(path);
    throw error;
  }
  return key;
}
