// The CLI end to end against the API server on a temp socket (FakeView behind it; the
// real daemon is exercised end-to-end in test/e2e).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/commands.js';
import type { CliIo } from '../../src/cli/commands.js';
import { FakeView, FIB, NEIGHBORS, RIB, SECRET } from '../api/fake-view.js';
import { startServer } from '../api/helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    cb();
  }
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], signal?: AbortSignal): Promise<Run> {
  const stdout = new Sink();
  let err = '';
  const io: CliIo = { stdout, stderr: { write: (s: string) => (err += s) }, env: {}, hostname: () => 'test-host', ...(signal ? { signal } : {}) };
  const code = await runCli(args, io);
  return { code, out: stdout.text, err };
}

async function withServer(fn: (socket: string, view: FakeView) => Promise<void>, view = new FakeView()): Promise<void> {
  const r = await startServer(view);
  try {
    await fn(r.path, view);
  } finally {
    await r.stop();
  }
}

test('neighbor: table, detail, and -o json as the API returns it', async () => {
  await withServer(async (s) => {
    const t = await cli(['--socket', s, 'neighbor']);
    assert.equal(t.code, 0, t.err);
    assert.equal(t.out.split('\n')[0], 'Peer           AS   Up/Down  State       |#Received  Accepted  Installed  Advertised');
    assert.equal(t.out.split('\n').length, 4);

    const j = await cli(['neighbor', '-o', 'json', '--socket', s]);
    assert.equal(j.code, 0);
    assert.deepEqual(JSON.parse(j.out), NEIGHBORS);

    const d = await cli(['--socket', s, 'neighbor', '10.0.255.2']);
    assert.match(d.out, /^BGP neighbor is 10\.0\.255\.2, remote AS 65002\n/);
    const missing = await cli(['--socket', s, 'neighbor', '10.9.9.9']);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'tsbgp: no neighbor 10.9.9.9 [ENOENT_NEIGHBOR]\n');
  });
});

test('global rib: table, family filter, prefix lookup miss, json array, limit', async () => {
  await withServer(async (s, view) => {
    const t = await cli(['--socket', s, 'global', 'rib']);
    assert.equal(t.code, 0, t.err);
    assert.equal(t.out.split('\n')[0], '   Network        Next Hop    AS_PATH              Age          Attrs');
    assert.equal(t.out.trimEnd().split('\n').length, 6, 'header and five paths');

    const v6 = await cli(['--socket', s, 'global', 'rib', '-a', 'ipv6']);
    assert.deepEqual(v6.out.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[1]), ['2001:db8::/32']);

    const miss = await cli(['--socket', s, 'global', 'rib', '10.99.0.0/16']);
    assert.equal(miss.out, 'Network not in table\n');
    assert.deepEqual(view.queries.at(-1), { instance: null, afi: 'ipv4', prefix: '10.99.0.0/16', match: 'exact' });

    await cli(['--socket', s, 'global', 'rib', '10.3.0.0/16', '--longest']);
    assert.deepEqual(view.queries.at(-1), { instance: null, afi: 'ipv4', prefix: '10.3.0.0/16', match: 'longest' });

    const j = await cli(['--socket', s, '-o', 'json', 'global', 'rib']);
    assert.deepEqual(JSON.parse(j.out), RIB);
    const empty = await cli(['--socket', s, '-o', 'json', 'global', 'rib', '192.0.2.0/24']);
    assert.deepEqual(JSON.parse(empty.out), []);

    const lim = await cli(['--socket', s, 'global', 'rib', '--limit', '1']);
    assert.equal(lim.code, 0);
    assert.equal(lim.out.trimEnd().split('\n').length, 3, 'one destination: two paths');
    assert.equal(lim.err, '(stopped after 1: --limit reached, more exist)\n');

    const bad = await cli(['--socket', s, 'global', 'rib', 'not-a-prefix']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /"prefix" must be a CIDR or an address, got "not-a-prefix" \[EINVALID_PARAMS\]/);
  });
});

test('global rib shows the VRouter column only when there are several instances', async () => {
  const view = new FakeView();
  view.instances = ['vr-65001', 'blue'];
  await withServer(async (s) => {
    const t = await cli(['--socket', s, 'global', 'rib']);
    assert.match(t.out.split('\n')[0]!, /^VRouter {6}Network/);
    const one = await cli(['--socket', s, 'global', 'rib', '-i', 'vr-65001']);
    assert.match(one.out.split('\n')[0]!, /^ {3}Network/);
  }, view);
});

test('global, fib, adj-in, adj-out, config', async () => {
  await withServer(async (s, view) => {
    const g = await cli(['--socket', s, 'global']);
    assert.match(g.out, /^Node node-1: tsbgp 0\.1\.0, pid 4242, up 01:00:00\n/);
    const gj = await cli(['--socket', s, 'global', '-o', 'json']);
    assert.equal(JSON.parse(gj.out).fib.failures, 4);

    const f = await cli(['--socket', s, 'fib', '--status', 'conflict']);
    assert.equal(f.out.trimEnd().split('\n').length, 2);
    assert.match(f.out, /conflict \(owned by bird \(12\)\)/);
    const fj = await cli(['--socket', s, 'fib', '-o', 'json']);
    assert.deepEqual(JSON.parse(fj.out), FIB);
    const fk = await cli(['--socket', s, 'fib', '--kernel', '-a', 'ipv4']);
    assert.equal(fk.code, 0, fk.err);
    assert.deepEqual(view.queries.at(-1), { instance: null, afi: 'ipv4', status: null, kernel: true }, '--kernel asks the daemon to compare');
    assert.equal((await cli(['--socket', s, 'fib', '--status', 'stale'])).code, 0, 'stale is a status');

    const ai = await cli(['--socket', s, 'neighbor', '10.0.255.1', 'adj-in', '-a', 'ipv4']);
    assert.equal(ai.code, 0, ai.err);
    assert.match(ai.out, /rejected: rule deny-default\n$/);
    const unknown = await cli(['--socket', s, '-o', 'json', 'neighbor', '10.0.0.99', 'adj-in']);
    assert.deepEqual([unknown.code, unknown.out, unknown.err], [1, '', 'tsbgp: no neighbor 10.0.0.99 [ENOENT_NEIGHBOR]\n']);
    const ao = await cli(['--socket', s, '-o', 'json', 'neighbor', '10.0.255.1', 'adj-out']);
    assert.deepEqual((JSON.parse(ao.out) as { nextHop: string }[]).map((r) => r.nextHop), ['10.0.255.254', '10.0.255.254', '10.0.255.254']);

    const cs = await cli(['--socket', s, 'config']);
    assert.match(cs.out, /REFUSED, previous configuration kept\n {2}\/etc\/tsbgp\/policy\.yaml:14:9: /);
    const show = await cli(['--socket', s, 'config', 'show']);
    assert.equal(show.code, 0);
    assert.ok(!show.out.includes(SECRET));
    assert.equal(JSON.parse(show.out).instances[0].peers[0].md5Password, '<redacted>');
  });
});

test('actions: shutdown with a message, soft reset in, enable refused, usage errors', async () => {
  await withServer(async (s, view) => {
    const sh = await cli(['--socket', s, 'neighbor', '10.0.255.1', 'shutdown', '-m', 'planned maintenance']);
    assert.equal(sh.code, 0, sh.err);
    assert.equal(sh.out, 'neighbor 10.0.255.1 (vr-65001): shut down (stays down until enable)\n');
    const sr = await cli(['--socket', s, '-o', 'json', 'neighbor', '10.0.255.1', 'softreset', 'in']);
    assert.deepEqual(JSON.parse(sr.out), [{ instance: 'vr-65001', neighbor: '10.0.255.1', action: 'soft-reset-in' }]);
    const rs = await cli(['--socket', s, 'neighbor', '10.0.255.1', 'reset']);
    assert.equal(rs.code, 0);
    assert.deepEqual(
      view.calls.map((c) => [c.action, c.ref.address, c.arg]),
      [
        ['shutdown', '10.0.255.1', 'planned maintenance'],
        ['softReset-in', '10.0.255.1', undefined],
        ['reset', '10.0.255.1', undefined],
      ],
    );

    const en = await cli(['--socket', s, 'neighbor', '10.0.255.2', 'enable']);
    assert.equal(en.code, 1);
    assert.equal(en.err, 'tsbgp: neighbor 10.0.255.2 is not shut down [ENOT_POSSIBLE]\n');

    const usage: [string[], RegExp][] = [
      [['neighbor', '10.0.255.1', 'softreset', 'sideways'], /softreset takes "in" or "out", got "sideways"/],
      [['neighbor', '10.0.255.1', 'frob'], /unknown neighbor action "frob"/],
      [['neighbor', '10.0.255.1', 'reset', '-m', 'x'], /-m\/--message applies to shutdown, not reset/],
      [['-o', 'yaml', 'neighbor'], /-o\/--output must be text or json, got "yaml"/],
      [['global', 'rib', '-a', 'ipx'], /-a\/--afi must be ipv4 or ipv6, got "ipx"/],
      [['fib', '--limit', '0'], /--limit must be a positive integer, got "0"/],
      [['monitor', '--type', 'peer-state,nonsense'], /unknown event type "nonsense"/],
      [['global', 'rob'], /unknown global subcommand "rob"/],
    ];
    for (const [args, msg] of usage) {
      const r = await cli(['--socket', s, ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, msg);
    }
    assert.equal(view.calls.length, 3, 'no action for a usage error');
    const unknown = await cli(['--socket', s, 'bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command 'bogus'/);
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /Usage: tsbgp \[options\] \[command\]/);
  });
});

test('monitor: events as they come (-n stops), Ctrl-C (abort) ends it cleanly', async () => {
  await withServer(async (s, view) => {
    const t = '2024-05-01T10:00:00.000Z';
    const running = cli(['--socket', s, 'monitor', '-n', '2', '-o', 'json']);
    while (view.subscribers === 0) await sleep(5);
    view.emit({ type: 'admin', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', action: 'enable', message: null });
    view.emit({ type: 'peer-state', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', from: 'Idle', to: 'Connect', reason: null });
    view.emit({ type: 'admin', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', action: 'reset', message: null });
    const r = await running;
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(
      r.out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { type: string }).type),
      ['admin', 'peer-state'],
    );
    for (let i = 0; i < 50 && view.subscribers > 0; i++) await sleep(10);
    assert.equal(view.subscribers, 0);

    const ac = new AbortController();
    const text = cli(['--socket', s, 'monitor', '--type', 'peer-state'], ac.signal);
    while (view.subscribers === 0) await sleep(5);
    view.emit({ type: 'admin', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', action: 'enable', message: null });
    view.emit({ type: 'peer-state', time: t, instance: 'vr-65001', neighbor: '10.0.255.1', from: 'Idle', to: 'Connect', reason: null });
    await sleep(50);
    ac.abort();
    const rt = await text;
    assert.equal(rt.code, 0);
    assert.equal(rt.out, '2024-05-01T10:00:00.000Z  peer-state    vr-65001 10.0.255.1: Idle -> Connect\n');
    assert.match(rt.err, /^Watching tsbgpd events at .* \(Ctrl-C to stop\)\n$/);
  });
});

test('daemon not running: a clear message and exit 1 (in-process and as a real process)', async () => {
  const path = join(tmpdir(), `tsbgp-missing-${process.pid}.sock`);
  const r = await cli(['--socket', path, 'neighbor']);
  assert.equal(r.code, 1);
  assert.equal(r.err, `tsbgp: tsbgpd is not running (no socket at ${path}); start it with: tsbgpd --config FILE --api-socket ${path}\n`);
  assert.equal(r.out, '');

  const p = spawnSync(process.execPath, [join(ROOT, 'dist/src/bin/tsbgp.js'), 'global', 'rib'], { env: { ...process.env, TSBGP_SOCKET: path }, encoding: 'utf8' });
  assert.equal(p.status, 1);
  assert.match(p.stderr, /^tsbgp: tsbgpd is not running \(no socket at .*tsbgp-missing-\d+\.sock\)/);
});

test('stdout closed early (| head): stop quietly with exit 0', async () => {
  const view = new FakeView();
  view.bigRib = 5000;
  await withServer(async (s) => {
    let writes = 0;
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(writes > 2 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
      },
    });
    stdout.on('error', () => undefined);
    let err = '';
    const code = await runCli(['--socket', s, 'global', 'rib'], { stdout, stderr: { write: (x: string) => (err += x) }, env: {}, hostname: () => 'h' });
    assert.equal(code, 0, err);
    assert.equal(err, '');
  }, view);
});

test('config check: valid file summarised, invalid file names the field path and exits 1 (no daemon needed)', async () => {
  const demo = join(ROOT, 'test/fixtures/config/cilium-demo');
  const ok = await cli(['config', 'check', demo, '--node-name', 'cilium-bgp-cluster-worker']);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /cilium-demo: valid for node cilium-bgp-cluster-worker \(v1 API\)\n {2}instance vr-65001 \(CiliumBGPPeeringPolicy\/01-bgp-peering-policy\): AS 65001, router ID 172\.18\.0\.2, 1 peer, 1 advertisement\n/);

  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-cfg-'));
  try {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'apiVersion: cilium.io/v2alpha1',
        'kind: CiliumBGPPeeringPolicy',
        'metadata: {name: rack0}',
        'spec:',
        '  virtualRouters:',
        '  - localASN: 65001',
        '    neighbors:',
        '    - peerAddress: 10.0.0.1/32',
        '      peerASN: 65000',
        '      holdTimeSeconds: 2',
        '',
      ].join('\n'),
    );
    const r = await cli(['config', 'check', bad, '--node-name', 'n1']);
    assert.equal(r.code, 1);
    assert.ok(
      r.out.startsWith(`${bad}:10:7: document 1, CiliumBGPPeeringPolicy/rack0: spec.virtualRouters[0].neighbors[0].holdTimeSeconds: `),
      r.out,
    );
    assert.match(r.out, /bad\.yaml: invalid \(1 error, 2 warnings\); tsbgpd would refuse it and keep its running configuration\n$/);
    const j = await cli(['config', 'check', bad, '--node-name', 'n1', '-o', 'json']);
    assert.equal(j.code, 1);
    const parsed = JSON.parse(j.out) as { valid: boolean; errors: { path: string; line: number }[] };
    assert.equal(parsed.valid, false);
    assert.deepEqual(parsed.errors.map((e) => [e.path, e.line]), [['spec.virtualRouters[0].neighbors[0].holdTimeSeconds', 10]]);

    const none = await cli(['config', 'check', join(dir, 'missing.yaml')]);
    assert.equal(none.code, 1);
    assert.match(none.out, /missing\.yaml: cannot read: ENOENT/);
    const noArgs = await cli(['config', 'check']);
    assert.equal(noArgs.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
