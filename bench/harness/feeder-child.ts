#!/usr/bin/env node
// The harness's feeder, run inside the feeder namespace (`ip netns exec NS node
// feeder-child.js`). It builds the tables once, then serves one receiver after another:
// listen for the receiver's connection, and the moment the session is Established send
// the whole table (no round trip to the harness in between). Requests and answers are
// JSON lines on stdin/stdout (feeder-protocol.ts); logs go to stderr.
import { createInterface } from 'node:readline';
import { buildTables, epochNow, Feeder } from '../feeder/feeder.js';
import { SyntheticTable } from '../feeder/synthetic.js';
import type { FeedTable } from '../feeder/table.js';
import { applyFeed, writePrefixFiles } from './expected.js';
import type { BuildAnswer, BuildRequest, FeederEvent, GapsAnswer, Request, SessionRequest } from './feeder-protocol.js';

let tables: FeedTable[] = [];
let feeder: Feeder | undefined;

function send(obj: object): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function event(e: FeederEvent): void {
  send(e);
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} feeder: ${line}\n`);
}

async function build(r: BuildRequest): Promise<BuildAnswer> {
  const t0 = epochNow();
  tables = await buildTables(r.sources, { localAs: r.localAs, nextHop4: r.nextHop4, nextHop6: r.nextHop6, avoidAs: [r.peerAs] });
  const buildMs = epochNow() - t0;
  let messages = 0;
  let prefixes = 0;
  let bytes = 0;
  let withdrawMessages = 0;
  let withdrawPrefixes = 0;
  let sets = 0;
  let state;
  for (const t of tables) {
    const a = t.announce();
    messages += a.messages;
    prefixes += a.prefixes;
    bytes += a.bytes;
    const w = t.withdrawAll();
    withdrawMessages += w.messages;
    withdrawPrefixes += w.prefixes;
    if (t instanceof SyntheticTable) sets += t.sets;
    state = applyFeed(a.chunks, r.localAs, r.peerAs, state);
  }
  if (!state) throw new Error('no table to send');
  writePrefixFiles(state, r.prefixFile4, r.prefixFile6);
  log(`built ${tables.map((t) => t.name).join('; ')} in ${buildMs.toFixed(0)} ms: ${prefixes} prefixes, ${messages} UPDATEs`);
  return {
    tables: tables.map((t) => t.name),
    messages,
    prefixes,
    bytes,
    expected4: state.v4.size,
    expected6: state.v6.size,
    treatAsWithdraw: state.treatAsWithdraw,
    loops: state.loops,
    broken: state.broken,
    withdrawMessages,
    withdrawPrefixes,
    sets,
    buildMs,
  };
}

/** Answers once listening; Established, the sent table and errors follow as events. */
function session(r: SessionRequest): Promise<{ port: number }> {
  if (feeder && feeder.closedReason === undefined) throw new Error('a session is still open');
  if (tables.length === 0) throw new Error('build the tables first');
  return new Promise((resolve, reject) => {
    let listening = false;
    Feeder.open({
      peer: r.peer,
      listen: true,
      port: 179,
      localAddress: r.localAddress,
      localAs: r.localAs,
      peerAs: r.peerAs,
      holdTime: r.holdTime,
      timeoutMs: r.timeoutMs,
      tables,
      log,
      onListening: (port) => {
        listening = true;
        resolve({ port });
      },
    }).then(
      async (f) => {
        feeder = f;
        const info = f.peerInfo();
        event({ event: 'established', at: f.established, holdTime: f.holdTime, peerAs: info.asn, families: info.families });
        f.on('closed', (reason) => event({ event: 'closed', reason }));
        try {
          const phase = await f.announce();
          event({ event: 'announced', phase });
        } catch (e) {
          event({ event: 'session-error', message: (e as Error).message });
        }
      },
      (e: unknown) => {
        if (!listening) reject(e as Error);
        else event({ event: 'session-error', message: (e as Error).message });
      },
    );
  });
}

function current(): Feeder {
  if (!feeder) throw new Error('no session');
  return feeder;
}

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.text();
}

async function handle(req: Request): Promise<unknown> {
  switch (req.cmd) {
    case 'build':
      return build(req);
    case 'session':
      return session(req);
    case 'withdraw':
      return current().withdrawAll();
    case 'gaps': {
      const f = current();
      const g = f.rxGaps();
      if (req.reset) f.resetRxGaps();
      const a: GapsAnswer = { ...g, closed: f.closedReason ?? null, keepalivesReceived: f.received.keepalives };
      return a;
    }
    case 'fetch':
      return fetchText(req.url, req.timeoutMs);
    case 'close': {
      const f = feeder;
      feeder = undefined;
      if (f) {
        f.removeAllListeners('closed');
        await f.close('benchmark done');
      }
      return true;
    }
    case 'exit':
      setImmediate(() => process.exit(0));
      return true;
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let msg: Request & { id: number };
  try {
    msg = JSON.parse(line) as Request & { id: number };
  } catch {
    log(`not JSON: ${line.slice(0, 100)}`);
    return;
  }
  handle(msg).then(
    (result) => send({ id: msg.id, ok: true, result }),
    (e: unknown) => send({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
// The harness went away: nothing left to serve.
rl.on('close', () => process.exit(0));
