// The few Node built-ins the SDK and its tests use. Debian's node-typescript ships no @types/node and no npm
// registry is reachable, so these minimal declarations stand in; they are build-time only and never reach users
// (the SDK's public types reference none of them).

declare module "node:crypto" {
  export interface KeyObject {
    readonly type: string;
    export(options: { format: "jwk" }): { kty?: string; crv?: string; x?: string; d?: string };
    export(options: { format: "der"; type: "spki" | "pkcs8" }): Uint8Array;
  }
  export function createPublicKey(key: { key: Uint8Array; format: "der"; type: "spki" }): KeyObject;
  export function createPrivateKey(key: { key: Uint8Array; format: "der"; type: "pkcs8" }): KeyObject;
  export function generateKeyPairSync(type: "ed25519"): { publicKey: KeyObject; privateKey: KeyObject };
  export function sign(algorithm: null, data: Uint8Array, key: KeyObject): Uint8Array;
  export function verify(algorithm: null, data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean;
  export function createHash(algorithm: string): { update(data: Uint8Array | string): { digest(): Uint8Array } };
  export function randomBytes(size: number): Uint8Array;
}

declare module "node:test" {
  type Fn = (context: any) => void | Promise<void>;
  export function test(name: string, fn: Fn): Promise<void>;
  export function test(name: string, options: { timeout?: number; skip?: boolean | string }, fn: Fn): Promise<void>;
  export function describe(name: string, fn: () => void | Promise<void>): void;
  export function it(name: string, fn: Fn): void;
  export function before(fn: () => void | Promise<void>, options?: { timeout?: number }): void;
  export function after(fn: () => void | Promise<void>): void;
}

declare module "node:assert/strict" {
  interface Assert {
    (value: unknown, message?: string): asserts value;
    ok(value: unknown, message?: string): asserts value;
    equal(actual: unknown, expected: unknown, message?: string): void;
    notEqual(actual: unknown, expected: unknown, message?: string): void;
    deepEqual(actual: unknown, expected: unknown, message?: string): void;
    throws(fn: () => unknown, expected?: unknown, message?: string): void;
    rejects(promise: Promise<unknown> | (() => Promise<unknown>), expected?: unknown, message?: string): Promise<void>;
  }
  const assert: Assert;
  export default assert;
}

declare module "node:child_process" {
  interface Readable { on(event: "data", listener: (chunk: Uint8Array) => void): void; setEncoding(e: string): void }
  export interface ChildProcess {
    stdout: Readable | null;
    stderr: Readable | null;
    exitCode: number | null;
    kill(signal?: string): boolean;
    on(event: "exit", listener: (code: number | null) => void): void;
  }
  export function spawn(command: string, args: string[], options?: { stdio?: unknown[] }): ChildProcess;
}

declare module "node:fs" {
  export function readFileSync(path: string | URL, encoding: "utf8"): string;
  export function mkdtempSync(prefix: string): string;
  export function rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
}

declare module "node:os" {
  export function tmpdir(): string;
}

declare module "node:path" {
  export function join(...parts: string[]): string;
}

declare const process: {
  env: Record<string, string | undefined>;
  hrtime: { bigint(): bigint };
};

interface Timeout { unref(): void }
