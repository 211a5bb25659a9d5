// A Learner with one eBGP neighbour (10.0.0.2, AS 65010) and the UPDATE bodies to feed
// it: what the learner tests build around every case.
import { Learner, type GracefulOptions, type LearnerEvents } from '../../src/daemon/learner.js';
import type { Neighbor } from '../../src/daemon/speaker.js';
import type { ImportPolicy, PrefixLimit } from '../../src/config/model.js';
import { ImportGuards } from '../../src/policy/guards.js';
import { emptyAttributes } from '../../src/wire/attrs/types.js';
import { PrefixBatch } from '../../src/wire/nlri/batch.js';
import { encodeContext, packUpdates, packWithdrawals } from '../../src/wire/update-encoder.js';
import { locateUpdate, updateContext } from '../../src/wire/update.js';

/** A neighbour as the speaker would hand it (no live session needed for the sink). */
export const NEIGHBOR = {
  address: '10.0.0.2',
  options: { address: '10.0.0.2', peerAs: 65010 },
  peer: { negotiated: undefined },
  index: 1,
  advertised: new Map(),
} as unknown as Neighbor;

export const EBGP_CTX = updateContext({ ebgp: true, peerAs: 65010 });

/** UPDATE bodies (no header) announcing IPv4 /24s via 10.0.0.2; AS_PATH 65010 unless given. */
export function announceV4(prefixes: readonly number[], o: { med?: number; asns?: readonly number[] } = {}): Buffer[] {
  const a = emptyAttributes();
  a.origin = 0;
  a.asPath = [{ type: 2, asns: o.asns ?? [65010] }];
  a.nextHop = Buffer.from([10, 0, 0, 2]);
  if (o.med !== undefined) a.med = o.med;
  const b = new PrefixBatch(1);
  for (const p of prefixes) b.addV4(p, 24);
  return packUpdates(a, b, encodeContext()).map((m) => m.subarray(19));
}

/** UPDATE bodies (no header) withdrawing IPv4 /24s. */
export function withdrawV4(prefixes: readonly number[]): Buffer[] {
  const b = new PrefixBatch(1);
  for (const p of prefixes) b.addV4(p, 24);
  return packWithdrawals(b, encodeContext()).map((m) => m.subarray(19));
}

/** Accept everything (but the default route). */
export const ACCEPT_ALL: ImportPolicy = { defaultAction: 'Accept', allowDefaultRoute: false, rules: [] };

export interface LearnerLabOptions {
  readonly importPolicy?: ImportPolicy;
  readonly prefixLimits?: ReadonlyMap<number, PrefixLimit>;
  readonly events?: Partial<LearnerEvents>;
  readonly clock?: () => number;
  readonly graceful?: Partial<GracefulOptions>;
}

/** The learner of AS 65001 (router ID 10.0.0.1) with NEIGHBOR added, and a feed for its UPDATEs. */
export function learnerLab(o: LearnerLabOptions = {}) {
  const learner = new Learner({ asn: 65001, routerId: 0x0a000001 }, new ImportGuards(), {}, o.events, o.clock, o.graceful);
  const lp = learner.addPeer(NEIGHBOR, { importPolicy: o.importPolicy ?? ACCEPT_ALL, prefixLimits: o.prefixLimits ?? new Map() }, 65001);
  const feed = (msgs: readonly Buffer[]): void => {
    for (const m of msgs) learner.update(NEIGHBOR, locateUpdate(m, EBGP_CTX), EBGP_CTX);
  };
  return { learner, lp, feed };
}
