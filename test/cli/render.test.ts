// Golden renderings. Expected text was laid out by hand from the column rules (widest
// cell per column, two-space gaps, numbers right-aligned, gobgp's ` |` before #Received),
// not captured from the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiEvent, FibRoute } from '../../src/api/types.js';
import {
  AdjRibTableWriter, FibTableWriter, pathMark, renderActions, renderConfigStatus, renderEvent, renderGlobal, renderNeighborDetail, renderNeighbors, RibTableWriter,
} from '../../src/cli/render.js';
import { adjRoute, family, FakeView, FIB, globalInfo, neighbor, NEIGHBORS, RIB } from '../api/fake-view.js';

function lines(...l: string[]): string {
  return `${l.join('\n')}\n`;
}

function drain<T>(w: { push(x: T): string; end(): string }, items: readonly T[]): string {
  let out = '';
  for (const i of items) out += w.push(i);
  return out + w.end();
}

test('neighbor table (one instance): gobgp layout', () => {
  assert.equal(
    renderNeighbors(NEIGHBORS),
    lines(
      'Peer           AS   Up/Down  State       |#Received  Accepted  Installed  Advertised',
      '10.0.255.1  65000  00:05:41  Establ      |        2         2          2           1',
      '10.0.255.2  65002  01:02:03  Idle(PfxCt) |     1001       990          0           0',
    ),
  );
});

test('neighbor states: Idle(Admin), never up, peer AS from OPEN', () => {
  const out = renderNeighbors([
    neighbor({ address: '192.0.2.1', state: 'Idle', adminDown: true, uptime: null, downtime: 10, establishedCount: 1 }),
    neighbor({ address: '192.0.2.2', state: 'Active', peerAs: 0, remoteAs: null, uptime: null, downtime: 50, establishedCount: 0, families: [] }),
    neighbor({ address: '192.0.2.3', state: 'OpenSent', uptime: null, downtime: 5, establishedCount: 0 }),
    neighbor({ address: '192.0.2.4', state: 'OpenConfirm', uptime: null, downtime: 5, establishedCount: 3 }),
  ]);
  assert.equal(
    out,
    lines(
      'Peer          AS   Up/Down  State       |#Received  Accepted  Installed  Advertised',
      '192.0.2.1  65000  00:00:10  Idle(Admin) |        2         2          2           1',
      '192.0.2.2    any     never  Active      |        0         0          0           0',
      '192.0.2.3  65000     never  Sent        |        2         2          2           1',
      '192.0.2.4  65000  00:00:05  Confirm     |        2         2          2           1',
    ),
  );
});

test('neighbor table (several instances): cilium bgp peers layout with a row per family', () => {
  const out = renderNeighbors([
    neighbor({ instance: 'a', address: '10.0.0.1', families: [family('ipv4', 2, 2, 2, 1), family('ipv6', 3, 1, 0, 0)] }),
    neighbor({ instance: 'b', address: '10.0.1.1', localAs: 65002, peerAs: 0, remoteAs: null, state: 'Active', uptime: null, downtime: 9, establishedCount: 0, families: [family('ipv4', 0, 0, 0, 0)] }),
  ]);
  assert.equal(
    out,
    lines(
      'Instance  Local AS  Peer AS  Peer Address  Session State  Up/Down   Family        Received  Accepted  Installed  Advertised',
      'a         65001     65000    10.0.0.1      Establ         00:05:41  ipv4/unicast  2         2         2          1',
      '                                                                    ipv6/unicast  3         1         0          0',
      'b         65002     any      10.0.1.1      Active         never     ipv4/unicast  0         0         0          0',
    ),
  );
});

test('neighbor detail: state, last error, capabilities, families with prefix limit, messages', () => {
  assert.equal(
    renderNeighborDetail(NEIGHBORS[1]!),
    lines(
      'BGP neighbor is 10.0.255.2, remote AS 65002',
      '  Instance vr-65001, local AS 65001',
      '  BGP version 4, remote router ID 10.0.255.2, port 179',
      '  BGP state = Idle(PfxCt), down for 01:02:03, established 2 times',
      '  Configured hold time is 90, keepalive interval is 30 seconds, connect retry 120 seconds',
      '  Last error: Cease/Maximum Number of Prefixes Reached (sent, 01:02:03 ago)',
      '  Capabilities:',
      '    multiprotocol ipv4-unicast  advertised and received',
      '    route-refresh               advertised and received',
      '    4-octet-as                  advertised',
      '  Families:',
      '    Family        Negotiated  Received  Accepted  Installed  Advertised  Prefix limit',
      '    ipv4/unicast  no              1001       990          0           0  1000 EXCEEDED, restart in 00:01:00',
      '  Message statistics:',
      '                   Sent  Received',
      '    Opens             1         1',
      '    Notifications     0         0',
      '    Updates           3         5',
      '    Keepalives       10        11',
      '    Route refresh     0         0',
      '    Total            14        17',
    ),
  );
  const up = renderNeighborDetail(neighbor({ address: '10.0.255.1', peerAs: 0, remoteAs: 64999, localAddress: '10.0.255.254', lastError: { direction: null, code: null, subcode: null, text: 'connection lost', message: null, age: 400 } }));
  assert.match(up, /^BGP neighbor is 10\.0\.255\.1, remote AS 64999 \(configured any\)\n/);
  assert.match(up, /\n {2}Instance vr-65001, local AS 65001, local address 10\.0\.255\.254\n/);
  assert.match(up, /\n {2}BGP state = Established, up for 00:05:41, established 1 time\n/);
  assert.match(up, /\n {2}Hold time is 90, keepalive interval is 30 seconds\n/);
  assert.match(up, /\n {2}Last error: connection lost \(00:06:40 ago\)\n/);
  const shut = renderNeighborDetail(neighbor({ address: '10.0.255.3', lastError: { direction: 'received', code: 6, subcode: 2, text: 'Cease/Administrative Shutdown', message: 'upgrade', age: 5 } }));
  assert.match(shut, /Last error: Cease\/Administrative Shutdown \(received, 00:00:05 ago\): "upgrade"/);
});

test('global rib: marks, AS paths, ages, attributes, the reason a path lost', () => {
  assert.equal(
    drain(new RibTableWriter(false), RIB),
    lines(
      '   Network        Next Hop    AS_PATH              Age          Attrs',
      '*> 10.3.0.0/16    10.0.255.1  65001                00:05:41     [{Origin: i} {Med: 0}]',
      '*  10.3.0.0/16    10.0.255.2  65002 65001          00:05:40     [{Origin: i} {Communities: 65002:100, no-export}] lost: as-path-length',
      '*> 10.4.0.0/24    10.0.255.1  65001                1d 01:01:01  [{Origin: i} {Med: 0}]',
      '*= 10.4.0.0/24    10.0.255.2  65001                00:01:00     [{Origin: i} {Med: 0}] lost: router-id',
      '*> 2001:db8::/32  fe80::1     65001 {64512,64513}  00:00:05     [{Origin: ?} {LocalPref: 100} {LargeCommunity: 65001:1:2}]',
    ),
  );
  assert.deepEqual(
    [pathMark({ best: true, multipath: false, stale: true }), pathMark({ best: false, multipath: false, stale: true })],
    ['S>', 'S '],
  );
});

test('global rib with several instances adds a VRouter column', () => {
  const out = drain(new RibTableWriter(true), [RIB[0]!, { ...RIB[2]!, instance: 'blue' }]);
  assert.equal(
    out,
    lines(
      'VRouter      Network        Next Hop    AS_PATH              Age       Attrs',
      'vr-65001  *> 10.3.0.0/16    10.0.255.1  65001                00:05:41  [{Origin: i} {Med: 0}]',
      'vr-65001  *  10.3.0.0/16    10.0.255.2  65002 65001          00:05:40  [{Origin: i} {Communities: 65002:100, no-export}] lost: as-path-length',
      'blue      *> 2001:db8::/32  fe80::1     65001 {64512,64513}  00:00:05  [{Origin: ?} {LocalPref: 100} {LargeCommunity: 65001:1:2}]',
    ),
  );
});

test('streaming table: widths from the first rows, later rows printed at once', () => {
  const w = new RibTableWriter(false, 2);
  assert.equal(w.push(RIB[2]!), '', 'still sampling');
  const first = w.push(RIB[0]!);
  assert.equal(
    first,
    lines(
      '   Network        Next Hop    AS_PATH              Age       Attrs',
      '*> 2001:db8::/32  fe80::1     65001 {64512,64513}  00:00:05  [{Origin: ?} {LocalPref: 100} {LargeCommunity: 65001:1:2}]',
      '*> 10.3.0.0/16    10.0.255.1  65001                00:05:41  [{Origin: i} {Med: 0}]',
      '*  10.3.0.0/16    10.0.255.2  65002 65001          00:05:40  [{Origin: i} {Communities: 65002:100, no-export}] lost: as-path-length',
    ),
  );
  // Wider than the sampled width: the row shifts, nothing is cut.
  assert.equal(w.push(RIB[1]!).split('\n')[0], '*> 10.4.0.0/24    10.0.255.1  65001                1d 01:01:01  [{Origin: i} {Med: 0}]');
  assert.equal(w.end(), '');
  assert.equal(w.rows, 5);
  assert.equal(new RibTableWriter(false).end(), '', 'no rows: no header');
});

test('adj-rib: rejected routes say why', () => {
  assert.equal(
    drain(new AdjRibTableWriter(false), [adjRoute('10.0.255.1', 1), adjRoute('10.0.255.1', 258, false)]),
    lines(
      'Network      Next Hop    AS_PATH  Age       Attrs',
      '10.0.1.0/24  10.0.255.1  65000    00:00:12  [{Origin: i}]',
      '10.1.2.0/24  10.0.255.1  65000    00:00:12  [{Origin: i}] rejected: rule deny-default',
    ),
  );
});

test('fib: wanted vs kernel, ECMP next hops, table and protocol names', () => {
  assert.equal(
    drain(new FibTableWriter(false), FIB),
    lines(
      'Prefix         Table  Metric  Protocol  Nexthops                                          Status',
      '10.3.0.0/16    main       20  bgp       via 10.0.255.1 dev eth0                           installed',
      '10.4.0.0/24    main       20  bgp       via 10.0.255.1 dev eth0, via 10.0.255.2 dev eth1  conflict (owned by bird (12)); kernel has proto bird metric 32 via 192.168.1.1 dev eth2',
      '2001:db8::/32  100        20  bgp       via fe80::1 dev eth0                              error (Network is unreachable)',
    ),
  );
});

test('fib compared with the kernel: a missing route, a stale one of ours', () => {
  const base = { instance: 'vr-65001', afi: 'ipv4' as const, table: 254, metric: 20, protocol: 186 };
  const rows: FibRoute[] = [
    { ...base, prefix: '10.5.0.0/24', nexthops: [{ gateway: '10.0.255.1', dev: 'eth0', weight: 1 }], status: 'missing', detail: 'tsbgp wrote it, the kernel no longer has it', kernel: null },
    {
      ...base, prefix: '10.6.0.0/24', nexthops: [], status: 'stale', detail: 'not wanted',
      kernel: { protocol: 186, metric: 20, nexthops: [{ gateway: '10.0.255.9', dev: 'eth0', weight: 1 }], nexthopId: 2063597569 },
    },
  ];
  assert.equal(
    drain(new FibTableWriter(false), rows),
    lines(
      'Prefix       Table  Metric  Protocol  Nexthops                 Status',
      '10.5.0.0/24  main       20  bgp       via 10.0.255.1 dev eth0  missing (tsbgp wrote it, the kernel no longer has it)',
      '10.6.0.0/24  main       20  bgp       -                        stale (not wanted); kernel has proto bgp metric 20 via 10.0.255.9 dev eth0',
    ),
  );
});

test('global summary', () => {
  assert.equal(
    renderGlobal(globalInfo(['vr-65001'])),
    lines(
      'Node node-1: tsbgp 0.1.0, pid 4242, up 01:00:00',
      'FIB (dry-run): 1 installed, 0 pending, 1 conflicts, 1 errors',
      '',
      'Instance  Local AS  Router ID  Listen  Up/Peers  Route install                Family        Prefixes  Paths  Installed  Originated',
      'vr-65001  65001     10.0.0.2   -       1/2       table main metric 20 ecmp 4  ipv4/unicast         2      4          1           1',
      '                                                                              ipv6/unicast         1      1          0           0',
    ),
  );
  assert.equal(renderGlobal({ ...globalInfo([]), fib: { ...globalInfo().fib, kernel: true } }).split('\n')[2], 'No BGP instance: no policy selects this node.');
});

test('config status, actions', () => {
  assert.equal(
    renderConfigStatus(new FakeView().config()),
    lines(
      'Files: /etc/tsbgp/policy.yaml',
      'Applied: 00:02:00 ago',
      'Last load (SIGHUP, 00:00:30 ago): REFUSED, previous configuration kept',
      '  /etc/tsbgp/policy.yaml:14:9: document 1, CiliumBGPPeeringPolicy/rack0: spec.virtualRouters[0].neighbors[0].holdTimeSeconds: expected 0 or a number of seconds from 3 to 65535, found 2',
    ),
  );
  assert.equal(
    renderActions([
      { instance: 'vr-65001', neighbor: '10.0.255.1', action: 'soft-reset-in' },
      { instance: 'vr-65001', neighbor: '10.0.255.1', action: 'shutdown' },
    ]),
    lines('neighbor 10.0.255.1 (vr-65001): soft reset in (route refresh requested)', 'neighbor 10.0.255.1 (vr-65001): shut down (stays down until enable)'),
  );
});

test('events, one line each (reloads list their errors)', () => {
  const t = '2024-05-01T10:00:00.000Z';
  const events: ApiEvent[] = [
    { type: 'peer-state', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', from: 'Established', to: 'Idle', reason: 'Cease/Maximum Number of Prefixes Reached' },
    { type: 'prefix-limit', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', afi: 'ipv4', safi: 'unicast', kind: 'warning', count: 750, max: 1000 },
    { type: 'prefix-limit', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', afi: 'ipv4', safi: 'unicast', kind: 'overflow', count: 1001, max: 1000 },
    { type: 'fib', time: t, instance: 'vr-65001', prefix: '10.4.0.0/24', table: 254, status: 'conflict', detail: 'owned by bird (12)' },
    { type: 'admin', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', action: 'shutdown', message: 'bye' },
    { type: 'events-lost', time: t, count: 3 },
    {
      type: 'config-reload',
      time: t,
      ok: false,
      trigger: 'file-change',
      errors: [{ severity: 'error', code: 'X', message: 'expected a number', file: 'p.yaml', document: null, object: null, path: 'spec.x', line: 3, column: null }],
      changes: [],
    },
  ];
  assert.equal(
    events.map(renderEvent).join(''),
    lines(
      '2024-05-01T10:00:00.000Z  peer-state    vr-65001 10.0.255.1: Established -> Idle (Cease/Maximum Number of Prefixes Reached)',
      '2024-05-01T10:00:00.000Z  prefix-limit  vr-65001 10.0.255.1 ipv4/unicast: warning: 750 of 1000 prefixes',
      '2024-05-01T10:00:00.000Z  prefix-limit  vr-65001 10.0.255.1 ipv4/unicast: exceeded: 1001 > 1000 prefixes, session closed',
      '2024-05-01T10:00:00.000Z  fib           vr-65001 10.4.0.0/24 table main: conflict (owned by bird (12))',
      '2024-05-01T10:00:00.000Z  admin         vr-65001 10.0.255.1: shutdown "bye"',
      '2024-05-01T10:00:00.000Z  events-lost   3 events dropped (this client read too slowly)',
      '2024-05-01T10:00:00.000Z  config-reload file-change: REFUSED (1 error), previous configuration kept',
      '    p.yaml:3:1: spec.x: expected a number',
    ),
  );
});

test('renderNeighborDetail: a restarting peer (graceful restart helper) shows its stale routes and the time left', () => {
  const n = neighbor({
    address: '10.0.255.3',
    state: 'Active',
    uptime: null,
    downtime: 12,
    gracefulRestart: { phase: 'restarting', expiresIn: 108 },
    families: [family('ipv4', 0, 40, 40, 1, { stale: 40, negotiated: false })],
  });
  const out = renderNeighborDetail(n);
  assert.match(out, /Graceful restart: peer restarting: 40 stale prefixes kept, dropped in 108 s unless re-learned/);
  assert.doesNotMatch(renderNeighborDetail(neighbor({ address: '10.0.255.4' })), /Graceful restart/);
});
