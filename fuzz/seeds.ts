// Seed inputs: valid messages built with the project's own encoders (every attribute,
// every capability, IPv6 MP_REACH, ADD-PATH, 2-octet AS with AS4_PATH, End-of-RIB),
// plus real messages from public MRT files, committed as hex in test/fixtures/fuzz/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildCapabilities } from '../src/wire/capabilities.js';
import { emptyAttributes, type PathAttributes } from '../src/wire/attrs/types.js';
import { encodeMessage } from '../src/wire/header.js';
import { Afi, CeaseSubcode, ErrorCode, MsgType, RouteRefreshSubtype } from '../src/wire/iana.js';
import { KEEPALIVE } from '../src/wire/keepalive.js';
import { encodeNotification, encodeMaxPrefixData, shutdownNotification } from '../src/wire/notification.js';
import { buildOpen, encodeOpen } from '../src/wire/open.js';
import { encodeRouteRefresh } from '../src/wire/route-refresh.js';
import { encodeContext, encodeEndOfRib, packUpdates, packWithdrawals, PrefixBatch } from '../src/wire/update-encoder.js';
import { readHexFile } from './hexfile.js';
import { FIXTURES } from './paths.js';

/** The peer AS the eBGP fuzz contexts enforce as first AS, and the seeds' first AS. */
export const PEER_AS = 65001;
export const LOCAL_AS = 65010;

const HEADER_LEN = 19;

function fullAttributes(): PathAttributes {
  const a = emptyAttributes();
  a.origin = 0;
  a.asPath = [
    { type: 2, asns: [PEER_AS, 65002, 4200000001] },
    { type: 1, asns: [64512, 70000] },
  ];
  a.nextHop = Buffer.of(192, 0, 2, 1);
  a.med = 100;
  a.localPref = 200;
  a.atomicAggregate = true;
  a.aggregator = { asn: 4200000001, address: 0xc0000202 };
  a.communities = Uint32Array.of(0xfde90001, 0xffffff01);
  a.originatorId = 0x0a000001;
  a.clusterList = Uint32Array.of(0x0a000002, 0x0a000003);
  a.extendedCommunities = Buffer.from('0002fde900000064', 'hex');
  a.largeCommunities = Uint32Array.of(4200000001, 1, 2);
  a.unknown = [{ flags: 0xe0, type: 99, value: Buffer.from('cafe', 'hex') }];
  return a;
}

function minimalAttributes(): PathAttributes {
  const a = emptyAttributes();
  a.origin = 2;
  a.asPath = [{ type: 2, asns: [PEER_AS] }];
  a.nextHop = Buffer.of(10, 0, 0, 1);
  return a;
}

function v4Batch(addPath: boolean): PrefixBatch {
  const b = new PrefixBatch(Afi.IPV4);
  b.addBytes(Buffer.of(10, 0, 0, 0), 8, addPath ? 1 : 0);
  b.addBytes(Buffer.of(192, 168, 1, 0), 24, addPath ? 2 : 0);
  b.addBytes(Buffer.of(0, 0, 0, 0), 0);
  b.addBytes(Buffer.of(203, 0, 113, 7), 32, addPath ? 0xffffffff : 0);
  b.addBytes(Buffer.of(172, 16, 0, 0), 12);
  return b;
}

function v6Batch(addPath: boolean): PrefixBatch {
  const b = new PrefixBatch(Afi.IPV6);
  b.addBytes(Buffer.from('20010db8000000000000000000000000', 'hex'), 32, addPath ? 7 : 0);
  b.addBytes(Buffer.from('20010db8000100020003000400050006', 'hex'), 128);
  b.addBytes(Buffer.from('fd000000000000000000000000000000', 'hex'), 8);
  b.addBytes(Buffer.alloc(16), 0);
  b.addBytes(Buffer.from('20010db8aaaabbbb0000000000000000', 'hex'), 64);
  return b;
}

/** Whole UPDATE messages (header included) from the encoder. */
export function encodedUpdates(): Buffer[] {
  const out: Buffer[] = [];
  for (const fourOctetAs of [true, false]) {
    for (const addPath of [false, true]) {
      const ctx = encodeContext({ fourOctetAs, addPathTx: addPath ? 3 : 0 });
      const full = fullAttributes();
      packUpdates(full, v4Batch(addPath), ctx, out);
      const v6 = { ...full, nextHop: undefined, mpNextHop: { global: Buffer.from('20010db8000000000000000000000001', 'hex'), linkLocal: undefined } };
      packUpdates(v6, v6Batch(addPath), ctx, out);
      const ll = { ...v6, mpNextHop: { global: v6.mpNextHop.global, linkLocal: Buffer.from('fe800000000000000000000000000001', 'hex') } };
      packUpdates(ll, v6Batch(addPath), ctx, out);
      packUpdates(minimalAttributes(), v4Batch(addPath), ctx, out);
      packWithdrawals(v4Batch(addPath), ctx, out);
      packWithdrawals(v6Batch(addPath), ctx, out);
    }
  }
  // Confederation segments (iBGP only) and a long AS_PATH / many communities (extended length).
  const confed = minimalAttributes();
  confed.asPath = [
    { type: 3, asns: [64512, 64513] },
    { type: 4, asns: [64514] },
    { type: 2, asns: [PEER_AS, 23456] },
  ];
  packUpdates(confed, v4Batch(false), encodeContext(), out);
  const big = fullAttributes();
  big.asPath = [{ type: 2, asns: Array.from({ length: 300 }, (_, i) => PEER_AS + i) }];
  big.communities = Uint32Array.from({ length: 200 }, (_, i) => 0xfde90000 + i);
  packUpdates(big, v4Batch(false), encodeContext(), out);
  packUpdates(big, v4Batch(false), encodeContext({ fourOctetAs: false }), out);
  out.push(encodeEndOfRib(Afi.IPV4, 1), encodeEndOfRib(Afi.IPV6, 1));
  return out;
}

/** OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH messages. */
export function encodedControlMessages(): Buffer[] {
  const everything = buildCapabilities({
    asn: 4200000001,
    families: [
      { afi: 1, safi: 1 },
      { afi: 2, safi: 1 },
    ],
    routeRefresh: true,
    enhancedRouteRefresh: true,
    extendedMessage: true,
    gracefulRestart: {
      restartState: true,
      notification: true,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: false },
      ],
    },
    addPath: [
      { afi: 1, safi: 1, mode: 3 },
      { afi: 2, safi: 1, mode: 1 },
    ],
    role: 3,
  });
  everything.unknown.push({ code: 73, value: Buffer.from('0474657374', 'hex') });
  const open = buildOpen(4200000001, 90, 0x0a000002, everything);
  const plain = buildOpen(PEER_AS, 180, 0xc0000201, buildCapabilities({ asn: PEER_AS }));
  const bare = Buffer.from('04fde900b40a00000200', 'hex'); // no optional parameters
  return [
    encodeOpen(open),
    encodeOpen(open, { extendedParams: true }),
    encodeOpen(plain),
    encodeMessage(MsgType.OPEN, bare),
    KEEPALIVE,
    encodeNotification(shutdownNotification(CeaseSubcode.ADMIN_SHUTDOWN, 'maintenance ✓')),
    encodeNotification({ code: ErrorCode.CEASE, subcode: CeaseSubcode.HARD_RESET, data: Buffer.of(6, 2, 3, 0x61, 0x62, 0x63) }),
    encodeNotification({ code: ErrorCode.CEASE, subcode: CeaseSubcode.MAX_PREFIXES, data: encodeMaxPrefixData(1, 1, 1000) }),
    encodeNotification({ code: ErrorCode.MESSAGE_HEADER, subcode: 2, data: Buffer.of(0x10, 0x01) }),
    encodeNotification({ code: ErrorCode.OPEN_MESSAGE, subcode: 1, data: Buffer.of(0, 4) }),
    encodeRouteRefresh(1, 1),
    encodeRouteRefresh(2, 1, RouteRefreshSubtype.BORR),
    encodeRouteRefresh(2, 1, RouteRefreshSubtype.EORR),
  ];
}

/** Real messages (header included) extracted from MRT files by `extract-seeds`. */
export const MRT_SEED_FILE = join(FIXTURES, 'mrt-messages.hex');

export function mrtMessages(): Buffer[] {
  return existsSync(MRT_SEED_FILE) ? readHexFile(MRT_SEED_FILE) : [];
}

function bodies(msgs: readonly Buffer[], type: number): Buffer[] {
  return msgs.filter((m) => m.length >= HEADER_LEN && m[18] === type).map((m) => m.subarray(HEADER_LEN));
}

/** Seeds of the UPDATE target: bodies (no header). */
export function updateSeeds(): Buffer[] {
  return [...bodies(encodedUpdates(), MsgType.UPDATE), ...bodies(mrtMessages(), MsgType.UPDATE)];
}

/** Seeds of the stream target: whole messages, alone and as short sessions. */
export function streamSeeds(): Buffer[] {
  const control = encodedControlMessages();
  const updates = encodedUpdates();
  const real = mrtMessages();
  const session = Buffer.concat([control[0]!, KEEPALIVE, updates[0]!, updates[1]!, KEEPALIVE, control[5]!]);
  const realSession = Buffer.concat(real.slice(0, 8));
  // Real UPDATEs make up most of the MRT file; a few suffice here (the update target has them all).
  return [...control, ...updates.slice(0, 12), ...real.filter((m) => m[18] !== MsgType.UPDATE), ...real.slice(0, 40), session, realSession];
}
