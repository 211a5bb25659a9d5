// The kernel's floor for route programming, and how close the Fib writer gets.
//
//   node dist/bench/fib-floor.js [N [ROUNDS]]   (root; default 100000 routes, 3 rounds)
//
// Creates a network namespace with a veth pair, re-runs itself inside it, and
// removes the namespace afterwards. Inside:
//  1. floor: one nexthop object, N IPv4 /24 RTM_NEWROUTE messages pipelined in
//     256 KiB sendmsg() buffers without ACKs (errors would still come back),
//     then N RTM_DELROUTE the same way; the simplest thing the kernel can do.
//  2. writer: the Fib (kernel backend, default options) told to install the
//     same N routes through one next-hop set, then to withdraw them; timed
//     from apply() to flush(), so it includes encoding, sends, answers, and
//     the route notifications the Fib's monitor socket has to skip. Run again
//     with watchRoutes off: then the kernel builds no notification per route.
// Rounds alternate floor and writers; the best time of each is reported.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FibBatch } from '../src/fib/batch.js';
import { createKernelFib, netlinkUnavailable } from '../src/fib/kernel.js';
import { kernelTransport } from '../src/fib/netlink/addon.js';
import { NlEncoder, putNexthop, putNoopAck, putRoute, nhIdBlock } from '../src/fib/netlink/codec.js';
import { NlmF, RtProt, Rtm, SockFlag } from '../src/fib/netlink/constants.js';
import { NetlinkSocket } from '../src/fib/netlink/socket.js';

const FLOOR_TABLE = 100;
const FIB_TABLE = 101;
const NH_ID = 7;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function prefix(i: number): number {
  // 1.0.0.0/24 upwards, skipping nothing: 16.7M /24s are plenty.
  return (0x01000000 + i * 256) >>> 0;
}

/** CPU seconds (user + system, every thread of this process: the kernel's work in sendmsg included) since `c0`. */
function cpuSec(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

interface Times {
  addSec: number;
  addCpu: number;
  delSec: number;
  delCpu: number;
}

async function floor(n: number): Promise<Times & { errors: number }> {
  let errors = 0;
  const sock = new NetlinkSocket(kernelTransport, {
    groups: 0,
    rcvbuf: 32 << 20,
    sndbuf: 4 << 20,
    flags: SockFlag.EXT_ACK | SockFlag.CAP_ACK,
    onNotify: () => {},
  });
  await sock.request((enc, seq) => {
    putNexthop(enc, NlmF.REQUEST | NlmF.CREATE | NlmF.EXCL | NlmF.ACK, seq, NH_ID, 4, Uint8Array.of(10, 0, 0, 2), 0, ifindex('v0'), RtProt.BGP);
  });
  const enc = new NlEncoder(256 * 1024);
  const nh = nhIdBlock(NH_ID);
  const addr = new Uint8Array(4);

  const pass = async (type: number, flags: number): Promise<[number, number]> => {
    const first = sock.nextSeq(n + 1);
    const done = new Promise<void>((resolve, reject) => {
      sock.expect({
        firstSeq: first,
        lastSeq: first + n - 1,
        markerSeq: first + n,
        onError: () => errors++,
        onDone: resolve,
        onLost: (e) => reject(new Error(`answers lost: errno ${e}`)),
      });
    });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let i = 0;
    while (i < n) {
      enc.reset();
      for (; i < n; i++) {
        const p = prefix(i);
        addr[0] = p >>> 24;
        addr[1] = (p >>> 16) & 0xff;
        addr[2] = (p >>> 8) & 0xff;
        if (!putRoute(enc, type, flags, first + i, 4, addr, 0, 24, FLOOR_TABLE, RtProt.BGP, 20, type === Rtm.NEWROUTE ? nh : null)) break;
      }
      let marker = i === n && putNoopAck(enc, first + n);
      for (;;) {
        const res = sock.transport.send(enc.buf, enc.pos); // the kernel does the work inside sendmsg
        if (res < 0) throw new Error(`send: errno ${-res}`);
        if (i < n || marker) break;
        enc.reset(); // the marker did not fit: it goes alone
        marker = putNoopAck(enc, first + n);
      }
      // Let answers (errors, if any) drain so the receive buffer never overflows.
      await new Promise((r) => setImmediate(r));
    }
    await done;
    return [(performance.now() - t0) / 1000, cpuSec(c0)];
  };
  const [addSec, addCpu] = await pass(Rtm.NEWROUTE, NlmF.REQUEST | NlmF.CREATE | NlmF.EXCL);
  const [delSec, delCpu] = await pass(Rtm.DELROUTE, NlmF.REQUEST);
  sock.close();
  return { addSec, addCpu, delSec, delCpu, errors };
}

function ifindex(name: string): number {
  const r = spawnSync('ip', ['-j', 'link', 'show', name], { encoding: 'utf8' });
  return Number(/"ifindex":(\d+)/.exec(r.stdout)![1]);
}

function countRoutes(table: number): number {
  const r = spawnSync('ip', ['route', 'show', 'table', String(table)], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return r.stdout.split('\n').filter((l) => l.length > 0).length;
}

async function writer(n: number, watchRoutes: boolean): Promise<Times & { applyMs: number; errors: number; batches: number; overflows: number; resyncs: number }> {
  const fib = createKernelFib({ table: FIB_TABLE, retryMs: 0, watchRoutes });
  let errors = 0;
  fib.on('result', (e) => {
    if (e.type !== 'resync') errors++;
  });
  await fib.start();
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  const b = new FibBatch(n);
  for (let i = 0; i < n; i++) b.pushV4(prefix(i), 24, 1);
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  fib.apply(b);
  const applyMs = performance.now() - t0;
  await fib.flush();
  const addSec = (performance.now() - t0) / 1000;
  const addCpu = cpuSec(c0);
  const installed = countRoutes(FIB_TABLE);
  if (installed !== n) throw new Error(`writer installed ${installed} of ${n}`);
  b.clear();
  for (let i = 0; i < n; i++) b.pushV4(prefix(i), 24, -1);
  t0 = performance.now();
  c0 = process.cpuUsage();
  fib.apply(b);
  await fib.flush();
  const delSec = (performance.now() - t0) / 1000;
  const delCpu = cpuSec(c0);
  const s = fib.stats();
  await fib.stop();
  return { addSec, addCpu, delSec, delCpu, applyMs, errors, batches: s.batches, overflows: s.overflows, resyncs: s.resyncs };
}

async function inside(n: number, rounds: number): Promise<void> {
  // The machine is shared: alternate the runs and keep the best of each. CPU
  // seconds (ours plus the kernel's work done in our sendmsg calls) are
  // steadier than wall time when other processes compete for the cores.
  const floors: Times[] = [];
  const writers: Times[] = [];
  const quiet: Times[] = [];
  let extra: Awaited<ReturnType<typeof writer>> | null = null;
  for (let r = 0; r < rounds; r++) {
    floors.push(await floor(n));
    if (countRoutes(FLOOR_TABLE) !== 0) throw new Error('floor routes left behind');
    const w = await writer(n, true);
    extra = extra && extra.addSec < w.addSec ? extra : w;
    writers.push(w);
    quiet.push(await writer(n, false));
  }
  const min = (xs: Times[], k: keyof Times): number => Math.min(...xs.map((x) => x[k]));
  const summary = (xs: Times[]): Record<string, number> => ({
    addSec: +min(xs, 'addSec').toFixed(3),
    addPerSec: Math.round(n / min(xs, 'addSec')),
    addCpuSec: +min(xs, 'addCpu').toFixed(3),
    addPerCpuSec: Math.round(n / min(xs, 'addCpu')),
    delSec: +min(xs, 'delSec').toFixed(3),
    delPerSec: Math.round(n / min(xs, 'delSec')),
    delCpuSec: +min(xs, 'delCpu').toFixed(3),
    delPerCpuSec: Math.round(n / min(xs, 'delCpu')),
  });
  const f = summary(floors);
  const w = summary(writers);
  const q = summary(quiet);
  console.log(
    JSON.stringify({
      routes: n,
      rounds,
      floor: f,
      writer: { ...w, applyMs: +extra!.applyMs.toFixed(1), batches: extra!.batches, errors: extra!.errors, overflows: extra!.overflows },
      writerNoRouteNotifications: q,
    }),
  );
  const line = (name: string, x: Record<string, number>): string =>
    `${name}: add ${x['addPerSec']}/s wall (${x['addSec']} s), ${x['addPerCpuSec']}/s of CPU (${x['addCpuSec']} s); ` +
    `delete ${x['delPerSec']}/s wall (${x['delSec']} s), ${x['delPerCpuSec']}/s of CPU (${x['delCpuSec']} s)`;
  console.log(line('floor                  ', f));
  console.log(line('writer                 ', w));
  console.log(line('writer, no route notify', q));
  console.log(`writer apply() of ${n} routes: ${extra!.applyMs.toFixed(0)} ms`);
}

function outside(n: number, rounds: number): void {
  const why = process.getuid?.() !== 0 ? 'needs root (network namespace)' : netlinkUnavailable();
  if (why) {
    console.log(`fib-floor skipped: ${why}`);
    return;
  }
  const ns = `tsbgp-fib-bench-${process.pid}`;
  run('ip', ['netns', 'add', ns]);
  try {
    for (const a of [
      ['link', 'set', 'lo', 'up'],
      ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
      ['link', 'set', 'v0', 'up'],
      ['link', 'set', 'v1', 'up'],
      ['addr', 'add', '10.0.0.1/24', 'dev', 'v0'],
    ]) {
      run('ip', ['-n', ns, ...a]);
    }
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), '--inside', String(n), String(rounds)], {
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exitCode = 1;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--inside') {
  inside(Number(args[1]), Number(args[2] ?? 1)).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const n = Number(args[0] ?? 100_000);
  const rounds = Number(args[1] ?? 3);
  if (!Number.isInteger(n) || n < 1 || n > 4_000_000) throw new Error('N must be 1..4000000');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('ROUNDS must be >= 1');
  outside(n, rounds);
}
