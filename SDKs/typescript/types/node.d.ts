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
  type Fn = (context: { skip(message?: string): void }) => void | Promise<void>;
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
    fail(message?: string): never;
    match(value: string, pattern: RegExp, message?: string): void;
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
  export function spawn(command: string, args: string[], options?: { stdio?: unknown[]; env?: Record<string, string | undefined> }): ChildProcess;
  export function spawnSync(command: string, args: string[], options: { encoding: "utf8"; env?: Record<string, string | undefined> }):
    { status: number | null; stdout: string; stderr: string };
}

declare module "node:fs" {
  export function readFileSync(path: string | URL, encoding: "utf8"): string;
  export function readFileSync(path: string | URL): Uint8Array;
  export function writeFileSync(path: string, data: string | Uint8Array, options?: { mode?: number }): void;
  export function mkdtempSync(prefix: string): string;
  export function mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): string | undefined;
  export function rmSync(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  export function openSync(path: string, flags: string, mode?: number): number;
  export function writeSync(fd: number, data: Uint8Array, offset?: number, length?: number): number;
  export function fsyncSync(fd: number): void;
  export function closeSync(fd: number): void;
  export function linkSync(existing: string, created: string): void;
  export function unlinkSync(path: string): void;
  export function existsSync(path: string): boolean;
  export function readdirSync(path: string): string[];
  export function statSync(path: string): { mode: number };
  export function lstatSync(path: string): { mode: number; isSymbolicLink(): boolean };
  export function symlinkSync(target: string, path: string): void;
  export function chmodSync(path: string, mode: number): void;
}

declare module "node:os" {
  export function tmpdir(): string;
  export function homedir(): string;
}

declare module "node:path" {
  export function join(...parts: string[]): string;
  export function dirname(path: string): string;
}

declare module "node:http" {
  export interface IncomingMessage { headers: Record<string, string | string[] | undefined>; method?: string; url?: string }
  export interface ServerResponse {
    statusCode: number;
    setHeader(name: string, value: string): this;
    end(body?: string): this;
  }
  export interface Server {
    listen(port: number, host: string, listening: () => void): Server;
    address(): { port: number };
    close(closed?: () => void): void;
    closeAllConnections(): void;
  }
  export function createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server;
}

declare module "node:url" {
  export function pathToFileURL(path: string): URL;
  export function fileURLToPath(url: string | URL): string;
}

declare module "node:util" {
  export function inspect(value: unknown, options?: { getters?: boolean; showHidden?: boolean; depth?: number }): string;
}

declare const process: {
  env: Record<string, string | undefined>;
  hrtime: { bigint(): bigint };
  execPath: string;
  argv: string[];
  exitCode: number | undefined;
  on(event: "SIGINT" | "SIGTERM", listener: () => void): void;
};

declare const Buffer: {
  from(data: Uint8Array | string, encoding?: string): Uint8Array;
};

interface Timeout { unref(): void }
