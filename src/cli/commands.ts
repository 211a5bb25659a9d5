/**
 * `tsbgp`: the operator's CLI. Every command but `config check` talks to tsbgpd over
 * its Unix socket; `-o json` prints the API's objects as they are (streams as one JSON
 * array, one item per line, written as the items arrive; `monitor` as JSON lines).
 *
 * Exit codes: 0 ok, 1 failure (daemon not running, refused request, invalid config),
 * 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { ApiCallError, connect, DaemonNotRunningError } from '../api/client.js';
import type { ApiClient, ResultStream, StreamSummary } from '../api/client.js';
import { DEFAULT_SOCKET_PATH, EVENT_TYPES, FIB_STATUSES } from '../api/types.js';
import type { ActionResult, AfiName, ApiEventType, FibStatus } from '../api/types.js';
import {
  AdjRibTableWriter, FibTableWriter, renderActions, renderConfigStatus, renderEvent, renderGlobal, renderNeighborDetail, renderNeighbors, RibTableWriter,
} from './render.js';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: { write(s: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: () => string;
  /** `monitor` stops (exit 0) when this aborts: Ctrl-C. */
  readonly signal?: AbortSignal;
}

export function processIo(signal?: AbortSignal): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, hostname, ...(signal ? { signal } : {}) };
}

/** A command line the user got wrong: exit 2 with the message. */
export class UsageError extends Error {}

/** stdout went away (`tsbgp global rib | head`): stop quietly. */
class OutputClosed extends Error {}

class Output {
  private closed = false;
  private readonly stream: NodeJS.WritableStream;

  constructor(stream: NodeJS.WritableStream) {
    this.stream = stream;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.closed = true;
    });
  }

  async write(s: string): Promise<void> {
    if (this.closed) throw new OutputClosed();
    if (s.length === 0) return;
    if (this.stream.write(s)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.once('drain', done);
      this.stream.once('error', done);
      this.stream.once('close', done);
    });
    if (this.closed) throw new OutputClosed();
  }
}

type Format = 'text' | 'json';

interface Ctx {
  readonly io: CliIo;
  readonly out: Output;
  readonly format: Format;
  readonly socket: string;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function withClient<T>(ctx: Ctx, fn: (c: ApiClient) => Promise<T>): Promise<T> {
  const client = await connect({ socketPath: ctx.socket });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function printJson(ctx: Ctx, value: unknown): Promise<void> {
  await ctx.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

interface Writer<T> {
  push(item: T): string;
  end(): string;
  readonly rows: number;
}

/** Prints a stream as it arrives: a table (text) or a JSON array (json). */
async function printStream<T>(ctx: Ctx, stream: ResultStream<T>, writer: Writer<T>, empty: string): Promise<StreamSummary> {
  if (ctx.format === 'json') {
    // Nothing is printed before the first item, so a refused request leaves stdout empty.
    let first = true;
    for await (const item of stream) {
      await ctx.out.write(`${first ? '[\n' : ',\n'}${JSON.stringify(item)}`);
      first = false;
    }
    await ctx.out.write(first ? '[]\n' : '\n]\n');
  } else {
    for await (const item of stream) await ctx.out.write(writer.push(item));
    await ctx.out.write(writer.end());
    if (writer.rows === 0) await ctx.out.write(`${empty}\n`);
  }
  const summary = await stream.summary;
  if (summary.limited) ctx.io.stderr.write(`(stopped after ${summary.count}: --limit reached, more exist)\n`);
  return summary;
}

function parseAfi(v: string | undefined): AfiName | undefined {
  if (v === undefined) return undefined;
  if (v === 'ipv4' || v === '4') return 'ipv4';
  if (v === 'ipv6' || v === '6') return 'ipv6';
  throw new UsageError(`-a/--afi must be ipv4 or ipv6, got ${JSON.stringify(v)}`);
}

function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(v)) throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

async function multiInstance(client: ApiClient, instance: string | undefined): Promise<boolean> {
  if (instance !== undefined) return false;
  const g = await client.call('global');
  return g.instances.length > 1;
}

// ---------------------------------------------------------------------------
// Commands

interface NeighborOpts {
  afi?: string;
  message?: string;
  instance?: string;
  limit?: string;
}

const NEIGHBOR_ACTIONS = ['adj-in', 'adj-out', 'reset', 'softreset', 'softresetin', 'softresetout', 'shutdown', 'enable'];

async function neighborCommand(ctx: Ctx, address: string | undefined, action: string | undefined, rest: string[], o: NeighborOpts): Promise<void> {
  const instance = o.instance;
  if (action === undefined) {
    if (rest.length > 0 || o.afi !== undefined || o.message !== undefined || o.limit !== undefined) {
      throw new UsageError('-a, -m and --limit go with a neighbor action (adj-in, adj-out, shutdown)');
    }
    return withClient(ctx, async (c) => {
      const list = await c.call('neighbors', { ...opt('instance', instance), ...opt('address', address) });
      if (ctx.format === 'json') return printJson(ctx, list);
      if (address === undefined) return ctx.out.write(renderNeighbors(list));
      await ctx.out.write(list.map(renderNeighborDetail).join('\n'));
    });
  }
  const addr = address!;
  if (!NEIGHBOR_ACTIONS.includes(action)) {
    throw new UsageError(`unknown neighbor action ${JSON.stringify(action)}; expected one of: ${NEIGHBOR_ACTIONS.join(', ')}`);
  }
  const isAdj = action === 'adj-in' || action === 'adj-out';
  if (!isAdj && (o.afi !== undefined || o.limit !== undefined)) throw new UsageError(`-a/--afi and --limit apply to adj-in and adj-out, not ${action}`);
  if (action !== 'shutdown' && o.message !== undefined) throw new UsageError(`-m/--message applies to shutdown, not ${action}`);
  const maxRest = action === 'softreset' ? 1 : 0;
  if (rest.length > maxRest) throw new UsageError(`unexpected argument ${JSON.stringify(rest[maxRest])} after ${action}`);

  if (isAdj) {
    const afi = parseAfi(o.afi);
    const limit = parseLimit(o.limit);
    return withClient(ctx, async (c) => {
      const stream = c.stream(action === 'adj-in' ? 'adjRibIn' : 'adjRibOut', { address: addr, ...opt('instance', instance), ...opt('afi', afi), ...opt('limit', limit) });
      await printStream(ctx, stream, new AdjRibTableWriter(false), 'Network not in table');
    });
  }
  return withClient(ctx, async (c) => {
    const target = { address: addr, ...opt('instance', instance) };
    let results: ActionResult[];
    switch (action) {
      case 'reset':
        results = [await c.call('reset', target)];
        break;
      case 'enable':
        results = [await c.call('enable', target)];
        break;
      case 'shutdown':
        results = [await c.call('shutdown', { ...target, ...opt('message', o.message) })];
        break;
      default: {
        let direction: 'in' | 'out' | 'both' = action === 'softresetin' ? 'in' : action === 'softresetout' ? 'out' : 'both';
        const d = rest[0];
        if (d !== undefined) {
          if (d !== 'in' && d !== 'out') throw new UsageError(`softreset takes "in" or "out", got ${JSON.stringify(d)}`);
          direction = d;
        }
        results = await c.call('softReset', { ...target, direction });
      }
    }
    if (ctx.format === 'json') return printJson(ctx, results);
    await ctx.out.write(renderActions(results));
  });
}

interface RibOpts {
  afi?: string;
  instance?: string;
  limit?: string;
  longest?: boolean;
}

async function globalCommand(ctx: Ctx, what: string | undefined, prefix: string | undefined, o: RibOpts): Promise<void> {
  if (what === undefined) {
    if (o.afi !== undefined || o.limit !== undefined || o.longest === true) throw new UsageError('-a, --limit and --longest go with "global rib"');
    return withClient(ctx, async (c) => {
      const g = await c.call('global');
      if (ctx.format === 'json') return printJson(ctx, g);
      await ctx.out.write(renderGlobal(g));
    });
  }
  if (what !== 'rib') throw new UsageError(`unknown global subcommand ${JSON.stringify(what)}; expected: rib`);
  const afi = parseAfi(o.afi);
  const limit = parseLimit(o.limit);
  if (o.longest === true && prefix === undefined) throw new UsageError('--longest needs a PREFIX');
  return withClient(ctx, async (c) => {
    const multi = ctx.format === 'text' && (await multiInstance(c, o.instance));
    const stream = c.stream('rib', {
      ...opt('instance', o.instance),
      ...opt('afi', afi),
      ...opt('prefix', prefix),
      ...(o.longest === true ? { match: 'longest' as const } : {}),
      ...opt('limit', limit),
    });
    await printStream(ctx, stream, new RibTableWriter(multi), 'Network not in table');
  });
}

interface FibOpts {
  afi?: string;
  instance?: string;
  status?: string;
  limit?: string;
  kernel?: boolean;
}

async function fibCommand(ctx: Ctx, o: FibOpts): Promise<void> {
  const afi = parseAfi(o.afi);
  const limit = parseLimit(o.limit);
  if (o.status !== undefined && !(FIB_STATUSES as readonly string[]).includes(o.status)) {
    throw new UsageError(`--status must be one of ${FIB_STATUSES.join(', ')}, got ${JSON.stringify(o.status)}`);
  }
  return withClient(ctx, async (c) => {
    const multi = ctx.format === 'text' && (await multiInstance(c, o.instance));
    const stream = c.stream('fib', {
      ...opt('instance', o.instance),
      ...opt('afi', afi),
      ...opt('status', o.status as FibStatus | undefined),
      ...opt('limit', limit),
      ...(o.kernel === true ? { kernel: true } : {}),
    });
    await printStream(ctx, stream, new FibTableWriter(multi), 'No routes to install.');
  });
}

interface MonitorOpts {
  type?: string;
  instance?: string;
  neighbor?: string;
  count?: string;
}

async function monitorCommand(ctx: Ctx, o: MonitorOpts): Promise<void> {
  let types: ApiEventType[] | undefined;
  if (o.type !== undefined) {
    types = o.type.split(',').map((t) => t.trim()) as ApiEventType[];
    const bad = types.find((t) => !(EVENT_TYPES as readonly string[]).includes(t));
    if (bad !== undefined) throw new UsageError(`--type: unknown event type ${JSON.stringify(bad)}; types: ${EVENT_TYPES.join(', ')}`);
  }
  const count = parseLimit(o.count);
  return withClient(ctx, async (c) => {
    const stream = c.stream('monitor', { ...opt('types', types), ...opt('instance', o.instance), ...opt('neighbor', o.neighbor) });
    const signal = ctx.io.signal;
    const stop = (): void => stream.cancel();
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    try {
      await stream.ready;
      if (ctx.format === 'text') ctx.io.stderr.write(`Watching tsbgpd events at ${ctx.socket} (Ctrl-C to stop)\n`);
      let seen = 0;
      for await (const e of stream) {
        await ctx.out.write(ctx.format === 'json' ? `${JSON.stringify(e)}\n` : renderEvent(e));
        seen++;
        if (count !== undefined && seen >= count) break;
      }
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  });
}

async function configCommand(ctx: Ctx, action: string | undefined, files: string[], o: { nodeName?: string }): Promise<number> {
  if (action === 'check') {
    if (files.length === 0) throw new UsageError('config check needs at least one FILE (or directory)');
    // Loaded only here: the schemas are the bulk of the CLI's start time, and the other
    // commands (which only talk to the daemon) should not depend on them.
    const { checkConfig, renderConfigCheck } = await import('./config-check.js');
    const result = await checkConfig(files, o.nodeName ?? ctx.io.hostname());
    if (ctx.format === 'json') await printJson(ctx, result);
    else await ctx.out.write(renderConfigCheck(result));
    return result.valid ? 0 : 1;
  }
  if (o.nodeName !== undefined) throw new UsageError('--node-name goes with "config check"');
  if (files.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(files[0])}`);
  if (action !== undefined && action !== 'show' && action !== 'status') throw new UsageError(`unknown config subcommand ${JSON.stringify(action)}; expected: check, show, status`);
  await withClient(ctx, async (c) => {
    const view = await c.call('config');
    if (action === 'show') return printJson(ctx, view.applied);
    if (ctx.format === 'json') return printJson(ctx, view);
    await ctx.out.write(renderConfigStatus(view));
  });
  return 0;
}

// ---------------------------------------------------------------------------

function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('tsbgp');
  let out: Output | undefined;
  const ctxOf = (cmd: Command): Ctx => {
    const g = cmd.optsWithGlobals<{ socket: string; output: string }>();
    if (g.output !== 'text' && g.output !== 'json') throw new UsageError(`-o/--output must be text or json, got ${JSON.stringify(g.output)}`);
    out ??= new Output(io.stdout);
    return { io, out, format: g.output, socket: g.socket };
  };
  program
    .description('Show and steer tsbgpd, the BGP control plane of this node.')
    .version(version(), '-V, --version')
    .addOption(new Option('--socket <path>', 'tsbgpd API socket').default(io.env['TSBGP_SOCKET'] ?? DEFAULT_SOCKET_PATH))
    .addOption(new Option('-o, --output <format>', 'output format: text or json').default('text'))
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .exitOverride()
    .showSuggestionAfterError(true);

  program
    .command('neighbor')
    .alias('neighbors')
    .argument('[address]', 'neighbour address (all neighbours when absent)')
    .argument('[action]', `adj-in | adj-out | reset | softreset [in|out] | shutdown [-m MSG] | enable`)
    .argument('[args...]')
    .description('Neighbours: list, details, Adj-RIB-In/Out, and actions')
    .option('-a, --afi <afi>', 'family for adj-in/adj-out: ipv4 or ipv6')
    .option('-m, --message <text>', 'shutdown message sent to the peer (RFC 9003, 255 bytes max)')
    .option('-i, --instance <name>', 'BGP instance (when the address exists in several)')
    .option('--limit <n>', 'stop after N routes')
    .action(async (address: string | undefined, action: string | undefined, rest: string[], o: NeighborOpts, cmd: Command) => {
      await neighborCommand(ctxOf(cmd), address, action, rest, o);
    });

  program
    .command('global')
    .argument('[what]', '"rib" for the Loc-RIB; nothing for the summary')
    .argument('[prefix]', 'CIDR (exact match) or address (longest match)')
    .description('Global summary, or the Loc-RIB with best (*>) and multipath (*=) marks')
    .option('-a, --afi <afi>', 'ipv4 or ipv6 (default both)')
    .option('-i, --instance <name>', 'only this BGP instance')
    .option('--longest', 'longest-prefix match for a CIDR PREFIX')
    .option('--limit <n>', 'stop after N prefixes')
    .action(async (what: string | undefined, prefix: string | undefined, o: RibOpts, cmd: Command) => {
      await globalCommand(ctxOf(cmd), what, prefix, o);
    });

  program
    .command('fib')
    .description('Routes tsbgp installs in the kernel, with their status against what the kernel has')
    .option('-a, --afi <afi>', 'ipv4 or ipv6')
    .option('-i, --instance <name>', 'only this BGP instance')
    .option('--status <status>', `only routes in this status: ${FIB_STATUSES.join(', ')}`)
    .option('-k, --kernel', 'read the kernel table and compare: shows missing routes and stale ones of ours')
    .option('--limit <n>', 'stop after N routes')
    .action(async (o: FibOpts, cmd: Command) => {
      await fibCommand(ctxOf(cmd), o);
    });

  program
    .command('monitor')
    .description('Print events as they happen: session states, prefix limits, FIB problems, config reloads')
    .option('-t, --type <types>', `comma-separated: ${EVENT_TYPES.join(', ')}`)
    .option('-i, --instance <name>', 'only this BGP instance')
    .option('--neighbor <address>', 'only this neighbour')
    .option('-n, --count <n>', 'exit after N events')
    .action(async (o: MonitorOpts, cmd: Command) => {
      await monitorCommand(ctxOf(cmd), o);
    });

  program
    .command('config')
    .argument('[action]', 'check FILE... (local, no daemon) | show (applied config) | status (default)')
    .argument('[files...]')
    .description('Validate configuration files, or show what tsbgpd runs')
    .option('--node-name <name>', 'node to resolve the configuration for (check; default: hostname)')
    .action(async (action: string | undefined, files: string[], o: { nodeName?: string }, cmd: Command) => {
      setExit(await configCommand(ctxOf(cmd), action, files, o));
    });

  return program;
}

/** Runs one command line (without `node` and the script); resolves to the exit code. */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exit = 0;
  const program = buildProgram(io, (code) => {
    exit = code;
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' || err.code === 'commander.executeSubCommandAsync') return 0;
      return 2;
    }
    if (err instanceof OutputClosed) return 0;
    if (err instanceof UsageError) {
      io.stderr.write(`tsbgp: ${err.message}\n(see tsbgp --help)\n`);
      return 2;
    }
    if (err instanceof DaemonNotRunningError) {
      io.stderr.write(`tsbgp: ${err.message}\n`);
      return 1;
    }
    if (err instanceof ApiCallError) {
      io.stderr.write(`tsbgp: ${err.message} [${err.code}]\n`);
      return 1;
    }
    io.stderr.write(`tsbgp: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
