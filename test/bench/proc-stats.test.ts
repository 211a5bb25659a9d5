// The kernel FIB probe of the bench (bench/harness/proc-stats.ts): fib_triestat's tables,
// and (as root) that splitLocalTable gives Local its own trie, so a read of the count
// walks the Main routes once instead of twice, and leaves the rules as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { FibCounter, splitLocalTable, trieStatTables } from '../../bench/harness/proc-stats.js';
import { createLab } from '../lib/netns.js';
import { waitFor } from '../lib/proc.js';
import { needsRoot } from '../lib/root.js';

// Linux 6.x, a namespace with 1M routes, before and after the split (trimmed).
const MERGED = `Basic info: size of leaf: 48 bytes, size of tnode: 40 bytes.
Main:
	Aver depth:     1.36
	Leaves:         1000003
	Prefixes:       1000003
	Pointers: 2797710
Null ptrs: 1624162
Total size: 130200  kB
Local:
	Aver depth:     1.36
	Leaves:         1000003
	Prefixes:       1000003
	Pointers: 2797710
Null ptrs: 1624162
Total size: 130200  kB
`;
const SPLIT = MERGED.replace(/Local:[\s\S]*/, 'Local:\n\tAver depth:     1.66\n\tLeaves:         3\n\tPrefixes:       3\nNull ptrs: 2\nTotal size: 1  kB\nId 100:\n\tPrefixes:       7\n').replace(/1000003/g, '1000000');

test('trieStatTables: prefixes by table, headings only at the start of a line', () => {
  assert.deepEqual([...trieStatTables(MERGED)], [['Main', 1_000_003], ['Local', 1_000_003]]);
  assert.deepEqual([...trieStatTables(SPLIT)], [['Main', 1_000_000], ['Local', 3], ['Id 100', 7]]);
  assert.equal(trieStatTables('Basic info: x\n').size, 0);
});

test('splitLocalTable: Local gets its own trie, rules end as they began, the count still works', { skip: needsRoot() }, async () => {
  const lab = createLab('w5split');
  try {
    const ns = await lab.addNamespace('fib');
    await lab.check(ns, 'ip', ['route', 'add', '10.1.0.0/16', 'dev', 'lo']);
    await lab.check(ns, 'ip', ['route', 'add', '10.2.0.0/16', 'dev', 'lo']);
    const holder = lab.spawnIn(ns, 'sleep', ['60']);
    const pid = holder.pid!;
    // /proc/PID/net is the namespace of PID: wait until `ip netns exec` has entered it.
    const inode = `net:[${statSync(`/run/netns/${ns.netns}`).ino}]`;
    await waitFor(() => readlinkSync(`/proc/${pid}/ns/net`) === inode, 5000, 10);
    const tables = (): Map<string, number> => trieStatTables(readFileSync(`/proc/${pid}/net/fib_triestat`, 'utf8'));
    // A fresh namespace: Local is Main under another name (2 routes + 127/8's local ones, twice).
    const before = tables();
    assert.equal(before.get('Main'), before.get('Local'));
    assert.ok((before.get('Main') ?? 0) >= 5, JSON.stringify([...before]));
    const rules = (await lab.check(ns, 'ip', ['-4', 'rule', 'show'])).stdout;

    await splitLocalTable(ns.netns);
    const after = tables();
    assert.equal(after.get('Main'), 2, 'Main holds the two routes only');
    assert.equal((after.get('Main') ?? 0) + (after.get('Local') ?? 0), before.get('Main'));
    assert.equal((await lab.check(ns, 'ip', ['-4', 'rule', 'show'])).stdout, rules, 'the rule is gone again');

    // The split stays, and FibCounter counts routes added after its baseline.
    const counter = new FibCounter(pid, true, true);
    counter.baseline();
    await lab.check(ns, 'ip', ['route', 'add', '10.3.0.0/16', 'dev', 'lo']);
    await lab.check(ns, 'ip', ['-6', 'route', 'add', '2001:db8:5::/48', 'dev', 'lo']);
    assert.equal(await counter.count(), 2);
    assert.equal(tables().get('Main'), 3);
    assert.equal(tables().get('Local'), 3, 'Local keeps its own');
    await lab.kill(pid, 500);
  } finally {
    await lab.cleanup();
  }
});
