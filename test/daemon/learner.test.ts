import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Learner } from '../../src/daemon/learner.js';
import type { Neighbor } from '../../src/daemon/speaker.js';
import { ImportGuards } from '../../src/policy/guards.js';
import { emptyAttributes } from '../../src/wire/attrs/types.js';
import { PrefixBatch } from '../../src/wire/nlri/batch.js';
import { encodeContext, packUpdates } from '../../src/wire/update-encoder.js';
import { locateUpdate, updateContext } from '../../src/wire/update.js';

// A neighbour as the speaker would hand it (no live session needed for the sink).
const neighbor = {
  address: '10.0.0.2',
  options: { address: '10.0.0.2', peerAs: 65010 },
  peer: { negotiated: undefined },
  index: 1,
  advertised: new Map(),
} as unknown as Neighbor;

function update(asns: number[], prefix: number): Buffer {
  const a = emptyAttributes();
  a.origin = 0;
  a.asPath = [{ type: 2, asns }];
  a.nextHop = Buffer.from([10, 0, 0, 2]);
  const b = new PrefixBatch(1);
  b.addV4(prefix, 24);
  return packUpdates(a, b, encodeContext())[0]!.subarray(19);
}

test('a path holding our own AS is a loop: counted as received, never accepted (RFC 4271 §9.1.2)', () => {
  const learner = new Learner({ asn: 65001, routerId: 0x0a000001 }, new ImportGuards());
  const lp = learner.addPeer(
    neighbor,
    { importPolicy: { defaultAction: 'Accept', allowDefaultRoute: false, rules: [] }, prefixLimits: new Map() },
    65001,
  );
  const ctx = updateContext({ ebgp: true, peerAs: 65010 });
  learner.update(neighbor, locateUpdate(update([65010, 65001, 64512], 0xc0a80100), ctx), ctx);
  learner.update(neighbor, locateUpdate(update([65010, 64512], 0xc0a80200), ctx), ctx);
  // The same looped attribute set again (an interning hit) is still refused.
  learner.update(neighbor, locateUpdate(update([65010, 65001, 64512], 0xc0a80300), ctx), ctx);
  const f = lp.family(1)!;
  assert.equal(f.adjIn.count, 1, 'only the loop-free path is accepted');
  assert.equal(f.total, 3, 'all three are counted for the prefix limit');
  assert.equal(learner.rib.v4.best(learner.rib.v4.v4!.find(0xc0a80100, 24)), -1);
});
