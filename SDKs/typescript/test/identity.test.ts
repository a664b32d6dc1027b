// Identity files: the format `charter ucan keygen` prints and the Swift and Python clients keep, created 0600 and
// whole, read back by this SDK and by the Python SDK.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CharterError, Client, SigningKey, defaultIdentityFile, loadIdentity, saveIdentity } from "../src/index.js";
import { b64Decode, b64Encode } from "../src/encoding.js";

const directory = mkdtempSync(join(tmpdir(), "charter-identity-"));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const fresh = () => join(directory, `case-${files++}`, "agent-identity.json");

const errorCode = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof CharterError) return error.code;
    throw error;
  }
  return "none";
};

test("the first load creates the file: 0600, in a 0700 directory, {did, secret_key} as the other SDKs write it", () => {
  const path = fresh();
  const key = loadIdentity(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(path, "..")).mode & 0o777, 0o700);
  const text = readFileSync(path, "utf8");
  const document = JSON.parse(text);
  assert.deepEqual(Object.keys(document), ["did", "secret_key"]);
  assert.equal(text, `{"did":"${key.did}","secret_key":"${document.secret_key}"}`, "compact, keys sorted");
  assert.match(document.secret_key, /^[A-Za-z0-9+/]{86}==$/, "padded standard base64 of 64 bytes");
  assert.equal(b64Encode(key.exportSecretKey()), document.secret_key);
  assert.equal(loadIdentity(path).did, key.did, "read back, not replaced");
  assert.deepEqual(readdirSync(join(path, "..")), ["agent-identity.json"], "no temporary file left behind");
});

test("saveIdentity never overwrites, and what it writes loads", () => {
  const path = fresh();
  const key = SigningKey.generate();
  saveIdentity(key, path);
  assert.equal(loadIdentity(path).did, key.did);
  const before = readFileSync(path, "utf8");
  assert.equal(errorCode(() => saveIdentity(SigningKey.generate(), path)), "identity_exists");
  assert.equal(readFileSync(path, "utf8"), before);
});

test("a file that holds no key, or a key another DID claims, is identity_unreadable", () => {
  const key = SigningKey.generate();
  const secret = b64Encode(key.exportSecretKey());
  const cases = [
    "not json", "{}", '{"secret_key": 1}', '{"secret_key":"%%%"}',
    `{"secret_key":"${b64Encode(key.exportSecretKey().subarray(0, 32))}"}`,
    `{"did":"${SigningKey.generate().did}","secret_key":"${secret}"}`,
    `{"secret_key":"${b64Encode(Uint8Array.from([...key.exportSecretKey().subarray(0, 32), ...SigningKey.generate().publicKey]))}"}`,
  ];
  for (const text of cases) {
    const path = fresh();
    saveIdentity(key, path);
    writeFileSync(path, text);
    assert.equal(errorCode(() => loadIdentity(path)), "identity_unreadable", text);
  }
  const path = fresh();
  saveIdentity(key, path);
  writeFileSync(path, `{"secret_key":"${secret.replace(/=+$/, "")}"}`);
  assert.equal(loadIdentity(path).did, key.did, "unpadded base64 and no did are read, as the Python SDK reads them");
});

test("a symbolic link to nothing is identity_unreadable, and is neither followed nor replaced", () => {
  const path = fresh();
  mkdirSync(join(path, ".."), { recursive: true });
  const target = join(path, "..", "elsewhere.json");
  symlinkSync(target, path);
  const error = (() => {
    try {
      loadIdentity(path);
    } catch (thrown) {
      return thrown;
    }
    return undefined;
  })();
  assert.ok(error instanceof CharterError, `a typed error, not ${error}`);
  assert.equal(error.code, "identity_unreadable");
  assert.match(error.message, /symbolic link to nothing/);
  assert.ok(!existsSync(target), "no key written through the link");
  assert.equal(errorCode(() => saveIdentity(SigningKey.generate(), path)), "identity_exists");
  assert.deepEqual(readdirSync(join(path, "..")).sort(), ["agent-identity.json"], "no temporary file left behind");
});

test("charter ucan keygen's output is an identity file", () => {
  const binary = process.env.CHARTER;
  if (!binary) return;
  const printed = spawnSync(binary, ["ucan", "keygen"], { encoding: "utf8" });
  assert.equal(printed.status, 0);
  const path = fresh();
  saveIdentity(SigningKey.generate(), path);
  writeFileSync(path, printed.stdout);
  assert.equal(loadIdentity(path).did, JSON.parse(printed.stdout).did);
});

const PYTHON = new URL("../../../../.build/python-sdk-venv/bin/python", import.meta.url).pathname;
const PYTHON_SDK = new URL("../../../python/src", import.meta.url).pathname;

test("the Python SDK reads the file this SDK writes, and this SDK the file the Python SDK writes", (context) => {
  if (!existsSync(PYTHON)) {
    context.skip("no Python SDK virtualenv at .build/python-sdk-venv");
    return;
  }
  const python = (path: string) => {
    const run = spawnSync(PYTHON, ["-c", "import sys; from charter_sdk.identity import load_identity; print(load_identity(sys.argv[1]).did)", path],
      { encoding: "utf8", env: { ...process.env, PYTHONPATH: PYTHON_SDK } });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.trim();
  };
  const ours = fresh();
  const key = loadIdentity(ours);
  assert.equal(python(ours), key.did);
  const theirs = fresh().replace("agent-identity.json", "python.json");
  const did = python(theirs);
  assert.equal(loadIdentity(theirs).did, did);
  assert.equal(b64Decode(JSON.parse(readFileSync(theirs, "utf8")).secret_key)!.length, 64);
});

test("a Client keeps its DID in ~/.charter/agent-identity.json by default, or in the file it is given", () => {
  const home = process.env.HOME;
  process.env.HOME = join(directory, "home");
  try {
    assert.equal(defaultIdentityFile(), join(directory, "home", ".charter", "agent-identity.json"));
    const first = new Client({ server: "http://127.0.0.1:9", apiKey: "chr_live_x" });
    const second = new Client({ server: "http://127.0.0.1:9", apiKey: "chr_live_x" });
    assert.equal(second.did, first.did);
    assert.equal(loadIdentity(defaultIdentityFile()).did, first.did);
  } finally {
    process.env.HOME = home;
  }
  const path = fresh();
  const given = new Client({ server: "http://127.0.0.1:9", apiKey: "chr_live_x", identity: path });
  assert.equal(loadIdentity(path).did, given.did);
});
