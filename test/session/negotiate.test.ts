import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  announcedFamilies,
  checkOpen,
  commonFamilies,
  keepaliveFor,
  negotiate,
  negotiateHoldTime,
  type LocalSettings,
} from '../../src/session/negotiate.js';
import { emptyCapabilities, type Capabilities, type OpenMessage } from '../../src/wire/open-types.js';

const V4 = { afi: 1, safi: 1 };
const V6 = { afi: 2, safi: 1 };

function caps(extra: Partial<Capabilities> = {}): Capabilities {
  return { ...emptyCapabilities(), ...extra };
}

function local(over: Partial<LocalSettings> = {}): LocalSettings {
  return {
    localAs: 65001,
    routerId: 0x0a000001,
    peerAs: 65002,
    holdTime: 90,
    keepaliveTime: 30,
    capabilities: caps({ multiprotocol: [V4, V6], fourOctetAs: 65001 }),
    ...over,
  };
}

function peer(over: Partial<OpenMessage> = {}, c: Partial<Capabilities> = {}): OpenMessage {
  return {
    version: 4,
    myAs: 65002,
    holdTime: 90,
    bgpId: 0x0a000002,
    capabilities: caps({ multiprotocol: [V4, V6], fourOctetAs: 65002, ...c }),
    ...over,
  };
}

test('hold time is the smaller one; 0 on either side means no hold timer', () => {
  assert.equal(negotiateHoldTime(90, 30), 30);
  assert.equal(negotiateHoldTime(30, 90), 30);
  assert.equal(negotiateHoldTime(90, 0), 0);
  assert.equal(negotiateHoldTime(0, 90), 0);
  const n = negotiate(local(), peer({ holdTime: 30 }));
  assert.equal(n.holdTime, 30);
  assert.equal(n.keepaliveTime, 10); // configured 30 > 30/3
  const zero = negotiate(local(), peer({ holdTime: 0 }));
  assert.equal(zero.holdTime, 0);
  assert.equal(zero.keepaliveTime, 0);
  assert.equal(negotiate(local({ holdTime: 0 }), peer()).keepaliveTime, 0);
});

test('keepalive: configured value, never above a third of the hold time', () => {
  assert.equal(keepaliveFor(90, 30), 30);
  assert.equal(keepaliveFor(90, 10), 10);
  assert.equal(keepaliveFor(90, 60), 30);
  assert.equal(keepaliveFor(10, 30), 3);
  assert.equal(keepaliveFor(4, 30), 1);
  assert.equal(keepaliveFor(3, 30), 1);
  assert.equal(keepaliveFor(90, 0), 30); // 0 configured: the usual third
  assert.equal(keepaliveFor(0, 30), 0);
  fc.assert(
    fc.property(fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 65535 })), fc.integer({ min: 0, max: 65535 }), (hold, ka) => {
      const k = keepaliveFor(hold, ka);
      if (hold === 0) return k === 0;
      return Number.isInteger(k) && k >= 1 && k <= hold / 3 && (ka === 0 || k <= ka);
    }),
  );
});

test('families: intersection in our order; no Multiprotocol capability means IPv4 unicast', () => {
  assert.deepEqual(commonFamilies([V4, V6], [V6]), [V6]);
  assert.deepEqual(commonFamilies([V6, V4], [V4, V6]), [V6, V4]);
  assert.deepEqual(commonFamilies([V4, V4], [V4]), [V4]);
  assert.deepEqual(announcedFamilies(caps()), [V4]);

  assert.deepEqual(negotiate(local(), peer({}, { multiprotocol: [V6] })).families, [V6]);
  // RFC 4760 §8: the peer sent no Multiprotocol capability → IPv4 unicast only.
  assert.deepEqual(negotiate(local(), peer({}, { multiprotocol: [] })).families, [V4]);
  // The same rule for our side.
  const v4only = local({ capabilities: caps({ fourOctetAs: 65001 }) });
  assert.deepEqual(negotiate(v4only, peer({}, { multiprotocol: [V6] })).families, []);
  assert.deepEqual(negotiate(v4only, peer({}, { multiprotocol: [V4, V6] })).families, [V4]);
});

test('4-octet AS and extended messages need both sides; route refresh follows the peer', () => {
  assert.equal(negotiate(local(), peer()).fourOctetAs, true);
  assert.equal(negotiate(local(), peer({}, { fourOctetAs: undefined })).fourOctetAs, false);
  assert.equal(negotiate(local({ capabilities: caps({ multiprotocol: [V4] }) }), peer()).fourOctetAs, false);

  const ext = local({ capabilities: caps({ multiprotocol: [V4], extendedMessage: true }) });
  assert.equal(negotiate(ext, peer({}, { extendedMessage: true })).extendedMessage, true);
  assert.equal(negotiate(ext, peer()).extendedMessage, false);
  assert.equal(negotiate(local(), peer({}, { extendedMessage: true })).extendedMessage, false);

  const rr = negotiate(local(), peer({}, { routeRefresh: true, enhancedRouteRefresh: true }));
  assert.equal(rr.routeRefresh, true);
  assert.equal(rr.enhancedRouteRefresh, true);
  const none = negotiate(local(), peer());
  assert.equal(none.routeRefresh, false);
  assert.equal(none.enhancedRouteRefresh, false);
});

test('ADD-PATH: receive where we said receive and the peer said send, and the reverse', () => {
  const ours = (addPath: Capabilities['addPath']) =>
    local({ capabilities: caps({ multiprotocol: [V4, V6], fourOctetAs: 65001, addPath }) });
  // We receive v4 (1), peer sends v4 (2): receive only.
  let n = negotiate(ours([{ ...V4, mode: 1 }]), peer({}, { addPath: [{ ...V4, mode: 2 }] }));
  assert.deepEqual(n.addPathReceive, [V4]);
  assert.deepEqual(n.addPathSend, []);
  // Both "both": each way.
  n = negotiate(ours([{ ...V4, mode: 3 }, { ...V6, mode: 3 }]), peer({}, { addPath: [{ ...V4, mode: 3 }, { ...V6, mode: 1 }] }));
  assert.deepEqual(n.addPathReceive, [V4]);
  assert.deepEqual(n.addPathSend, [V4, V6]);
  // Both want to send only: nothing.
  n = negotiate(ours([{ ...V4, mode: 2 }]), peer({}, { addPath: [{ ...V4, mode: 2 }] }));
  assert.deepEqual(n.addPathReceive, []);
  assert.deepEqual(n.addPathSend, []);
  // A family that is not negotiated: nothing.
  n = negotiate(ours([{ ...V6, mode: 1 }]), peer({}, { multiprotocol: [V4], addPath: [{ ...V6, mode: 2 }] }));
  assert.deepEqual(n.addPathReceive, []);
  // Peer announced no ADD-PATH.
  n = negotiate(ours([{ ...V4, mode: 3 }]), peer());
  assert.deepEqual(n.addPathReceive, []);
  assert.deepEqual(n.addPathSend, []);
});

test('graceful restart: the peer’s capability kept; helper needs both; N bit needs both', () => {
  const gr = (notification: boolean) => ({
    restartState: true,
    notification,
    restartTime: 120,
    families: [{ ...V4, forwardingState: true }],
  });
  const withGr = (n: boolean) => local({ capabilities: caps({ multiprotocol: [V4], gracefulRestart: gr(n) }) });

  const onlyPeer = negotiate(local(), peer({}, { gracefulRestart: gr(true) }));
  assert.deepEqual(onlyPeer.peerGracefulRestart, gr(true));
  assert.equal(onlyPeer.gracefulRestart, false);
  assert.equal(onlyPeer.gracefulNotification, false);

  const both = negotiate(withGr(true), peer({}, { gracefulRestart: gr(true) }));
  assert.equal(both.gracefulRestart, true);
  assert.equal(both.gracefulNotification, true);
  assert.equal(negotiate(withGr(false), peer({}, { gracefulRestart: gr(true) })).gracefulNotification, false);
  assert.equal(negotiate(withGr(true), peer({}, { gracefulRestart: gr(false) })).gracefulNotification, false);
  assert.equal(negotiate(withGr(true), peer()).gracefulRestart, false);
});

test('peer identity: AS from the 4-octet capability, iBGP detection, id unsigned', () => {
  const n = negotiate(local({ peerAs: 0 }), peer({ myAs: 23456, bgpId: 0xc0a80001 }, { fourOctetAs: 4200000000 }));
  assert.equal(n.peerAs, 4200000000);
  assert.equal(n.internal, false);
  assert.equal(n.peerBgpId, 0xc0a80001); // 192.168.0.1, positive
  assert.equal(negotiate(local({ peerAs: 65001 }), peer({ myAs: 65001 }, { fourOctetAs: 65001 })).internal, true);
});

test('checkOpen: RFC 4271 §6.2 subcodes and data', () => {
  const cfg = local();
  assert.equal(checkOpen(cfg, peer()), undefined);
  assert.deepEqual(checkOpen(cfg, peer({ version: 3 })), { code: 2, subcode: 1, data: Buffer.from([0, 4]) });
  assert.deepEqual(checkOpen(cfg, peer({ myAs: 65003 }, { fourOctetAs: 65003 })), {
    code: 2,
    subcode: 2,
    data: Buffer.from([0xfd, 0xeb]),
  });
  // 4-octet AS configured, peer shows AS_TRANS + a different 4-octet AS.
  assert.deepEqual(checkOpen(local({ peerAs: 4200000000 }), peer({ myAs: 23456 }, { fourOctetAs: 4200000001 })), {
    code: 2,
    subcode: 2,
    data: Buffer.from([0x5b, 0xa0]),
  });
  // 4-octet AS configured but the peer cannot say it (no capability): only AS_TRANS.
  assert.equal(checkOpen(local({ peerAs: 4200000000 }), peer({ myAs: 23456 }, { fourOctetAs: undefined }))?.subcode, 2);
  // AS_TRANS inside the capability.
  assert.equal(checkOpen(local({ peerAs: 0 }), peer({ myAs: 23456 }, { fourOctetAs: 23456 }))?.subcode, 2);
  assert.equal(checkOpen(local({ peerAs: 0 }), peer({ myAs: 65002 }, { fourOctetAs: 0 }))?.subcode, 2);
  assert.deepEqual(checkOpen(cfg, peer({ bgpId: 0 })), { code: 2, subcode: 3, data: Buffer.alloc(0) });
  assert.equal(checkOpen(local({ peerAs: 65001 }), peer({ myAs: 65001, bgpId: 0x0a000001 }, { fourOctetAs: 65001 }))?.subcode, 3);
  // Same identifier across ASes is allowed (RFC 6286 §2.2).
  assert.equal(checkOpen(cfg, peer({ bgpId: 0x0a000001 })), undefined);
  assert.deepEqual(checkOpen(cfg, peer({ holdTime: 1 })), { code: 2, subcode: 6, data: Buffer.alloc(0) });
  assert.equal(checkOpen(cfg, peer({ holdTime: 2 }))?.subcode, 6);
  assert.equal(checkOpen(cfg, peer({ holdTime: 3 })), undefined);
  // The RFC's order: a bad version is reported before anything else.
  assert.equal(checkOpen(cfg, peer({ version: 3, myAs: 1, bgpId: 0, holdTime: 1 }))?.subcode, 1);
  assert.equal(checkOpen(cfg, peer({ myAs: 1, bgpId: 0, holdTime: 1 }, { fourOctetAs: 1 }))?.subcode, 2);
  assert.equal(checkOpen(cfg, peer({ bgpId: 0, holdTime: 1 }))?.subcode, 3);
});
