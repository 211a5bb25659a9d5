// A node child process inside a network namespace, driven over IPC: requests carry an id
// and get one reply, events are pushed, output goes to a log file. The interop speaker
// and the fault-test speakers are both this, with their own commands.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Lab, Ns } from './netns.js';
import { pidAlive } from './proc.js';
import { tail } from './peers/index.js';

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface IpcChildSpawn {
  readonly lab: Lab;
  readonly ns: Ns;
  readonly script: string;
  readonly logFile: string;
  readonly nodeArgs?: readonly string[];
}

export class IpcChild<Cmd extends { cmd: string }, Ev> {
  readonly events: Ev[] = [];
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; cmd: string }>();
  protected exited: string | undefined;

  /**
   * Starts `script` inside the namespace (`ip netns exec` execs node, so the IPC fd and
   * the pid are node's); killed by pid on lab cleanup. `name` prefixes error messages,
   * `logLines` is how much of the log they quote. Call `ready()` before the first call.
   */
  protected constructor(
    s: IpcChildSpawn,
    private readonly name: string,
    private readonly logLines: number,
  ) {
    this.logFile = s.logFile;
    const fd = openSync(s.logFile, 'a');
    try {
      this.child = spawn('ip', ['netns', 'exec', s.ns.netns, process.execPath, ...(s.nodeArgs ?? []), s.script], { stdio: ['ignore', fd, fd, 'ipc'] });
    } finally {
      closeSync(fd);
    }
    this.child.on('error', () => undefined);
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`cannot start ${name}`);
    this.pid = pid;
    s.lab.onCleanup(() => {
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    this.child.on('message', (raw: unknown) => {
      const m = raw as Reply | { event: Ev };
      if ('event' in m) {
        this.events.push(m.event);
        return;
      }
      if (!('id' in m)) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name} ${p.cmd}: ${m.error}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = `exited (${code ?? signal})`;
      for (const p of this.pending.values()) p.reject(new Error(`${name} ${this.exited} during ${p.cmd}\n${this.log()}`));
      this.pending.clear();
    });
  }

  /** Resolves on the child's first message (it sends one when it is ready). */
  protected ready(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onExit = (): void => reject(new Error(`${this.name} exited during start\n${this.log()}`));
      this.child.once('message', () => {
        this.child.off('exit', onExit);
        resolve();
      });
      this.child.once('exit', onExit);
    });
  }

  log(): string {
    try {
      return tail(readFileSync(this.logFile, 'utf8'), this.logLines);
    } catch {
      return '';
    }
  }

  call<T = unknown>(c: Cmd): Promise<T> {
    if (this.exited !== undefined) return Promise.reject(new Error(`${this.name} ${this.exited}\n${this.log()}`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, cmd: c.cmd });
      this.child.send({ id, ...c });
    });
  }
}
