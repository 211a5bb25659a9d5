import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announceV4, learnerLab } from './learner-lab.js';

test('a path holding our own AS is a loop: counted as received, never accepted (RFC 4271 §9.1.2)', () => {
  const { learner, lp, feed } = learnerLab();
  const update = (asns: number[], prefix: number): Buffer[] => announceV4([prefix], { asns });
  feed(update([65010, 65001, 64512], 0xc0a80100));
  feed(update([65010, 64512], 0xc0a80200));
  // The same looped attribute set again (an interning hit) is still refused.
  feed(update([65010, 65001, 64512], 0xc0a80300));
  const f = lp.family(1)!;
  assert.equal(f.adjIn.count, 1, 'only the loop-free path is accepted');
  assert.equal(f.total, 3, 'all three are counted for the prefix limit');
  assert.equal(learner.rib.v4.best(learner.rib.v4.v4!.find(0xc0a80100, 24)), -1);
});
