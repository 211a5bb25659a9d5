// The native socket on its own: reads need no privilege, so these run as any user.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kernelTransport, netlinkUnavailable } from '../../src/fib/netlink/addon.js';
import { Rtm } from '../../src/fib/netlink/constants.js';
import { decodeLink, msgType, putDumpLinks, putNoopAck } from '../../src/fib/netlink/codec.js';
import { type NetlinkError, NetlinkSocket } from '../../src/fib/netlink/socket.js';

const skip = netlinkUnavailable();
if (skip) console.log(`# addon tests skipped: ${skip}`);

const open = (): NetlinkSocket => new NetlinkSocket(kernelTransport, { groups: 0, rcvbuf: 1 << 20, sndbuf: 1 << 20, flags: 7 });

test('addon: dumps links through the event loop and ACKs a NOOP', { skip: skip ?? false }, async () => {
  const s = open();
  try {
    assert.ok(s.transport.portId > 0, 'the kernel assigned a port id');
    const names: string[] = [];
    await s.dump(putDumpLinks, (b, off, len) => {
      if (msgType(b, off) === Rtm.NEWLINK) names.push(decodeLink(b, off, len)!.name);
    });
    assert.ok(names.includes('lo'));
    await s.request((enc, seq) => putNoopAck(enc, seq));
  } finally {
    s.close();
  }
});

test('addon: closing from inside the receive callback is safe', { skip: skip ?? false }, async () => {
  const s = open();
  let seen = 0;
  await assert.rejects(
    s.dump(putDumpLinks, () => {
      seen++;
      s.close();
    }),
    (e: NetlinkError) => e.code === 'EBADF',
  );
  assert.equal(seen, 1);
  // A send on a closed socket reports EBADF instead of throwing.
  assert.equal(s.transport.send(Buffer.alloc(16), 16), -9);
  await new Promise((r) => setTimeout(r, 20)); // let libuv close the poll handle
});
