#!/usr/bin/env node
// Command line feeder. Results go to stdout as JSON lines, logs to stderr.
//
//   node dist/bench/feeder/cli.js --peer 10.0.0.1 --as 65010 --count 1000000
//   node dist/bench/feeder/cli.js --peer 10.0.0.1 --as 3856 --mrt ../shared/data/pch-….gz --withdraw --exit
//
// After the phases the session stays up (answering keepalives) until SIGINT/SIGTERM,
// unless --exit. With --control, commands are read from stdin, one per line:
//   announce | withdraw | flap [N] | gaps | reset-gaps | close
// and each prints a JSON line; end of input closes the session.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Afi } from '../../src/wire/iana.js';
import { type FeederOptions, type FeedSource, type PhaseResult, runFeeder } from './feeder.js';
import type { MrtPeerFilter } from './mrt-replay.js';

const USAGE = `usage: cli.js --peer ADDR --as ASN [options]
session:  --port N (179)  --listen  --local ADDR  --peer-as ASN  --router-id ID  --hold S (90)  --timeout MS
synthetic: --count N (IPv4, or IPv6 with --afi 6)  --count6 N (adds an IPv6 table)  --sets N (count/5)  --seed N
mrt:      --mrt FILE  --mrt-peer ADDR|ASN|ADDR,ASN  --raw  --as-path prepend|replace|keep  --keep-next-hop  --mrt-afi 4|6
next hops: --next-hop4 ADDR  --next-hop6 ADDR (default: our session address)
phases:   --withdraw  --flap N  --flap-fraction F (0.1)  --pause MS
after:    --exit  --control  --quiet`;

function out(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function int(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number, got ${v}`);
  return n;
}

function mrtPeer(v: string | undefined): MrtPeerFilter | undefined {
  if (v === undefined) return undefined;
  let address: string | undefined;
  let asn: number | undefined;
  for (const part of v.split(',')) {
    const p = part.trim();
    if (/^(AS)?\d+$/i.test(p)) asn = Number(p.replace(/^AS/i, ''));
    else address = p;
  }
  return { ...(address !== undefined ? { address } : {}), ...(asn !== undefined ? { asn } : {}) };
}

function phase(p: PhaseResult): object {
  return { event: 'phase', ...p };
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      peer: { type: 'string' },
      port: { type: 'string' },
      listen: { type: 'boolean' },
      local: { type: 'string' },
      as: { type: 'string' },
      'peer-as': { type: 'string' },
      'router-id': { type: 'string' },
      hold: { type: 'string' },
      timeout: { type: 'string' },
      count: { type: 'string' },
      count6: { type: 'string' },
      afi: { type: 'string' },
      sets: { type: 'string' },
      seed: { type: 'string' },
      mrt: { type: 'string' },
      'mrt-peer': { type: 'string' },
      'mrt-afi': { type: 'string' },
      raw: { type: 'boolean' },
      'as-path': { type: 'string' },
      'keep-next-hop': { type: 'boolean' },
      'next-hop4': { type: 'string' },
      'next-hop6': { type: 'string' },
      withdraw: { type: 'boolean' },
      flap: { type: 'string' },
      'flap-fraction': { type: 'string' },
      pause: { type: 'string' },
      exit: { type: 'boolean' },
      control: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (a.help === true || a.peer === undefined || a.as === undefined) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(a.help === true ? 0 : 2);
  }
  const sources: FeedSource[] = [];
  const seed = int(a.seed, 'seed');
  const sets = int(a.sets, 'sets');
  if (a.mrt !== undefined) {
    const peer = mrtPeer(a['mrt-peer']);
    const asPath = a['as-path'];
    if (asPath !== undefined && asPath !== 'prepend' && asPath !== 'replace' && asPath !== 'keep') throw new Error('--as-path: prepend, replace or keep');
    sources.push({
      type: 'mrt',
      file: a.mrt,
      ...(peer ? { peer } : {}),
      ...(a.raw === true ? { raw: true } : {}),
      ...(asPath !== undefined ? { asPath } : {}),
      ...(a['keep-next-hop'] === true ? { nextHop: 'keep' as const } : {}),
      ...(a['mrt-afi'] !== undefined ? { afis: [a['mrt-afi'] === '6' ? Afi.IPV6 : Afi.IPV4] } : {}),
    });
  }
  const count = int(a.count, 'count') ?? (a.mrt === undefined && a.count6 === undefined ? 100_000 : undefined);
  if (count !== undefined) {
    const afi = a.afi === '6' ? Afi.IPV6 : Afi.IPV4;
    sources.push({ type: 'synthetic', count, afi, ...(sets !== undefined ? { sets } : {}), ...(seed !== undefined ? { seed } : {}) });
  }
  const count6 = int(a.count6, 'count6');
  if (count6 !== undefined) sources.push({ type: 'synthetic', count: count6, afi: Afi.IPV6, ...(seed !== undefined ? { seed } : {}) });

  const log = a.quiet === true ? () => undefined : (line: string) => process.stderr.write(`feeder: ${line}\n`);
  const opts: FeederOptions = {
    peer: a.peer,
    localAs: int(a.as, 'as')!,
    source: sources,
    log,
    ...(a.port !== undefined ? { port: int(a.port, 'port')! } : {}),
    ...(a.listen === true ? { listen: true } : {}),
    ...(a.local !== undefined ? { localAddress: a.local } : {}),
    ...(a['peer-as'] !== undefined ? { peerAs: int(a['peer-as'], 'peer-as')! } : {}),
    ...(a['router-id'] !== undefined ? { routerId: a['router-id'] } : {}),
    ...(a.hold !== undefined ? { holdTime: int(a.hold, 'hold')! } : {}),
    ...(a.timeout !== undefined ? { timeoutMs: int(a.timeout, 'timeout')! } : {}),
    ...(a['next-hop4'] !== undefined ? { nextHop4: a['next-hop4'] } : {}),
    ...(a['next-hop6'] !== undefined ? { nextHop6: a['next-hop6'] } : {}),
    ...(a.withdraw === true ? { withdraw: true } : {}),
    ...(a.flap !== undefined ? { flap: int(a.flap, 'flap')! } : {}),
    ...(a['flap-fraction'] !== undefined ? { flapFraction: Number(a['flap-fraction']) } : {}),
    ...(a.pause !== undefined ? { pauseMs: int(a.pause, 'pause')! } : {}),
    ...(a.listen === true ? { onListening: (port: number) => out({ event: 'listening', port }) } : {}),
  };

  const r = await runFeeder(opts);
  const f = r.feeder;
  out({ event: 'established', at: r.established, peer: r.peer, holdTime: r.holdTime, local: f.localAddress, tables: f.tables.map((t) => t.name) });
  out(phase(r.announce));
  for (const p of r.flaps) out(phase(p));
  if (r.withdraw) out(phase(r.withdraw));

  let closing = false;
  const finish = async (why: string): Promise<void> => {
    if (closing) return;
    closing = true;
    out({ event: 'gaps', ...f.rxGaps(), received: f.received });
    await f.close(why);
    out({ event: 'closed', reason: f.closedReason });
    process.exit(0);
  };
  f.on('closed', (reason) => {
    if (closing) return;
    out({ event: 'closed', reason });
    process.exit(1);
  });
  process.on('SIGINT', () => void finish('interrupted'));
  process.on('SIGTERM', () => void finish('terminated'));
  if (a.exit === true) return finish('feeder done');
  if (a.control !== true) return; // stay up until a signal

  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [cmd, arg] = line.trim().split(/\s+/);
    try {
      switch (cmd) {
        case undefined:
        case '':
          break;
        case 'announce':
          out(phase(await f.announce()));
          break;
        case 'withdraw':
          out(phase(await f.withdrawAll()));
          break;
        case 'flap':
          for (const p of await f.flap(int(arg, 'flap') ?? 1, opts.flapFraction ?? 0.1, opts.pauseMs ?? 0)) out(phase(p));
          break;
        case 'gaps':
          out({ event: 'gaps', ...f.rxGaps(), received: f.received });
          break;
        case 'reset-gaps':
          f.resetRxGaps();
          out({ event: 'ok', command: cmd });
          break;
        case 'close':
        case 'quit':
          return finish('feeder done');
        default:
          out({ event: 'error', message: `unknown command ${cmd}` });
      }
    } catch (e) {
      out({ event: 'error', message: (e as Error).message });
    }
  }
  return finish('end of control input');
}

main().catch((e: unknown) => {
  process.stderr.write(`feeder: ${(e as Error).message}\n`);
  out({ event: 'error', message: (e as Error).message });
  process.exit(1);
});
