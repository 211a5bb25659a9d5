// The kernel's floor for the bench's own routes: the prefixes the feed leaves in a RIB
// (written by the feeder child), inserted into the main table of an empty namespace as
// fast as rtnetlink takes them, then deleted again. This is the least work any daemon
// must make the kernel do, so receivers' FIB times read as a ratio to it.
//
// The method is bench/fib-floor.ts's (which measures fixed /24s and cannot be imported:
// it runs on load): one nexthop object per family, RTM_NEWROUTE messages pipelined in
// 256 KiB sendmsg() buffers without per-route ACKs, a NOOP+ACK marker at the end whose
// answer says the kernel handled everything (errors would come back by sequence number).
//
//   parent: measureFloor(lab, ...)    child: node floor.js --inside FILE4 FILE6 IFNAME ROUNDS
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kernelTransport } from '../../src/fib/netlink/addon.js';
import { NlEncoder, nhIdBlock, putNexthop, putNoopAck, putRoute } from '../../src/fib/netlink/codec.js';
import { NlmF, RtProt, Rtm, RtTable, SockFlag } from '../../src/fib/netlink/constants.js';
import { NetlinkSocket } from '../../src/fib/netlink/socket.js';
import type { Lab } from '../../test/lib/netns.js';
import { run } from '../../test/lib/proc.js';
import { RECORD4, RECORD6 } from './expected.js';
import { FibCounter } from './proc-stats.js';

export const FLOOR_GW4 = '198.18.0.2';
export const FLOOR_GW6 = '2001:db8:1::2';
const FLOOR_METRIC = 20;

export interface FloorPass {
  /** Seconds from the first send to the marker's ACK. */
  readonly addSec: number;
  readonly delSec: number;
  readonly errors: number;
}

export interface FloorResult {
  readonly routes4: number;
  readonly routes6: number;
  readonly rounds: number;
  /** Best of the rounds (the machine is shared). */
  readonly addSec: number;
  readonly delSec: number;
  readonly addPerSec: number;
  readonly all: readonly FloorPass[];
}

function ifindex(name: string): number {
  const t = readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8');
  return Number(t.trim());
}

/** One pass over records of one family: add (or delete) every prefix; resolves with seconds taken. */
async function pass(sock: NetlinkSocket, family: 4 | 6, recs: Buffer, del: boolean, nhId: number, errors: { n: number }): Promise<number> {
  const size = family === 4 ? RECORD4 : RECORD6;
  const n = recs.length / size;
  if (n === 0) return 0;
  const type = del ? Rtm.DELROUTE : Rtm.NEWROUTE;
  const flags = del ? NlmF.REQUEST : NlmF.REQUEST | NlmF.CREATE | NlmF.EXCL;
  const nh = del ? null : nhIdBlock(nhId);
  const first = sock.nextSeq(n + 1);
  const done = new Promise<void>((resolve, reject) => {
    sock.expect({
      firstSeq: first,
      lastSeq: first + n - 1,
      markerSeq: first + n,
      onError: () => errors.n++,
      onDone: resolve,
      onLost: (e) => reject(new Error(`answers lost: errno ${e}`)),
    });
  });
  const enc = new NlEncoder(256 * 1024);
  const t0 = performance.now();
  let i = 0;
  while (i < n) {
    enc.reset();
    for (; i < n; i++) {
      const o = i * size;
      if (!putRoute(enc, type, flags, first + i, family, recs, o, recs[o + size - 1]!, RtTable.MAIN, RtProt.BGP, FLOOR_METRIC, nh)) break;
    }
    let marker = i === n && putNoopAck(enc, first + n);
    for (;;) {
      const res = sock.transport.send(enc.buf, enc.pos);
      if (res < 0) throw new Error(`send: errno ${-res}`);
      if (i < n || marker) break;
      enc.reset();
      marker = putNoopAck(enc, first + n);
    }
    // Let answers (errors, if any) drain so the receive buffer never overflows.
    await new Promise((r) => setImmediate(r));
  }
  await done;
  return (performance.now() - t0) / 1000;
}

async function inside(file4: string, file6: string, ifname: string, rounds: number): Promise<void> {
  const v4 = readFileSync(file4);
  const v6 = readFileSync(file6);
  const sock = new NetlinkSocket(kernelTransport, {
    groups: 0,
    rcvbuf: 32 << 20,
    sndbuf: 4 << 20,
    flags: SockFlag.EXT_ACK | SockFlag.CAP_ACK,
    onNotify: () => {},
  });
  const oif = ifindex(ifname);
  const gw4 = Uint8Array.from(FLOOR_GW4.split('.').map(Number));
  const gw6 = Buffer.alloc(16);
  gw6.writeUInt16BE(0x2001, 0);
  gw6.writeUInt16BE(0x0db8, 2);
  gw6.writeUInt16BE(0x0001, 4);
  gw6.writeUInt16BE(0x0002, 14);
  await sock.request((enc, seq) => {
    putNexthop(enc, NlmF.REQUEST | NlmF.CREATE | NlmF.EXCL | NlmF.ACK, seq, 1, 4, gw4, 0, oif, RtProt.BGP);
  });
  await sock.request((enc, seq) => {
    putNexthop(enc, NlmF.REQUEST | NlmF.CREATE | NlmF.EXCL | NlmF.ACK, seq, 2, 6, gw6, 0, oif, RtProt.BGP);
  });
  const n4 = v4.length / RECORD4;
  const n6 = v6.length / RECORD6;
  const counter = new FibCounter(process.pid, true, true);
  counter.baseline();
  const all: FloorPass[] = [];
  for (let r = 0; r < rounds; r++) {
    const errors = { n: 0 };
    const add = (await pass(sock, 4, v4, false, 1, errors)) + (await pass(sock, 6, v6, false, 2, errors));
    const installed = counter.countSync();
    if (installed !== n4 + n6) throw new Error(`floor installed ${installed} of ${n4 + n6} routes (${errors.n} errors)`);
    const del = (await pass(sock, 4, v4, true, 1, errors)) + (await pass(sock, 6, v6, true, 2, errors));
    const left = counter.countSync();
    if (left !== 0) throw new Error(`floor left ${left} routes behind`);
    all.push({ addSec: add, delSec: del, errors: errors.n });
  }
  sock.close();
  const addSec = Math.min(...all.map((p) => p.addSec));
  const res: FloorResult = {
    routes4: n4,
    routes6: n6,
    rounds,
    addSec,
    delSec: Math.min(...all.map((p) => p.delSec)),
    addPerSec: addSec > 0 ? Math.round((n4 + n6) / addSec) : 0,
    all,
  };
  process.stdout.write(`${JSON.stringify(res)}\n`);
}

/** Runs the floor in a fresh namespace of `lab` (deleted afterwards). */
export async function measureFloor(lab: Lab, file4: string, file6: string, rounds: number): Promise<FloorResult> {
  const ns = await lab.addNamespace('floor');
  try {
    await lab.check(ns, 'ip', ['link', 'add', 'fa', 'type', 'veth', 'peer', 'name', 'fb']);
    await lab.check(ns, 'ip', ['addr', 'add', '198.18.0.1/30', 'dev', 'fa']);
    await lab.check(ns, 'ip', ['-6', 'addr', 'add', '2001:db8:1::1/64', 'dev', 'fa', 'nodad']);
    await lab.check(ns, 'ip', ['link', 'set', 'fa', 'up']);
    await lab.check(ns, 'ip', ['link', 'set', 'fb', 'up']);
    const js = fileURLToPath(import.meta.url);
    const r = await lab.exec(ns, process.execPath, [js, '--inside', file4, file6, 'fa', String(rounds)], { timeoutMs: 30 * 60_000 });
    if (r.code !== 0) throw new Error(`floor failed (${r.code ?? r.signal}): ${r.stderr.trim() || r.stdout.trim()}`);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(line) as FloorResult;
  } finally {
    await deleteNamespace(ns.netns);
  }
}

/** Deletes a namespace now (Lab.cleanup tolerates it being gone). */
export async function deleteNamespace(netns: string): Promise<void> {
  await run('ip', ['netns', 'del', netns], { timeoutMs: 120_000 });
}

if (process.argv[2] === '--inside') {
  const [, , , f4, f6, ifname, rounds] = process.argv;
  inside(f4!, f6!, ifname!, Number(rounds ?? 1)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
