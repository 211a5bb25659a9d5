import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Action, ACTION_NAMES, RouteClass, classifyKernelRoute, decide } from '../../src/fib/diff.js';
import { Rtn } from '../../src/fib/netlink/constants.js';
import { EntryFlag } from '../../src/fib/table.js';

const { DIRTY, INFLIGHT, FOREIGN, FAILED, ADOPTED, PROBE } = EntryFlag;

test('decide: one row per situation', () => {
  // [desired form, installed form, flags, holdAdopted, expected]
  const rows: [number, number, number, boolean, Action][] = [
    [-1, -1, DIRTY, true, Action.NONE], // nothing wanted, nothing there
    [3, -1, DIRTY, true, Action.ADD],
    [3, 3, DIRTY, true, Action.KEEP], // the kernel already has it: no write
    [3, 4, DIRTY, true, Action.REPLACE], // ours with another next hop
    [-1, 4, DIRTY, true, Action.DELETE],
    [3, -1, DIRTY | FOREIGN, true, Action.CONFLICT], // another owner holds the key
    [3, 4, DIRTY | FOREIGN, true, Action.CONFLICT], // a replace could hit their route: never
    [4, 4, DIRTY | FOREIGN, true, Action.KEEP],
    [3, -1, DIRTY | INFLIGHT, true, Action.WAIT],
    [-1, 4, INFLIGHT | FAILED, false, Action.WAIT],
    [3, -1, FAILED, true, Action.NONE], // wait for a retry trigger
    [-1, 4, FAILED, false, Action.NONE],
    [-1, 4, ADOPTED, true, Action.HOLD], // before reconcile: keep routes from the last run
    [-1, 4, ADOPTED, false, Action.DELETE], // after reconcile: stale, delete
    [4, 4, ADOPTED, true, Action.KEEP],
    [5, 4, ADOPTED, true, Action.REPLACE],
    [3, -1, DIRTY | PROBE, true, Action.PROBE], // EEXIST on add: is it ours on the key?
    [3, 3, DIRTY | PROBE | FOREIGN, true, Action.PROBE], // another owner's replace: ours may remain
    [3, -1, PROBE | INFLIGHT, true, Action.WAIT],
    [3, -1, PROBE | FAILED, true, Action.NONE], // a failed probe waits for a retry trigger
  ];
  for (const [d, i, f, hold, want] of rows) {
    assert.equal(ACTION_NAMES[decide(d, i, f, hold)], ACTION_NAMES[want], `decide(${d}, ${i}, ${f}, ${hold})`);
  }
});

test('classifyKernelRoute: ownership is protocol + metric within our table', () => {
  const own = { table: 100, protocol: 186, metric: 20 };
  const U = Rtn.UNICAST;
  assert.equal(classifyKernelRoute(own, 100, 186, 20, 0, U), RouteClass.OURS);
  assert.equal(classifyKernelRoute(own, 100, 186, 30, 0, U), RouteClass.OURS_STALE, 'ours with an old metric');
  assert.equal(classifyKernelRoute(own, 100, 186, 20, 0, Rtn.BLACKHOLE), RouteClass.OURS_STALE, 'we only write unicast');
  assert.equal(classifyKernelRoute(own, 100, 4, 20, 0, U), RouteClass.FOREIGN, 'static on our exact key');
  assert.equal(classifyKernelRoute(own, 100, 4, 0, 0, U), RouteClass.IGNORE, 'another metric coexists');
  assert.equal(classifyKernelRoute(own, 254, 186, 20, 0, U), RouteClass.IGNORE, 'another table');
  assert.equal(classifyKernelRoute(own, 100, 4, 20, 8, U), RouteClass.IGNORE, 'tos is part of the IPv4 key');
});
