// The harness's side of the feeder child: starts it inside the feeder namespace, sends
// requests, and turns its event lines into EventEmitter events.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Ns } from '../../test/lib/netns.js';
import { terminate } from '../../test/lib/proc.js';
import type { PhaseResult } from '../feeder/feeder.js';
import type { Answer, BuildAnswer, BuildRequest, FeederEvent, GapsAnswer, SessionRequest } from './feeder-protocol.js';

const CHILD_JS = fileURLToPath(new URL('./feeder-child.js', import.meta.url));

type Events = { [E in FeederEvent as E['event']]: [E] } & { exit: [code: number | null] };

export class FeederClient extends EventEmitter<Events> {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited = false;

  private constructor(child: ChildProcess) {
    super();
    this.child = child;
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => this.onLine(line));
    child.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`feeder exited (${code ?? 'signal'})`));
      this.pending.clear();
      this.emit('exit', code);
    });
  }

  /** Starts the child in `ns`; its stderr goes to `logFile`. Node's heap is raised for 1M+ tables. */
  static start(ns: Ns, logFile: string): FeederClient {
    const child = spawn('ip', ['netns', 'exec', ns.netns, process.execPath, '--max-old-space-size=8192', CHILD_JS], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.on('error', () => undefined);
    child.stderr!.pipe(createWriteStream(logFile, { flags: 'a' }));
    return new FeederClient(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onLine(line: string): void {
    let msg: Answer | FeederEvent;
    try {
      msg = JSON.parse(line) as Answer | FeederEvent;
    } catch {
      return;
    }
    if ('event' in msg) {
      (this.emit as (e: string, a: FeederEvent) => boolean)(msg.event, msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(msg.error));
  }

  private request<T>(req: object): Promise<T> {
    if (this.exited) return Promise.reject(new Error('feeder is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  }

  build(r: Omit<BuildRequest, 'cmd'>): Promise<BuildAnswer> {
    return this.request({ cmd: 'build', ...r });
  }

  /** Resolves once the feeder listens; then 'established', 'announced' or 'session-error' follow. */
  session(r: Omit<SessionRequest, 'cmd'>): Promise<{ port: number }> {
    return this.request({ cmd: 'session', ...r });
  }

  withdraw(): Promise<PhaseResult> {
    return this.request({ cmd: 'withdraw' });
  }

  gaps(reset: boolean): Promise<GapsAnswer> {
    return this.request({ cmd: 'gaps', reset });
  }

  /** GET from inside the feeder namespace (the receiver's metrics endpoint). */
  fetch(url: string, timeoutMs = 10_000): Promise<string> {
    return this.request({ cmd: 'fetch', url, timeoutMs });
  }

  closeSession(): Promise<boolean> {
    return this.request({ cmd: 'close' });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const pid = this.child.pid;
    try {
      await Promise.race([this.request({ cmd: 'exit' }), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // it is going away anyway
    }
    if (pid !== undefined) await terminate(pid, 2000);
  }
}
