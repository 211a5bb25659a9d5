// Security of tsbgpd as run from a configuration file, against real BIRD and FRR:
// TCP-MD5 (RFC 2385) keys taken from Secrets through `authSecretRef` (one Secret with
// stringData, one with base64 data): the right password reaches Established on both
// sides and the kernel signs the segments; a wrong one never gets past TCP, and the
// peer's kernel counts the bad signatures. The management socket is 0600 and owned by
// root; the password never shows in /metrics, any API/CLI output, a refused reload's
// errors, or the daemon's log (at trace level).
//
// GTSM (RFC 5082) through the configuration (`ttlSecurityHops`) against FRR: with
// `ttl-security hops 1` on both sides a direct session comes up; FRR without it (plain
// eBGP, TTL 1) and FRR one router further away (its packets arrive with TTL 254) are
// dropped by tsbgpd's kernel and never establish; allowing 2 hops on both sides brings
// the far one up.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigView, NeighborInfo } from '../../src/api/types.js';
import { createLab, type Lab, type LinkInfo, type Ns } from '../lib/netns.js';
import { run, sleep, waitFor } from '../lib/proc.js';
import { PEER_TOOLS, startPeer, type PeerHandle } from '../lib/peers/index.js';
import { needsRoot } from '../lib/root.js';
import { driverDir, TSBGP_JS, TSBGPD_JS, tsbgp } from '../e2e/lab.js';
import { scrape } from './lab.js';

const skip = needsRoot('curl', 'ss', ...PEER_TOOLS.bird, ...PEER_TOOLS.frr);

const PASSWORD = 'Md5-s3cret-7f3a9c';
const WRONG = 'Md5-wrong-c0ffee';
const NODE_AS = 65001;
const BIRD_AS = 65010;
const FRR_AS = 65020;

function secret(name: string, password: string, base64: boolean): string[] {
  return [
    '---',
    'apiVersion: v1',
    'kind: Secret',
    `metadata: {name: ${name}, namespace: kube-system}`,
    base64 ? `data: {password: ${Buffer.from(password).toString('base64')}}` : `stringData: {password: "${password}"}`,
  ];
}

interface Peers {
  birdGood: LinkInfo;
  birdBad: LinkInfo;
  frrGood: LinkInfo;
  frrBad: LinkInfo;
}

function config(p: Peers): string {
  const n = (l: LinkInfo, asn: number, secretName: string): string[] => [
    `    - peerAddress: "${l.ipB}/32"`,
    `      peerASN: ${asn}`,
    '      holdTimeSeconds: 9',
    '      keepAliveTimeSeconds: 3',
    '      connectRetryTimeSeconds: 1',
    `      authSecretRef: ${secretName}`,
    '      importPolicy: {defaultAction: Accept}',
  ];
  return [
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata: {name: md5}',
    'spec:',
    '  virtualRouters:',
    `  - localASN: ${NODE_AS}`,
    '    neighbors:',
    ...n(p.birdGood, BIRD_AS, 'bird-good'),
    ...n(p.birdBad, BIRD_AS, 'bird-bad'),
    ...n(p.frrGood, FRR_AS, 'frr-good'),
    ...n(p.frrBad, FRR_AS, 'frr-bad'),
    '---',
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    '  name: sec-node',
    `  annotations: {cilium.io/bgp-virtual-router.${NODE_AS}: "router-id=10.255.0.9"}`,
    ...secret('bird-good', PASSWORD, false),
    ...secret('bird-bad', WRONG, true),
    ...secret('frr-good', PASSWORD, true),
    ...secret('frr-bad', WRONG, false),
    '',
  ].join('\n');
}

async function tcpMd5Failures(lab: Lab, ns: Ns): Promise<number> {
  const r = await lab.check(ns, 'cat', ['/proc/net/netstat']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const keys = (lines[0] ?? '').split(/\s+/);
  const vals = (lines[1] ?? '').split(/\s+/);
  return Number(vals[keys.indexOf('TCPMD5Failure')] ?? 0);
}

describe('security: TCP-MD5 from Secrets against BIRD and FRR, socket permissions, no password anywhere', { skip }, () => {
  let lab: Lab;
  let node: Ns;
  let birdNs: Ns;
  let frrNs: Ns;
  let p: Peers;
  let bird: PeerHandle;
  let frr: PeerHandle;
  let dir: string;
  let file: string;
  let socket: string;
  let logFile: string;
  let pid = 0;
  const metricsAddr = '192.0.2.1:9179';

  const cli = async (...args: string[]): Promise<string> => {
    const r = await tsbgp(socket, args);
    return `${r.stdout}${r.stderr}`;
  };
  const neighbors = async (): Promise<NeighborInfo[]> => JSON.parse(await cli('neighbor', '-o', 'json')) as NeighborInfo[];
  const state = async (address: string): Promise<string> => (await neighbors()).find((n) => n.address === address)?.state ?? 'missing';

  before(async () => {
    lab = createLab('ft-security');
    node = await lab.addNamespace('node');
    birdNs = await lab.addNamespace('bird');
    frrNs = await lab.addNamespace('frr');
    p = {
      birdGood: await lab.link(node, birdNs, { a: '192.0.2.1/30', b: '192.0.2.2/30' }),
      birdBad: await lab.link(node, birdNs, { a: '192.0.2.5/30', b: '192.0.2.6/30' }),
      frrGood: await lab.link(node, frrNs, { a: '192.0.2.9/30', b: '192.0.2.10/30' }),
      frrBad: await lab.link(node, frrNs, { a: '192.0.2.13/30', b: '192.0.2.14/30' }),
    };
    // Both peers hold the right password for both of their sessions: tsbgpd's bad ones use WRONG.
    [bird, frr] = await Promise.all([
      startPeer('bird', lab, birdNs, {
        asn: BIRD_AS,
        routerId: '10.0.0.2',
        neighbors: [p.birdGood, p.birdBad].map((l) => ({ address: l.ipA!, asn: NODE_AS, password: PASSWORD })),
        announce: [{ prefix: '172.16.1.0/24' }],
      }),
      startPeer('frr', lab, frrNs, {
        asn: FRR_AS,
        routerId: '10.0.0.10',
        neighbors: [p.frrGood, p.frrBad].map((l) => ({ address: l.ipA!, asn: NODE_AS, password: PASSWORD })),
        announce: [{ prefix: '172.16.2.0/24' }],
      }),
    ]);
    dir = lab.mkdir('tsbgpd');
    file = join(dir, 'md5.yaml');
    socket = join(dir, 'tsbgpd.sock');
    logFile = join(dir, 'tsbgpd.log');
    writeFileSync(file, config(p));
    const args = [TSBGPD_JS, '--config', file, '--node-name', 'sec-node', '--api-socket', socket, '--fib', 'memory'];
    args.push('--log-format', 'json', '--log-level', 'trace', '--no-watch', '--metrics-address', metricsAddr);
    const child = lab.spawnIn(node, process.execPath, args, { logFile });
    pid = child.pid!;
    await waitFor(() => tsbgp(socket, ['global', '-o', 'json']), { timeoutMs: 20_000, label: 'tsbgpd answers', until: (r) => r.code === 0 });
  });

  after(async () => {
    await lab?.cleanup();
  });

  it('the right password from a Secret: Established on both sides with BIRD and FRR, segments signed', async () => {
    for (const [l, peer] of [
      [p.birdGood, bird],
      [p.frrGood, frr],
    ] as const) {
      await waitFor(() => state(l.ipB!), { timeoutMs: 20_000, label: `${l.ipB} Established in tsbgp`, until: (s) => s === 'Established' });
      await peer.waitEstablished(l.ipA!);
      const ss = await lab.check(node, 'ss', ['-tnie', 'state', 'established', 'dst', l.ipB!]);
      assert.match(ss.stdout, /md5/i, `the kernel signs the session to ${l.ipB}:\n${ss.stdout}`);
    }
    const routes = await waitFor(() => cli('global', 'rib', '-o', 'json'), {
      timeoutMs: 10_000,
      label: 'routes learned over the signed sessions',
      until: (s) => s.includes('172.16.1.0/24') && s.includes('172.16.2.0/24'),
    });
    assert.ok(routes.length > 0);
  });

  it('a wrong password never reaches Established; the peers\' kernels drop the badly signed segments', async () => {
    const before = { bird: await tcpMd5Failures(lab, birdNs), frr: await tcpMd5Failures(lab, frrNs) };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const ns = await neighbors();
      for (const l of [p.birdBad, p.frrBad]) {
        const n = ns.find((x) => x.address === l.ipB);
        assert.ok(n && ['Idle', 'Connect', 'Active'].includes(n.state), `tsbgp: ${l.ipB} is ${n?.state}`);
        assert.equal(n.establishedCount, 0);
        assert.equal(n.messages.received.total, 0, 'not one BGP message got through');
      }
      for (const [l, peer] of [
        [p.birdBad, bird],
        [p.frrBad, frr],
      ] as const) {
        const theirs = (await peer.neighbors()).find((x) => x.address === l.ipA);
        assert.notEqual(theirs?.state, 'Established', `${peer.kind} never Established with ${l.ipA}`);
        assert.ok(!['OpenSent', 'OpenConfirm'].includes(theirs?.state ?? ''), `${peer.kind} got no OPEN: ${theirs?.state}`);
      }
      await sleep(1000);
    }
    const afterCount = { bird: await tcpMd5Failures(lab, birdNs), frr: await tcpMd5Failures(lab, frrNs) };
    assert.ok(afterCount.bird > before.bird, `TCPMD5Failure at BIRD ${before.bird} → ${afterCount.bird}`);
    assert.ok(afterCount.frr > before.frr, `TCPMD5Failure at FRR ${before.frr} → ${afterCount.frr}`);
    process.stderr.write(`# md5 wrong password: TCPMD5Failure BIRD ${before.bird} → ${afterCount.bird}, FRR ${before.frr} → ${afterCount.frr}\n`);
    // The good sessions are unaffected.
    assert.equal(await state(p.birdGood.ipB!), 'Established');
    assert.equal(await state(p.frrGood.ipB!), 'Established');
  });

  it('the management socket is a socket of mode 0600 owned by root', () => {
    const st = statSync(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600, `mode ${(st.mode & 0o777).toString(8)}`);
    assert.equal(st.uid, 0);
  });

  it('the password appears in no metric, no API or CLI output, no refused reload, no log line', async () => {
    const outputs: Array<[string, string]> = [];
    outputs.push(['/metrics', await scrape(lab, node, metricsAddr)]);
    for (const args of [
      ['config', '-o', 'json'],
      ['config'],
      ['config', 'show', '-o', 'json'],
      ['config', 'show'],
      ['neighbor', '-o', 'json'],
      ['neighbor'],
      ['neighbor', p.birdGood.ipB!, '-o', 'json'],
      ['neighbor', p.frrBad.ipB!],
      ['global', '-o', 'json'],
    ]) {
      outputs.push([`tsbgp ${args.join(' ')}`, await cli(...args)]);
    }
    const show = JSON.parse(await cli('config', 'show', '-o', 'json')) as unknown;
    assert.match(JSON.stringify(show), /<redacted>|redacted/, 'the config shows that a password is set');

    // A reload broken on the Secret's own line: YAML errors often quote the source.
    const good = readFileSync(file, 'utf8');
    assert.ok(good.includes(PASSWORD) && good.includes(WRONG), 'the files do hold the passwords the search looks for');
    // The reload events as `tsbgp monitor` streams them (with their errors).
    const monitor = cli('monitor', '-t', 'config-reload', '-n', '3', '-o', 'json');
    await sleep(500);
    writeFileSync(file, good.replace(`stringData: {password: "${WRONG}"}`, `stringData: {password: "${WRONG}}`));
    process.kill(pid, 'SIGHUP');
    const refused = await waitFor(async () => JSON.parse(await cli('config', '-o', 'json')) as ConfigView, {
      timeoutMs: 10_000,
      label: 'reload refused',
      until: (c) => c.lastReload?.ok === false,
    });
    outputs.push(['refused reload (API)', JSON.stringify(refused)]);
    outputs.push(['refused reload (CLI)', await cli('config')]);
    const check = await run(process.execPath, [TSBGP_JS, 'config', 'check', file, '--node-name', 'sec-node']);
    assert.notEqual(check.code, 0, 'config check refuses the broken file');
    outputs.push(['tsbgp config check', `${check.stdout}${check.stderr}`]);
    // A Secret of the wrong shape (the password as a list).
    writeFileSync(file, good.replace(`stringData: {password: "${WRONG}"}`, `stringData: {password: ["${WRONG}"]}`));
    process.kill(pid, 'SIGHUP');
    await sleep(1500);
    outputs.push(['refused reload, wrong shape (API)', await cli('config', '-o', 'json')]);
    const check2 = await run(process.execPath, [TSBGP_JS, 'config', 'check', file, '--node-name', 'sec-node']);
    outputs.push(['tsbgp config check, wrong shape', `${check2.stdout}${check2.stderr}`]);
    writeFileSync(file, good);
    process.kill(pid, 'SIGHUP');
    await sleep(1500);
    outputs.push(['tsbgp monitor -t config-reload', await monitor]);
    outputs.push(['daemon log (trace)', readFileSync(logFile, 'utf8')]);

    for (const [where, text] of outputs) {
      assert.ok(text.length > 0, `${where} produced output`);
      for (const pw of [PASSWORD, WRONG, Buffer.from(WRONG).toString('base64'), Buffer.from(PASSWORD).toString('base64')]) {
        assert.ok(!text.includes(pw), `${where} contains a password:\n${text.split('\n').filter((l) => l.includes(pw)).join('\n').slice(0, 2000)}`);
      }
    }
    assert.ok(readFileSync(logFile, 'utf8').split('\n').length > 20, 'the trace log has content');
  });
});

// ---------------------------------------------------------------------------
// GTSM

const GTSM_FRR_AS = 65030;

describe('security: GTSM (ttlSecurityHops) through the daemon against FRR', { skip }, () => {
  let lab: Lab;
  let node: Ns;
  let frrNs: Ns;
  let frr: PeerHandle;
  let direct: LinkInfo; // both sides ttl-security hops 1
  let plain: LinkInfo; // FRR without ttl-security: sends TTL 1
  let toRtr: LinkInfo; // node ↔ router
  let rtrFrr: LinkInfo; // router ↔ FRR: FRR is two hops away
  let dir: string;
  let file: string;
  let socket: string;
  let pid = 0;
  const FAR_FRR = '192.0.2.30';
  const FAR_NODE = '192.0.2.25';

  const config = (farHops: number): string =>
    [
      'apiVersion: cilium.io/v2alpha1',
      'kind: CiliumBGPPeeringPolicy',
      'metadata: {name: gtsm}',
      'spec:',
      '  virtualRouters:',
      `  - localASN: ${NODE_AS}`,
      '    neighbors:',
      ...[
        [direct.ipB!, 1],
        [plain.ipB!, 1],
        [FAR_FRR, farHops],
      ].flatMap(([a, hops]) => [
        `    - peerAddress: "${a}/32"`,
        `      peerASN: ${GTSM_FRR_AS}`,
        '      holdTimeSeconds: 9',
        '      keepAliveTimeSeconds: 3',
        '      connectRetryTimeSeconds: 1',
        `      ttlSecurityHops: ${hops}`,
        '      importPolicy: {defaultAction: Accept}',
      ]),
      '---',
      'apiVersion: v1',
      'kind: Node',
      'metadata:',
      '  name: gtsm-node',
      `  annotations: {cilium.io/bgp-virtual-router.${NODE_AS}: "router-id=10.255.0.10"}`,
      '',
    ].join('\n');
  const frrConf = async (...cmds: string[]): Promise<void> => {
    const args = ['--vty_socket', driverDir(lab, frrNs, 'frr'), '-c', 'configure terminal', '-c', `router bgp ${GTSM_FRR_AS}`];
    for (const c of cmds) args.push('-c', c);
    const r = await run('vtysh', args, { timeoutMs: 10_000 });
    assert.equal(r.code, 0, `vtysh ${cmds.join('; ')}: ${r.stderr}${r.stdout}`);
    assert.ok(!/^%/m.test(r.stdout), `vtysh ${cmds.join('; ')}: ${r.stdout}`);
  };
  const neighbors = async (): Promise<NeighborInfo[]> => {
    const r = await tsbgp(socket, ['neighbor', '-o', 'json']);
    return JSON.parse(r.stdout) as NeighborInfo[];
  };
  const mine = async (address: string): Promise<NeighborInfo> => {
    const n = (await neighbors()).find((x) => x.address === address);
    assert.ok(n, `tsbgp lists ${address}`);
    return n;
  };
  const theirs = async (address: string): Promise<string> => (await frr.neighbors()).find((x) => x.address === address)?.state ?? 'missing';

  before(async () => {
    lab = createLab('sh-gtsm');
    node = await lab.addNamespace('node');
    frrNs = await lab.addNamespace('frr');
    const rtr = await lab.addNamespace('rtr');
    direct = await lab.link(node, frrNs, { a: '192.0.2.17/30', b: '192.0.2.18/30' });
    plain = await lab.link(node, frrNs, { a: '192.0.2.21/30', b: '192.0.2.22/30' });
    toRtr = await lab.link(node, rtr, { a: `${FAR_NODE}/30`, b: '192.0.2.26/30' });
    rtrFrr = await lab.link(rtr, frrNs, { a: '192.0.2.29/30', b: `${FAR_FRR}/30` });
    await lab.check(rtr, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    await lab.check(node, 'ip', ['route', 'add', `${FAR_FRR}/32`, 'via', toRtr.ipB!]);
    await lab.check(frrNs, 'ip', ['route', 'add', `${FAR_NODE}/32`, 'via', rtrFrr.ipA!]);
    // The router really is a hop: the far FRR answers a ping with one TTL less.
    const ping = await lab.check(node, 'ping', ['-c', '1', '-W', '2', FAR_FRR]);
    assert.match(ping.stdout, /ttl=63\b/, `two hops to ${FAR_FRR}:\n${ping.stdout}`);
    frr = await startPeer('frr', lab, frrNs, {
      asn: GTSM_FRR_AS,
      routerId: '10.0.0.30',
      neighbors: [
        { address: direct.ipA!, asn: NODE_AS },
        { address: plain.ipA!, asn: NODE_AS },
        { address: FAR_NODE, asn: NODE_AS, localAddress: FAR_FRR },
      ],
      announce: [{ prefix: '172.16.3.0/24' }],
    });
    await frrConf(`neighbor ${direct.ipA} ttl-security hops 1`, `neighbor ${FAR_NODE} ttl-security hops 1`);
    dir = lab.mkdir('tsbgpd-gtsm');
    file = join(dir, 'gtsm.yaml');
    socket = join(dir, 'tsbgpd.sock');
    writeFileSync(file, config(1));
    const args = [TSBGPD_JS, '--config', file, '--node-name', 'gtsm-node', '--api-socket', socket, '--fib', 'memory'];
    args.push('--log-format', 'json', '--log-level', 'info', '--no-watch');
    const child = lab.spawnIn(node, process.execPath, args, { logFile: join(dir, 'tsbgpd.log') });
    pid = child.pid!;
    await waitFor(() => tsbgp(socket, ['global', '-o', 'json']), { timeoutMs: 20_000, label: 'tsbgpd answers', until: (r) => r.code === 0 });
  });

  after(async () => {
    await lab?.cleanup();
  });

  it('ttlSecurityHops: 1 against FRR with ttl-security hops 1 on a direct link: Established on both sides, routes learned, TTL 255 on the wire', async () => {
    await waitFor(() => mine(direct.ipB!), { timeoutMs: 20_000, label: 'tsbgp Established', until: (n) => n.state === 'Established' });
    await frr.waitEstablished(direct.ipA!, 20_000);
    const rib = await waitFor(() => tsbgp(socket, ['global', 'rib', '-o', 'json']), {
      timeoutMs: 10_000,
      label: "FRR's route learned",
      until: (r) => r.stdout.includes('172.16.3.0/24'),
    });
    assert.equal(rib.code, 0);
    // FRR's kernel accepts only TTL 255 (minttl 255 on its socket): tsbgpd's packets carry it.
    const ss = await lab.check(frrNs, 'ss', ['-tnio', 'state', 'established', 'dst', direct.ipA!]);
    assert.match(ss.stdout, new RegExp(`${direct.ipB!.replace(/\./g, '\\.')}:`), `FRR holds the TCP session:\n${ss.stdout}`);
  });

  it('a peer that sends plain eBGP (TTL 1) and a ttl-security peer one router away never establish: tsbgpd\'s kernel drops their packets', async () => {
    const deadline = Date.now() + 12_000;
    const seen = { plainMine: new Set<string>(), plainFrr: new Set<string>(), farFrr: new Set<string>() };
    while (Date.now() < deadline) {
      // Plain eBGP: FRR's listener answers our SYN with TTL 255, so our connection opens and
      // our OPEN reaches FRR, but everything FRR sends afterwards carries TTL 1 and is dropped:
      // tsbgpd waits in OpenSent, FRR at most in OpenConfirm; never a message through.
      const pl = await mine(plain.ipB!);
      seen.plainMine.add(pl.state);
      assert.ok(['Idle', 'Connect', 'Active', 'OpenSent'].includes(pl.state), `tsbgp: ${plain.ipB} is ${pl.state}`);
      assert.equal(pl.establishedCount, 0, `${plain.ipB} never Established`);
      assert.equal(pl.messages.received.total, 0, `not one BGP message from ${plain.ipB} got through`);
      // One hop too far: every segment either way arrives with TTL 254; since every neighbour
      // uses GTSM the listen socket drops FRR's SYNs too, so no connection at all.
      const far = await mine(FAR_FRR);
      assert.ok(['Idle', 'Connect', 'Active'].includes(far.state), `tsbgp: ${FAR_FRR} is ${far.state}`);
      assert.equal(far.establishedCount, 0);
      assert.equal(far.messages.received.total, 0, `not one BGP message from ${FAR_FRR} got through`);
      const p = await theirs(plain.ipA!);
      const f = await theirs(FAR_NODE);
      seen.plainFrr.add(p);
      seen.farFrr.add(f);
      assert.notEqual(p, 'Established', `FRR never Established with ${plain.ipA} (plain eBGP)`);
      assert.ok(!['OpenConfirm', 'Established'].includes(f), `FRR got no OPEN from ${FAR_NODE}: ${f}`);
      await sleep(1000);
    }
    // The direct GTSM session is unaffected.
    assert.equal((await mine(direct.ipB!)).state, 'Established');
    process.stderr.write(
      `# gtsm over 12 s: plain eBGP peer: tsbgp ${[...seen.plainMine].join('/')}, FRR ${[...seen.plainFrr].join('/')}; ` +
        `one hop too far: FRR ${[...seen.farFrr].join('/')}; none Established, 0 messages received by tsbgpd\n`,
    );
  });

  it('allowing 2 hops on both sides brings the far peer up (the route was fine, the TTL was not)', async () => {
    await frrConf(`neighbor ${FAR_NODE} ttl-security hops 2`);
    writeFileSync(file, config(2));
    process.kill(pid, 'SIGHUP');
    await waitFor(() => mine(FAR_FRR), { timeoutMs: 30_000, label: 'far peer Established in tsbgp', until: (n) => n.state === 'Established' });
    await frr.waitEstablished(FAR_NODE, 20_000);
    // The plain-eBGP peer still cannot get in.
    const n = await mine(plain.ipB!);
    assert.equal(n.establishedCount, 0);
    assert.notEqual(await theirs(plain.ipA!), 'Established');
  });
});
