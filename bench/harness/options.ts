// Command line of `npm run bench` → the bench's settings. Pure.
import { parseArgs } from 'node:util';
import { RECEIVER_KINDS, type ReceiverKind } from './receivers.js';

export const USAGE = `usage: npm run bench -- [options]
  --full              1M IPv4 prefixes (230k with --afi 6) instead of 100k
  --count N           synthetic prefixes (default 100000)
  --afi 4|6           address family of the synthetic table (default 4)
  --sets N            distinct attribute sets (default count / 5)
  --seed N            synthetic table seed
  --mrt FILE          replay an MRT file (e.g. /work/shared/data/pch-…2015.gz) instead
  --receivers LIST    comma-separated subset of ${RECEIVER_KINDS.join(',')} (default all)
  --hold S            hold time of every session (default 9; keepalive = hold / 3)
  --timeout S         give up on a phase after S seconds (default 60 + 240 per million)
  --rounds N          run every receiver N times, round after round (all receivers,
                      then all again…); report medians and min–max (default 1)
  --floor-rounds N    kernel floor rounds, best kept (default 1; 0 = skip)
  --no-withdraw       skip withdraw-all
  --out DIR           where results go (default bench/results)
  --no-save           print only
  --render FILE.json  rewrite FILE.md and FILE.svg from a saved result`;

export interface BenchOptions {
  readonly count: number;
  readonly afi: 4 | 6;
  readonly sets: number | undefined;
  readonly seed: number | undefined;
  readonly mrt: string | undefined;
  readonly receivers: readonly ReceiverKind[];
  readonly holdTime: number;
  readonly keepalive: number;
  readonly timeoutSec: number;
  /** Times the whole receiver list runs (interleaved); figures are medians when > 1. */
  readonly rounds: number;
  readonly floorRounds: number;
  readonly withdraw: boolean;
  /** undefined: do not write files. */
  readonly outDir: string | undefined;
}

function num(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer from ${min} to ${max}, got ${v}`);
  return n;
}

/** Default phase timeout: a minute, plus four per million prefixes. */
export function defaultTimeoutSec(prefixes: number): number {
  return Math.round(60 + (240 * prefixes) / 1e6);
}

export function parseOptions(argv: readonly string[], defaultOut: string): BenchOptions | 'help' {
  const { values: a } = parseArgs({
    args: [...argv],
    options: {
      full: { type: 'boolean' },
      count: { type: 'string' },
      afi: { type: 'string' },
      sets: { type: 'string' },
      seed: { type: 'string' },
      mrt: { type: 'string' },
      receivers: { type: 'string' },
      hold: { type: 'string' },
      timeout: { type: 'string' },
      rounds: { type: 'string' },
      'floor-rounds': { type: 'string' },
      'no-withdraw': { type: 'boolean' },
      out: { type: 'string' },
      'no-save': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (a.help === true) return 'help';
  const afiN = num(a.afi, 'afi', 4, 6);
  if (afiN !== undefined && afiN !== 4 && afiN !== 6) throw new Error('--afi: 4 or 6');
  const afi = (afiN ?? 4) as 4 | 6;
  if (a.full === true && a.count !== undefined) throw new Error('--full and --count exclude each other');
  const count = num(a.count, 'count', 1, 4_000_000) ?? (a.full === true ? (afi === 6 ? 230_000 : 1_000_000) : 100_000);
  const receivers: ReceiverKind[] = [];
  for (const r of (a.receivers ?? RECEIVER_KINDS.join(',')).split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(RECEIVER_KINDS as readonly string[]).includes(r)) throw new Error(`--receivers: unknown ${r} (known: ${RECEIVER_KINDS.join(', ')})`);
    if (!receivers.includes(r as ReceiverKind)) receivers.push(r as ReceiverKind);
  }
  if (receivers.length === 0) throw new Error('--receivers: none given');
  const holdTime = num(a.hold, 'hold', 3, 65535) ?? 9;
  return {
    count,
    afi,
    sets: num(a.sets, 'sets', 1, 4_000_000),
    seed: num(a.seed, 'seed', 0, 2 ** 31),
    mrt: a.mrt,
    receivers,
    holdTime,
    keepalive: Math.max(1, Math.floor(holdTime / 3)),
    timeoutSec: num(a.timeout, 'timeout', 5, 24 * 3600) ?? defaultTimeoutSec(a.mrt !== undefined ? 600_000 : count),
    rounds: num(a.rounds, 'rounds', 1, 50) ?? 1,
    floorRounds: num(a['floor-rounds'], 'floor-rounds', 0, 20) ?? 1,
    withdraw: a['no-withdraw'] !== true,
    outDir: a['no-save'] === true ? undefined : (a.out ?? defaultOut),
  };
}
