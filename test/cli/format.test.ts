import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAsPath, formatAttrs, formatDuration, formatNexthops, protocolName, shortState, tableName, upDown } from '../../src/cli/format.js';
import { renderTable } from '../../src/cli/table.js';
import { family } from '../api/fake-view.js';

test('durations: gobgp style, days past 24 h', () => {
  const cases: [number | null, string][] = [
    [0, '00:00:00'],
    [59.9, '00:00:59'],
    [3600, '01:00:00'],
    [86399, '23:59:59'],
    [86400, '1d 00:00:00'],
    [12 * 86400 + 3 * 3600 + 4 * 60 + 5, '12d 03:04:05'],
    [null, '-'],
    [-1, '-'],
    [Number.NaN, '-'],
  ];
  for (const [s, text] of cases) assert.equal(formatDuration(s), text, String(s));
});

test('states: short names, Idle reasons; Up/Down never before the first Established', () => {
  const base = { adminDown: false, families: [family('ipv4', 0, 0, 0, 0)] };
  assert.equal(shortState({ ...base, state: 'OpenConfirm' }), 'Confirm');
  assert.equal(shortState({ ...base, state: 'Idle', adminDown: true }), 'Idle(Admin)');
  const over = family('ipv4', 5, 5, 0, 0, { prefixLimit: { max: 4, warningThresholdPercent: 75, warning: true, overflow: true, restartIn: null } });
  assert.equal(shortState({ ...base, state: 'Idle', families: [over] }), 'Idle(PfxCt)');
  assert.equal(shortState({ ...base, state: 'Active', families: [over] }), 'Active', 'restarting after the limit: the real state');
  assert.equal(upDown({ state: 'Active', uptime: null, downtime: 30, establishedCount: 0 }), 'never');
  assert.equal(upDown({ state: 'Active', uptime: null, downtime: 30, establishedCount: 1 }), '00:00:30');
  assert.equal(upDown({ state: 'Established', uptime: 61, downtime: null, establishedCount: 1 }), '00:01:01');
});

test('AS paths, attributes, next hops, kernel names', () => {
  assert.equal(
    formatAsPath([
      { type: 'confed-sequence', asns: [65100, 65101] },
      { type: 'confed-set', asns: [65102] },
      { type: 'sequence', asns: [1, 2] },
      { type: 'set', asns: [3, 4] },
    ]),
    '(65100 65101) [65102] 1 2 {3,4}',
  );
  assert.equal(formatAsPath([]), '');
  assert.equal(
    formatAttrs({ nextHop: '', asPath: [], origin: 'egp', med: 7, localPref: 200, communities: ['1:2'], largeCommunities: ['1:2:3', '4:5:6'] }),
    '[{Origin: e} {Med: 7} {LocalPref: 200} {Communities: 1:2} {LargeCommunity: 1:2:3, 4:5:6}]',
  );
  assert.equal(formatNexthops([{ gateway: null, dev: 'eth0', weight: 1 }, { gateway: 'fe80::1', dev: null, weight: 3 }]), 'dev eth0, via fe80::1 weight 3');
  assert.equal(formatNexthops([]), '-');
  assert.deepEqual([protocolName(186), protocolName(12), protocolName(11), protocolName(99)], ['bgp', 'bird', 'zebra', '99']);
  assert.deepEqual([tableName(254), tableName(255), tableName(1000)], ['main', 'local', '1000']);
});

test('table: right alignment, custom gaps, trailing spaces trimmed, empty cells', () => {
  assert.equal(
    renderTable([{ header: 'A' }, { header: 'N', align: 'right' }, { header: 'Z', gap: ' | ' }], [
      ['x', '1', ''],
      ['long', '100', 'end'],
    ]),
    'A       N | Z\nx       1 |\nlong  100 | end\n',
  );
});
