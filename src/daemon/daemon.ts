/**
 * tsbgpd's core: loads the configuration for this node, runs one InstanceRuntime per
 * BGP instance, and applies reloads as a diff so only what changed is touched. An
 * invalid configuration never tears anything down: the last good one keeps running
 * and the error is kept for `tsbgp config` and the metrics.
 */
import { EventEmitter } from 'node:events';
import { FileSource } from '../config/file-source.js';
import type { ConfigSource } from '../config/source.js';
import type { Diagnostic } from '../config/diagnostics.js';
import { diffConfigs, planChanges } from '../config/diff.js';
import type { Instance, NodeConfig } from '../config/model.js';
import { createKernelFib } from '../fib/kernel.js';
import { createMemoryFib, type SimKernel } from '../fib/memory.js';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../observability/log.js';
import { InstanceRuntime, type FibFactory } from './instance.js';

export interface DaemonOptions {
  /** What the configuration is read from, shown by `tsbgp config`: the --config paths, or `source.describe()`. */
  readonly configPaths: readonly string[];
  /** Where the configuration comes from; default: a FileSource over `configPaths`. */
  readonly source?: ConfigSource;
  readonly nodeName: string;
  /** `kernel` writes routes over rtnetlink; `memory` is a dry run (no privileges needed). */
  readonly fib: 'kernel' | 'memory';
  readonly log: Logger;
  readonly secretNamespace?: string;
}

export interface ReloadRecord {
  readonly at: number;
  readonly ok: boolean;
  readonly trigger: string;
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
  readonly changes: readonly string[];
}

export interface DaemonEvents {
  reload: [record: ReloadRecord];
  instance: [runtime: InstanceRuntime, added: boolean];
}

export class Daemon extends EventEmitter<DaemonEvents> {
  readonly options: DaemonOptions;
  readonly startedAt = Date.now();
  config: NodeConfig | undefined;
  appliedAt: number | undefined;
  lastReload: ReloadRecord | undefined;
  readonly instances = new Map<string, InstanceRuntime>();
  readonly source: ConfigSource;
  private readonly log: Logger;
  private reloading: Promise<void> = Promise.resolve();

  constructor(options: DaemonOptions) {
    super();
    this.options = options;
    this.log = options.log;
    this.source =
      options.source ??
      new FileSource(options.configPaths, options.nodeName, options.secretNamespace !== undefined ? { secretNamespace: options.secretNamespace } : {});
  }

  /** Loads and applies the configuration; resolves false when it was refused. */
  async start(): Promise<boolean> {
    return this.reload('start');
  }

  /** Reloads (SIGHUP, file change). Serialised: one reload at a time. */
  reload(trigger: string): Promise<boolean> {
    const run = this.reloading.then(() => this.doReload(trigger));
    this.reloading = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Stops every instance. `keepRoutes` unset: an instance with graceful restart enabled
   * keeps its kernel routes and closes its sessions gracefully (tsbgpd restarting, e.g.
   * an upgrade); without graceful restart, Cease and routes removed.
   */
  async stop(opts: { keepRoutes?: boolean } = {}): Promise<void> {
    await this.reloading;
    for (const rt of this.instances.values()) await rt.stop(opts.keepRoutes ?? rt.gracefulRestartEnabled);
    this.instances.clear();
  }

  private async doReload(trigger: string): Promise<boolean> {
    const res = await this.source.load();
    for (const w of res.warnings) this.log.warn({ code: w.code, path: w.path, file: w.file, object: w.object }, w.message);
    if (res.config === undefined) {
      for (const e of res.errors) this.log.error({ code: e.code, path: e.path, file: e.file, line: e.line, object: e.object }, e.message);
      this.record({ at: Date.now(), ok: false, trigger, errors: res.errors, warnings: res.warnings, changes: [] });
      this.log.error({ trigger }, 'configuration refused; the previous configuration keeps running');
      return false;
    }
    const changes = await this.apply(res.config);
    this.config = res.config;
    this.appliedAt = Date.now();
    this.record({ at: Date.now(), ok: true, trigger, errors: [], warnings: res.warnings, changes });
    this.log.info({ trigger, changes: changes.length, instances: this.instances.size }, 'configuration applied');
    return true;
  }

  private record(r: ReloadRecord): void {
    this.lastReload = r;
    this.emit('reload', r);
  }

  /** Brings the running instances to `next`; returns one line per change. */
  private async apply(next: NodeConfig): Promise<string[]> {
    const prev = this.config;
    const lines: string[] = [];
    if (prev === undefined) {
      for (const inst of next.instances) {
        await this.startInstance(inst);
        lines.push(`instance ${inst.name} started`);
      }
      return lines;
    }
    const changes = diffConfigs(prev, next);
    const plan = planChanges(changes);
    const byName = new Map(next.instances.map((i) => [i.name, i]));
    // Instances removed or needing a restart go first, then new ones start.
    for (const name of [...this.instances.keys()]) {
      if (!byName.has(name) || plan.restartInstances.includes(name)) {
        await this.instances.get(name)!.stop();
        this.instances.delete(name);
        lines.push(`instance ${name} stopped`);
      }
    }
    for (const inst of next.instances) {
      if (!this.instances.has(inst.name)) {
        await this.startInstance(inst);
        lines.push(`instance ${inst.name} started`);
      }
    }
    for (const a of plan.peers) {
      const rt = this.instances.get(a.instance);
      const inst = byName.get(a.instance);
      if (!rt || !inst) continue;
      rt.applyPeer(a.peer, a.effect, inst);
      lines.push(`${a.instance} peer ${a.peer}: ${a.effect}`);
    }
    // Instance-level settings that need no restart (e.g. advertisements only).
    for (const inst of next.instances) {
      const rt = this.instances.get(inst.name);
      if (rt && rt.config !== inst) rt.config = inst;
    }
    return lines;
  }

  private async startInstance(inst: Instance): Promise<void> {
    const rt = new InstanceRuntime(inst, this.fibFactory());
    rt.on('state', (n, to, from) => this.log.info({ instance: inst.name, neighbor: n.address, from, to }, 'session state'));
    rt.on('prefixLimit', (p, afi, kind, count, max) =>
      this.log.warn({ instance: inst.name, neighbor: p.neighbor.address, afi, kind, count, max }, 'prefix limit'),
    );
    rt.on('inboundPolicy', (n, action, why) => {
      const fields = { instance: inst.name, neighbor: n.address, action };
      if (action === 'session-reset') this.log.warn(fields, why);
      else this.log.info(fields, why);
    });
    rt.on('reevaluated', (p, afi, accepted, rejected) => {
      if (accepted + rejected > 0) {
        this.log.info({ instance: inst.name, neighbor: p.neighbor.address, afi, accepted, rejected }, 'import policy re-evaluated from pre-policy copies');
      }
    });
    rt.on('stale', (p, afi, event, count) =>
      this.log.info({ instance: inst.name, neighbor: p.neighbor.address, afi, event, count }, 'graceful restart: stale routes'),
    );
    rt.on('restartComplete', (reason) =>
      this.log.info({ instance: inst.name, reason }, 'graceful restart: start-up window over, adopted kernel routes not re-learned are removed'),
    );
    await rt.start();
    this.instances.set(inst.name, rt);
    this.emit('instance', rt, true);
  }

  private fibFactory(): FibFactory {
    if (this.options.fib === 'memory') {
      return (ri) => {
        const m = createMemoryFib({ table: ri.table, metric: ri.metric, protocol: ri.protocol });
        seedFromHost(m.kernel);
        return m.fib;
      };
    }
    return (ri) => createKernelFib({ table: ri.table, metric: ri.metric, protocol: ri.protocol });
  }
}

/** A dry-run FIB resolves next hops like the host would: copy the host's addresses in. */
function seedFromHost(kernel: SimKernel): void {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (!addrs) continue;
    const index = name === 'lo' ? 1 : kernel.addLink(name);
    for (const a of addrs) if (a.cidr) kernel.addAddress(index, a.cidr);
  }
}
