// Small process helpers for the interop/e2e harness: run a command with a timeout and
// capture its output, poll until something holds, and signal processes by pid.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code, or null when the process was ended by a signal (see `signal`). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when our timeout killed it. */
  readonly timedOut: boolean;
}

export interface RunOptions {
  /** Kill the command (SIGKILL) after this long. Default 15 s. */
  readonly timeoutMs?: number;
  readonly input?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs `cmd args` without a shell and resolves with its output; never rejects on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 15_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal,
        timedOut,
      });
    });
    // A command that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like `run` but rejects with the command line and its stderr when it does not exit 0. */
export async function check(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? 'timed out' : r.signal !== null ? `killed by ${r.signal}` : `exit ${r.code}`;
    throw new Error(`${cmd} ${args.join(' ')}: ${why}\n${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions<T> {
  /** Give up after this long. Default 10 s. */
  readonly timeoutMs?: number;
  /** Pause between polls. Default 200 ms. */
  readonly intervalMs?: number;
  /** Done when this holds for the observed value; default: the value is truthy. */
  readonly until?: (value: T) => boolean;
  /** Names what we wait for in the timeout message. */
  readonly label?: string;
}

/**
 * Polls `fn` until its value satisfies `until` (default: truthy) and returns that value.
 * A throwing `fn` counts as "not yet". On timeout it throws with the last observed value
 * (or error), so a failing test shows what the peer really had.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  optsOrTimeout: WaitOptions<T> | number = {},
  intervalMs?: number,
): Promise<T> {
  const opts: WaitOptions<T> = typeof optsOrTimeout === 'number' ? { timeoutMs: optsOrTimeout } : optsOrTimeout;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const interval = intervalMs ?? opts.intervalMs ?? 200;
  const until = opts.until ?? ((v: T) => Boolean(v));
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await fn();
      last = { value };
      if (until(value)) return value;
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
  const seen =
    last === undefined
      ? 'nothing'
      : 'error' in last
        ? `error: ${last.error instanceof Error ? last.error.message : String(last.error)}`
        : `value: ${show(last.value)}`;
  throw new Error(`waitFor${opts.label ? ` (${opts.label})` : ''} timed out after ${timeoutMs} ms; last ${seen}`);
}

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 4000 ? `${s.slice(0, 4000)}…` : s;
  } catch {
    return String(v);
  }
}

/** True while `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The short command name of a live process, or undefined. */
export function pidComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL and wait for it to disappear. Resolves true if it is gone. */
export async function terminate(pid: number, graceMs = 3000): Promise<boolean> {
  if (!pidAlive(pid)) return true;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await sleep(25);
  }
  signal(pid, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (Date.now() < hard) {
    if (!pidAlive(pid)) return true;
    await sleep(25);
  }
  return !pidAlive(pid);
}

const sab = new Int32Array(new SharedArrayBuffer(4));
/** Blocking sleep for exit handlers, where nothing asynchronous runs any more. */
export function sleepSync(ms: number): void {
  Atomics.wait(sab, 0, 0, ms);
}

/** Synchronous `terminate` for process-exit handlers. */
export function terminateSync(pid: number, graceMs = 1000): void {
  if (!pidAlive(pid)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pidAlive(pid)) sleepSync(20);
  if (pidAlive(pid)) signal(pid, 'SIGKILL');
}
