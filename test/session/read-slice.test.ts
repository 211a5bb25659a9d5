// Read slices in the Peer shell (peer.ts, READ_SLICE_MS): a peer blasting UPDATEs must
// not hold the event loop for a whole libuv read burst (32 reads of 64 KiB): reading
// pauses once a turn has spent its slice and resumes on the next turn, so timers (and
// the API, the FIB feed) run in between. Every UPDATE still arrives, once, in order,
// the session and its timers carry on, and a slow peer never stays paused.
//
// Real TCP over loopback. The sender is the bench feeder's speaker (bench/feeder) in a
// worker thread of this file, so it keeps the kernel's buffers full whatever our loop
// does, as a router would. Loopback keeps the receive window small (~150 KB) unless the
// reader has been fast for a while, and a burst can never be larger than what the
// socket holds: the blast starts with ~40 MB read at full speed (no work per UPDATE),
// so the kernel grows the window as it does for a full-table feed over a real link;
// then the loop is held once (the socket fills) and every UPDATE costs WORK_US.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Feeder } from '../../bench/feeder/feeder.js';
import type { Feed } from '../../bench/feeder/table.js';
import { Peer, type PeerOptions } from '../../src/session/peer.js';
import type { DownReason } from '../../src/session/fsm.js';
import { buildCapabilities } from '../../src/wire/capabilities.js';
import { emptyAttributes } from '../../src/wire/attrs/types.js';
import { Afi, HEADER_LEN, Origin } from '../../src/wire/iana.js';
import { encodeContext, packUpdates, PrefixBatch } from '../../src/wire/update-encoder.js';
import { sleep, waitFor } from '../lib/proc.js';

const AS = 65001;
const FEEDER_AS = 65010;
const HOLD = 3;
const T = { timeout: 20_000 };

/** Copies of one ~4 KB UPDATE read at full speed first (~40 MB): the window grows. */
const WARM = 10_000;
/** Distinct ~4 KB UPDATEs (1000 /24s each) sent after the warm-up (~5 MB). */
const HEAVY_PREFIXES = 1_200_000;
/** Work per UPDATE in the measured part (the speaker's decoding, stood in for). */
const WORK_US = 300;
/** The loop is held this long once, so the socket fills up before the measured part. */
const STALL_MS = 150;

/** `prefixes` distinct /24s from `base`, ~1000 to an UPDATE (same on both threads). */
function updates(prefixes: number, base: number): Buffer[] {
  const attrs = { ...emptyAttributes(), origin: Origin.IGP, asPath: [{ type: 2 as const, asns: [FEEDER_AS] }], nextHop: Buffer.from([127, 0, 0, 1]) };
  const batch = new PrefixBatch(Afi.IPV4, prefixes);
  for (let i = 0; i < prefixes; i++) batch.addV4((base + i * 256) >>> 0, 24);
  return packUpdates(attrs, batch, encodeContext());
}

const WARM_MSG = (): Buffer => updates(1000, 0x0b000000)[0]!;
const HEAVY_MSGS = (): Buffer[] => updates(HEAVY_PREFIXES, 0x01000000);
/** The slow test: this many UPDATEs a few ms apart, then one more after a pause. */
const SLOW_N = 60;
const SLOW_MSGS = (): Buffer[] => updates((SLOW_N + 1) * 1000, 0x0c000000);

// ---------------------------------------------------------------------------------
// The sender (worker thread)

type Command =
  | { readonly cmd: 'blast' }
  | { readonly cmd: 'slow'; readonly n: number; readonly everyMs: number }
  | { readonly cmd: 'one' }
  | { readonly cmd: 'gaps' };

type Reply =
  | { readonly event: 'established' }
  | { readonly event: 'done'; readonly cmd: Command['cmd'] }
  | { readonly event: 'gaps'; readonly maxKeepaliveGapMs: number; readonly keepalives: number }
  | { readonly event: 'closed'; readonly reason: string }
  | { readonly event: 'error'; readonly message: string };

function feedOfMessages(msgs: readonly Buffer[], repeat = 1): Feed {
  const one = Buffer.concat(msgs);
  return { chunks: new Array<Buffer>(repeat).fill(one), messages: msgs.length * repeat, prefixes: 0, bytes: one.length * repeat };
}

async function sender(port: number): Promise<void> {
  const out = (r: Reply): void => parentPort!.postMessage(r);
  const f = await Feeder.open({ peer: '127.0.0.1', port, localAs: FEEDER_AS, peerAs: AS, holdTime: HOLD, tables: [] });
  f.on('closed', (reason) => out({ event: 'closed', reason }));
  out({ event: 'established' });
  let slowNext = 0;
  const slow = SLOW_MSGS();
  parentPort!.on('message', (c: Command) => {
    void (async () => {
      switch (c.cmd) {
        case 'blast': {
          // 256 copies of the warm UPDATE make a ~1 MiB chunk, sent WARM / 256 times.
          await f.send('warm', feedOfMessages(new Array<Buffer>(256).fill(WARM_MSG()), Math.ceil(WARM / 256)));
          await f.send('heavy', feedOfMessages(HEAVY_MSGS()));
          break;
        }
        case 'slow':
          for (let i = 0; i < c.n; i++) {
            await f.send('slow', feedOfMessages([slow[slowNext++]!]));
            await sleep(c.everyMs);
          }
          break;
        case 'one':
          await f.send('one', feedOfMessages([slow[slowNext++]!]));
          break;
        case 'gaps': {
          out({ event: 'gaps', maxKeepaliveGapMs: f.rxGaps().maxKeepaliveGapMs, keepalives: f.received.keepalives });
          return;
        }
      }
      out({ event: 'done', cmd: c.cmd });
    })().catch((e: unknown) => out({ event: 'error', message: (e as Error).message }));
  });
}

// ---------------------------------------------------------------------------------
// The receiver (the test)

function options(): PeerOptions {
  return {
    address: '127.0.0.1',
    port: 179,
    session: {
      localAs: AS,
      peerAs: FEEDER_AS,
      routerId: 0x0a000001,
      holdTime: HOLD,
      keepaliveTime: HOLD / 3,
      connectRetryTime: 120,
      passive: true,
      capabilities: buildCapabilities({ asn: AS }),
    },
  };
}

/** Busy for `us` microseconds. */
function work(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/** True when `body` is `msg` without its header. */
function sameBody(body: Buffer, msg: Buffer): boolean {
  return body.length === msg.length - HEADER_LEN && msg.compare(body, 0, body.length, HEADER_LEN) === 0;
}

/**
 * A Peer (passive) behind a listener on 127.0.0.1, the feeder worker connected to it,
 * and counts of pause()/resume() on the accepted socket.
 */
async function session(update: (body: Buffer) => void) {
  const peer = new Peer(options(), {
    update: (body) => {
      update(body);
      return undefined;
    },
  });
  const downs: DownReason[] = [];
  peer.on('down', (r) => downs.push(r));
  const sock = { socket: undefined as net.Socket | undefined, pauses: 0, resumes: 0 };
  const server = net.createServer((s) => {
    sock.socket = s;
    const pause = s.pause.bind(s);
    const resume = s.resume.bind(s);
    s.pause = () => {
      sock.pauses++;
      return pause();
    };
    s.resume = () => {
      sock.resumes++;
      return resume();
    };
    peer.acceptIncoming(s);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  peer.start();
  const replies: Reply[] = [];
  const worker = new Worker(new URL(import.meta.url), { workerData: { port: (server.address() as net.AddressInfo).port } });
  worker.on('message', (r: Reply) => replies.push(r));
  worker.on('error', (e) => replies.push({ event: 'error', message: e.message }));
  /** The first reply `event` (consumed), or the worker's error. */
  const reply = async <E extends Reply['event']>(event: E, timeoutMs: number) => {
    const found = (): Reply | undefined => replies.find((r) => r.event === 'error' || r.event === event);
    await waitFor(found, { timeoutMs, intervalMs: 5, label: `feeder ${event}` });
    const r = found()!;
    if (r.event === 'error') throw new Error(`feeder: ${r.message}`);
    replies.splice(replies.indexOf(r), 1);
    return r as Extract<Reply, { event: E }>;
  };
  const command = (c: Command): void => worker.postMessage(c);
  const close = async (): Promise<void> => {
    await worker.terminate();
    peer.destroy();
    sock.socket?.destroy(); // the Peer may have let go of it already (ended, not destroyed)
    await new Promise<void>((r) => server.close(() => r()));
  };
  await reply('established', 5000);
  await waitFor(() => peer.state.name === 'Established', { timeoutMs: 2000, intervalMs: 5, label: 'Established' });
  const establishedAt = performance.now();
  return { peer, establishedAt, downs, sock, replies, reply, command, close };
}

function registerTests(): void {
  test('a peer blasting MBs of UPDATEs: every one arrives once and in order, and the loop turns every read slice', T, async () => {
    const warm = WARM_MSG();
    const heavy = HEAVY_MSGS();
    const warmCount = Math.ceil(WARM / 256) * 256;
    const heavyBytes = heavy.reduce((n, m) => n + m.length, 0);
    assert.ok(heavyBytes > 4_000_000, `${heavyBytes} bytes measured`);

    let received = 0;
    let firstWrong = -1;
    // Between two ticks of a 1 ms interval timer: UPDATEs handled, and first/last handler time.
    let sinceTick = 0;
    let tickFirst = 0;
    let tickLast = 0;
    let ticksWithWork = 0;
    let maxPerTick = 0;
    let maxStretch = 0;
    let heavyStart = 0;
    let heavyEnd = 0;
    let measured = 0;
    const s = await session((body) => {
      const i = received++;
      const h = i - warmCount;
      const ok = h < 0 ? sameBody(body, warm) : h < heavy.length && sameBody(body, heavy[h]!);
      if (!ok && firstWrong < 0) firstWrong = i;
      if (h < 0) return; // warm-up: no work
      if (h === 0) {
        // The loop is held once (a long step elsewhere): the socket fills to its window.
        work(STALL_MS * 1000);
        return;
      }
      const t = performance.now();
      if (heavyStart === 0) heavyStart = t;
      heavyEnd = t;
      measured++;
      if (sinceTick++ === 0) tickFirst = t;
      tickLast = t;
      work(WORK_US);
    });
    const iv = setInterval(() => {
      if (sinceTick > 0) {
        ticksWithWork++;
        maxPerTick = Math.max(maxPerTick, sinceTick);
        maxStretch = Math.max(maxStretch, tickLast - tickFirst);
      }
      sinceTick = 0;
    }, 1);
    try {
      s.command({ cmd: 'blast' });
      const expected = warmCount + heavy.length;
      await waitFor(() => received >= expected || s.peer.state.name !== 'Established', {
        timeoutMs: 15_000,
        intervalMs: 5,
        label: 'every UPDATE',
      });
      await s.reply('done', 2000);
      await sleep(50); // anything more would show in the count
      console.log(
        `# ${warmCount} warm-up + ${heavy.length} measured UPDATEs (${(heavyBytes / 1e6).toFixed(1)} MB, ${WORK_US} µs each) in ` +
          `${(heavyEnd - heavyStart).toFixed(0)} ms: ${ticksWithWork} timer ticks saw work, at most ${maxPerTick} UPDATEs ` +
          `(${maxStretch.toFixed(1)} ms) between two ticks; socket paused ${s.sock.pauses}×, resumed ${s.sock.resumes}×`,
      );

      // (a) every UPDATE, once, in order.
      assert.equal(firstWrong, -1, `UPDATE #${firstWrong} is not the one sent in that place`);
      assert.equal(received, expected, 'UPDATEs handled');
      assert.equal(s.peer.counters.updatesIn, expected);
      assert.equal(measured, heavy.length - 1, 'UPDATEs measured');

      // (b) spread over many turns. Per turn the handler runs for one slice (8 ms, ~27
      // UPDATEs) plus the rest of the 64 KiB read that crossed it and one read more
      // (16 UPDATEs each). Without slices a turn takes all the socket holds, up to 512.
      // The count is what load cannot inflate (a slower machine fits fewer in a slice);
      // the time between turns (printed) also counts whatever preempts us.
      assert.ok(maxPerTick <= 150, `at most ${maxPerTick} UPDATEs handled between two turns of the loop (slices bound it to ~60)`);
      assert.ok(ticksWithWork >= 10, `the work spread over ${ticksWithWork} turns`);
      assert.ok(s.sock.pauses >= 5, `reading paused ${s.sock.pauses} times`);
      assert.equal(s.sock.socket!.isPaused(), false, 'reading resumed after the last slice');

      // (c) the session and both directions' timers: our KEEPALIVEs kept their pace from
      // Established through the blast (a gap so far counts up to now).
      await sleep(s.establishedAt + 1300 - performance.now());
      s.command({ cmd: 'gaps' });
      const gaps = await s.reply('gaps', 2000);
      console.log(`# feeder: ${gaps.keepalives} KEEPALIVEs from us, longest gap ${gaps.maxKeepaliveGapMs.toFixed(0)} ms`);
      assert.equal(s.peer.state.name, 'Established');
      assert.deepEqual(s.downs, []);
      assert.ok(gaps.keepalives >= 1, 'our KEEPALIVEs reached the feeder');
      assert.ok(gaps.maxKeepaliveGapMs < 1500, `KEEPALIVE every ${HOLD / 3} s: longest gap ${gaps.maxKeepaliveGapMs.toFixed(0)} ms`);
      assert.equal(s.replies.filter((r) => r.event === 'closed').length, 0, 'the feeder kept the session');
    } finally {
      clearInterval(iv);
      await s.close();
    }
  });

  test('a peer sending slowly, with UPDATEs that outlast the slice: reading always resumes', T, async () => {
    const msgs = SLOW_MSGS();
    let received = 0;
    let firstWrong = -1;
    const s = await session((body) => {
      const i = received++;
      if (firstWrong < 0 && !(i < msgs.length && sameBody(body, msgs[i]!))) firstWrong = i;
      // Every other UPDATE takes longer than a slice: its read ends the slice.
      if (i % 2 === 0) work(10_000);
    });
    try {
      s.command({ cmd: 'slow', n: SLOW_N, everyMs: 3 });
      await waitFor(() => received >= SLOW_N, { timeoutMs: 3000, intervalMs: 5, label: 'the slow UPDATEs' });
      await s.reply('done', 2000);
      assert.equal(firstWrong, -1, `UPDATE #${firstWrong} is not the one sent in that place`);
      assert.ok(s.sock.pauses >= 3, `reading paused ${s.sock.pauses} times`);
      // Idle a while, then one more: it must be read at once.
      await sleep(100);
      assert.equal(s.sock.socket!.isPaused(), false, 'not left paused');
      const t0 = performance.now();
      s.command({ cmd: 'one' });
      await waitFor(() => received >= SLOW_N + 1, { timeoutMs: 2000, intervalMs: 2, label: 'the next UPDATE' });
      const ms = performance.now() - t0;
      assert.ok(ms < 500, `read ${ms.toFixed(0)} ms after it was sent`);
      assert.equal(received, SLOW_N + 1);
      assert.equal(firstWrong, -1);
      assert.equal(s.peer.state.name, 'Established');
      assert.deepEqual(s.downs, []);
    } finally {
      await s.close();
    }
  });
}

if (isMainThread) registerTests();
else void sender((workerData as { port: number }).port);
