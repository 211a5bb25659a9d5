import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Errno, NlMsgType, NlmF, Rtm } from '../../src/fib/netlink/constants.js';
import { NlEncoder, type NlError, putDumpLinks, putNoopAck, msgSeq } from '../../src/fib/netlink/codec.js';
import { type BatchHandler, type NetlinkError, NetlinkSocket, type NlTransport, type RecvHandler } from '../../src/fib/netlink/socket.js';

const PORT = 4242;

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A transport that records what is sent and lets the test play the kernel. */
function fake(): { sent: Buffer[]; deliver: (b: Buffer | null, errno?: number) => void; sock: NetlinkSocket; asyncCbs: ((r: number) => void)[] } {
  const sent: Buffer[] = [];
  const asyncCbs: ((r: number) => void)[] = [];
  let recv: RecvHandler = () => {};
  const t: NlTransport = {
    portId: PORT,
    send: (b, len) => {
      sent.push(Buffer.from(b.subarray(0, len)));
      return len;
    },
    sendAsync: (b, len, cb) => {
      sent.push(Buffer.from(b.subarray(0, len)));
      asyncCbs.push(cb);
    },
    addMembership: () => 0,
    ref: () => {},
    close: () => {},
  };
  const notes: Buffer[] = [];
  const sock = new NetlinkSocket(
    (_o, r) => {
      recv = r;
      return t;
    },
    { groups: 0, rcvbuf: 0, sndbuf: 0, flags: 0, onNotify: (b, off, len) => notes.push(Buffer.from(b.subarray(off, off + len))) },
  );
  return { sent, deliver: (b, errno = 0) => recv(b, errno), sock, asyncCbs };
}

function msg(type: number, flags: number, seq: number, pid: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const enc = new NlEncoder(64 + payload.length);
  const at = enc.begin(type, flags, seq);
  enc.raw(payload);
  enc.end(at);
  enc.buf.writeUInt32LE(pid, at + 12);
  return enc.toBuffer();
}

function err(seq: number, errno: number, text?: string): Buffer {
  const p = Buffer.alloc(20);
  p.writeInt32LE(-errno, 0);
  p.writeUInt32LE(16, 4);
  p.writeUInt32LE(seq, 12);
  let flags = NlmF.CAPPED;
  let tail = Buffer.alloc(0);
  if (text) {
    flags |= NlmF.ACK_TLVS;
    const s = Buffer.from(`${text}\0`);
    tail = Buffer.alloc(4 + ((s.length + 3) & ~3));
    tail.writeUInt16LE(4 + s.length, 0);
    tail.writeUInt16LE(1, 2);
    s.copy(tail, 4);
  }
  return msg(NlMsgType.ERROR, flags, seq, PORT, Buffer.concat([p, tail]));
}

test('dump: collects answers until NLMSG_DONE, split over several receives', async () => {
  const { sent, deliver, sock } = fake();
  const got: number[] = [];
  const p = sock.dump(putDumpLinks, (b, off) => got.push(b.readInt32LE(off + 16 + 4)));
  await tick(); // dumps are queued: one at a time per socket
  const seq = msgSeq(sent[0]!, 0);
  const link = (i: number): Buffer => {
    const pl = Buffer.alloc(16);
    pl.writeInt32LE(i, 4);
    return msg(Rtm.NEWLINK, NlmF.MULTI, seq, PORT, pl);
  };
  deliver(Buffer.concat([link(1), link(2)]));
  deliver(Buffer.concat([link(3), msg(NlMsgType.DONE, NlmF.MULTI, seq, PORT, Buffer.alloc(4))]));
  await p;
  assert.deepEqual(got, [1, 2, 3]);
});

test('dump: NLM_F_DUMP_INTR rejects with EINTR so the caller retries', async () => {
  const { sent, deliver, sock } = fake();
  const p = sock.dump(putDumpLinks, () => {});
  await tick();
  const seq = msgSeq(sent[0]!, 0);
  deliver(msg(Rtm.NEWLINK, NlmF.MULTI | NlmF.DUMP_INTR, seq, PORT, Buffer.alloc(16)));
  deliver(msg(NlMsgType.DONE, NlmF.MULTI, seq, PORT, Buffer.alloc(4)));
  await assert.rejects(p, (e: NetlinkError) => e.code === 'EINTR');
});

test('dumps on one socket run one after the other', async () => {
  const { sent, deliver, sock } = fake();
  const order: string[] = [];
  const a = sock.dump(putDumpLinks, () => {}).then(() => order.push('a'));
  const b = sock.dump(putDumpLinks, () => {}).then(() => order.push('b'));
  await tick();
  assert.equal(sent.length, 1, 'the second waits for the first to end');
  deliver(msg(NlMsgType.DONE, NlmF.MULTI, msgSeq(sent[0]!, 0), PORT, Buffer.alloc(4)));
  await tick();
  assert.equal(sent.length, 2);
  deliver(msg(NlMsgType.DONE, NlmF.MULTI, msgSeq(sent[1]!, 0), PORT, Buffer.alloc(4)));
  await Promise.all([a, b]);
  assert.deepEqual(order, ['a', 'b']);
});

test('request: resolves on its ACK, rejects with errno name and the kernel text', async () => {
  const { sent, deliver, sock } = fake();
  const ok = sock.request((enc, seq) => putNoopAck(enc, seq));
  const bad = sock.request((enc, seq) => putNoopAck(enc, seq), 'add nexthop');
  const s1 = msgSeq(sent[0]!, 0);
  const s2 = msgSeq(sent[1]!, 0);
  deliver(Buffer.concat([err(s2, Errno.ENETUNREACH, 'Nexthop has invalid gateway'), err(s1, 0)]));
  await ok;
  await assert.rejects(bad, (e: NetlinkError) => {
    assert.equal(e.code, 'ENETUNREACH');
    assert.equal(e.kernelMessage, 'Nexthop has invalid gateway');
    assert.match(e.message, /^add nexthop: ENETUNREACH/);
    return true;
  });
});

test('batch: errors map to their message by sequence number; the marker ACK ends it', () => {
  const { deliver, sock, asyncCbs } = fake();
  const first = sock.nextSeq(11);
  const errors: [number, number][] = [];
  let done = 0;
  const h: BatchHandler = {
    firstSeq: first,
    lastSeq: first + 9,
    markerSeq: first + 10,
    onError: (seq: number, e: NlError) => errors.push([seq - first, e.errno]),
    onDone: () => done++,
    onLost: () => assert.fail('not lost'),
  };
  let sentRes = 0;
  sock.sendBatch(Buffer.alloc(64), 64, h, (r) => (sentRes = r));
  asyncCbs[0]!(64);
  assert.equal(sentRes, 64);
  assert.equal(sock.pendingBatches, 1);
  deliver(Buffer.concat([err(first + 3, Errno.EEXIST), err(first + 7, Errno.ENETUNREACH)]));
  assert.equal(done, 0);
  // A notification (other pid) in between is not an answer.
  deliver(Buffer.concat([msg(Rtm.NEWROUTE, 0, first + 5, 999, Buffer.alloc(12)), err(first + 10, 0)]));
  assert.deepEqual(errors, [
    [3, Errno.EEXIST],
    [7, Errno.ENETUNREACH],
  ]);
  assert.equal(done, 1);
  assert.equal(sock.pendingBatches, 0);
});

test('batch: ENOBUFS loses every pending batch; a failed send loses its own', () => {
  const { deliver, sock, asyncCbs } = fake();
  const lost: number[] = [];
  const mk = (first: number): BatchHandler => ({
    firstSeq: first,
    lastSeq: first,
    markerSeq: first + 1,
    onError: () => {},
    onDone: () => assert.fail('not done'),
    onLost: (e) => lost.push(e),
  });
  sock.sendBatch(Buffer.alloc(16), 16, mk(sock.nextSeq(2)), () => {});
  asyncCbs[0]!(-Errno.EPERM);
  assert.deepEqual(lost, [Errno.EPERM]);
  sock.sendBatch(Buffer.alloc(16), 16, mk(sock.nextSeq(2)), () => {});
  sock.sendBatch(Buffer.alloc(16), 16, mk(sock.nextSeq(2)), () => {});
  deliver(null, Errno.ENOBUFS);
  assert.deepEqual(lost, [Errno.EPERM, Errno.ENOBUFS, Errno.ENOBUFS]);
  assert.equal(sock.overflows, 1);
});

test('nextSeq never wraps inside a range and skips 0', () => {
  const { sock } = fake();
  (sock as unknown as { seq: number }).seq = 0xfffffff0;
  const s = sock.nextSeq(100);
  assert.equal(s, 1);
  assert.equal(sock.nextSeq(), 101);
});
