// The side-by-side bench: one feeder namespace, the kernel floor in a namespace of its
// own, then each receiver in turn in a fresh namespace linked to the feeder's, and with
// --rounds N the whole list again, N times in all (interleaved, so drifting load on the
// machine spreads over every receiver). The feeder builds its tables once and sends the
// same bytes to every run. Nothing leaves the lab: no namespace has a route or a link to
// the host, and forwarding is off.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { createLab } from '../../test/lib/netns.js';
import { epochNow, type FeedSource } from '../feeder/feeder.js';
import { FeederClient } from './feeder-client.js';
import { measureFloor } from './floor.js';
import { FEEDER_AS, LINK, RECEIVER_AS, runReceiver } from './measure.js';
import type { BenchOptions } from './options.js';
import { tailOf } from './receivers.js';
import { isFloor, markdown, resultBaseName, summarize, svgChart, type BenchResult, type Machine, type RunResult } from './report.js';

export function machine(loadStart: number): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    // keep os.cpus()'s
  }
  return {
    cpu: cpu.replace(/\s+/g, ' '),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.versions.node,
    loadStart,
    loadEnd: loadavg()[0]!,
  };
}

export interface RunOutput {
  readonly result: BenchResult;
  /** Files written (json, md, svg), when an output directory was given. */
  readonly files: readonly string[];
}

export async function runBench(o: BenchOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<RunOutput> {
  const started = new Date();
  const t0 = epochNow();
  const loadStart = loadavg()[0]!;
  const lab = createLab('bench');
  const receivers: RunResult[] = [];
  let floor: BenchResult['floor'] = null;
  let feeder: FeederClient | undefined;
  try {
    const feederNs = await lab.addNamespace('feeder');
    const feederLog = join(lab.dir, 'feeder.log');
    feeder = FeederClient.start(feederNs, feederLog);
    const sources: FeedSource[] =
      o.mrt !== undefined
        ? [{ type: 'mrt', file: o.mrt, afis: [o.afi === 6 ? 2 : 1] }]
        : [{ type: 'synthetic', count: o.count, afi: o.afi === 6 ? 2 : 1, ...(o.sets !== undefined ? { sets: o.sets } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) }];
    log(`building the feed (${o.mrt ?? `${o.count} IPv${o.afi} prefixes`})…`);
    const prefixFile4 = join(lab.dir, 'prefixes4.bin');
    const prefixFile6 = join(lab.dir, 'prefixes6.bin');
    let built;
    try {
      built = await feeder.build({ sources, localAs: FEEDER_AS, peerAs: RECEIVER_AS, nextHop4: LINK.feeder4, nextHop6: LINK.feeder6, prefixFile4, prefixFile6 });
    } catch (e) {
      throw new Error(`feeder: ${(e as Error).message}\n${tailOf(feederLog)}`);
    }
    const target = built.expected4 + built.expected6;
    log(`feed: ${built.prefixes} prefixes in ${built.messages} UPDATEs (${(built.bytes / 1e6).toFixed(1)} MB), ${target} expected in each RIB, built in ${(built.buildMs / 1000).toFixed(1)} s`);
    if (o.floorRounds > 0) {
      log('kernel floor…');
      try {
        floor = await measureFloor(lab, prefixFile4, prefixFile6, o.floorRounds);
        log(`kernel floor: ${floor.addSec.toFixed(2)} s to add, ${floor.delSec.toFixed(2)} s to delete ${floor.routes4 + floor.routes6} routes`);
      } catch (e) {
        floor = { error: (e as Error).message };
        log(`kernel floor failed: ${(e as Error).message}`);
      }
    }
    // Real tables hold a few routes some daemons refuse (martians, odd paths): there a count
    // that stops within 0.01% of the target and stays for 10 s counts as complete.
    const settleMs = o.mrt !== undefined ? 10_000 : 0;
    const tolerance = o.mrt !== undefined ? Math.max(10, Math.round(target / 10_000)) : 0;
    let index = 0;
    for (let round = 1; round <= o.rounds; round++) {
      for (const kind of o.receivers) {
        log(o.rounds > 1 ? `— ${kind}, round ${round} of ${o.rounds} —` : `— ${kind} —`);
        const r = await runReceiver({
          lab,
          feederNs,
          feeder,
          kind,
          index: index++,
          target,
          v4: built.expected4 > 0,
          v6: built.expected6 > 0,
          holdTime: o.holdTime,
          keepalive: o.keepalive,
          timeoutMs: o.timeoutSec * 1000,
          settleMs,
          tolerance,
          withdraw: o.withdraw,
          log,
        });
        if (!r.ok) {
          log(`${r.label}: ${r.errors.join('; ')}`);
          for (const f of r.logFiles) log(`--- ${f} ---\n${tailOf(f, 15)}`);
        }
        // One round keeps the JSON as it was before rounds existed.
        receivers.push(o.rounds > 1 ? { ...r, round } : r);
      }
    }
    const result: BenchResult = {
      schema: 1,
      date: started.toISOString(),
      machine: machine(loadStart),
      settings: {
        count: o.mrt !== undefined ? 0 : o.count,
        afi: o.afi,
        sets: o.mrt !== undefined ? null : built.sets,
        mrt: o.mrt ?? null,
        seed: o.seed ?? null,
        receivers: o.receivers,
        holdTime: o.holdTime,
        keepalive: o.keepalive,
        timeoutSec: o.timeoutSec,
        floorRounds: o.floorRounds,
        ...(o.rounds > 1 ? { rounds: o.rounds } : {}),
        settleSec: settleMs / 1000,
        tolerance,
      },
      feed: { ...built, target },
      floor,
      receivers,
      ...(o.rounds > 1 ? { summary: summarize(receivers, isFloor(floor) ? floor.addSec : undefined) } : {}),
      durationSec: Math.round((epochNow() - t0) / 1000),
    };
    return { result, files: o.outDir !== undefined ? save(result, o.outDir) : [] };
  } finally {
    await feeder?.stop();
    await lab.cleanup();
  }
}

/** Writes NAME.json, NAME.md and NAME.svg (NAME-2… when taken); returns the paths. */
export function save(r: BenchResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const base = resultBaseName(r);
  let name = base;
  for (let i = 2; existsSync(join(dir, `${name}.json`)); i++) name = `${base}-${i}`;
  const files = [join(dir, `${name}.json`), join(dir, `${name}.md`), join(dir, `${name}.svg`)];
  writeFileSync(files[0]!, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(files[1]!, markdown(r, `${name}.svg`));
  writeFileSync(files[2]!, svgChart(r));
  return files;
}
