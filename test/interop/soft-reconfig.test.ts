// Soft reconfiguration inbound against real BIRD 2 peers that do not do route refresh
// (`enable route refresh off;`: no RFC 2918 capability in their OPEN):
//
//   sr-bird-a (BIRD, AS 65041) ── 10.41.1.0/24 ──┐
//                                               ├── sr-node (tsbgpd from a file, AS 65001)
//   sr-bird-b (BIRD, AS 65042) ── 10.41.2.0/24 ──┘
//
// The node keeps pre-policy copies for A (softReconfiguration: true), not for B. One
// SIGHUP widens both import policies: A's previously rejected prefix enters the kernel
// with the session untouched (BIRD's "since" time unchanged, no NOTIFICATION); B's
// session is reset with Cease / Other Configuration Change (RFC 4486 subcode 6), the only
// way to get its routes again, and the new policy applies once it is back.
//
// BIRD's config is written here (the shared driver has no route-refresh setting); it runs
// from the lab like the driver runs it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NeighborInfo } from '../../src/api/types.js';
import { createLab, type Lab, type Ns } from '../lib/netns.js';
import { sleep, waitFor } from '../lib/proc.js';
import { needsRoot } from '../lib/root.js';
import type { Tsbgpd } from '../e2e/lab.js';
import { acceptRule, ciliumManifest, type ManifestNeighbor } from '../lib/cilium-manifest.js';
import { BirdProcess, finishNodeLab, startNodeDaemon, waitNodeKernel } from '../lib/node-daemon.js';

const skip = needsRoot('bird', 'birdc');

const NODE_ASN = 65001;
const A = { id: '10.41.1.2', node: '10.41.1.1', asn: 65041, keep: ['192.168.41.0/24'], late: '192.168.42.0/24' } as const;
const B = { id: '10.41.2.2', node: '10.41.2.1', asn: 65042, keep: ['192.168.51.0/24'], late: '192.168.52.0/24' } as const;

function policy(widened: boolean): string {
  const nb = (peer: typeof A | typeof B, soft: boolean): ManifestNeighbor => ({
    address: peer.id,
    asn: peer.asn,
    defaultAction: 'Reject',
    softReconfiguration: soft,
    rules: [...peer.keep, ...(widened ? [peer.late] : [])].map((p, i) => acceptRule(`r${i}`, p)),
  });
  return ciliumManifest({
    name: 'sr',
    asn: NODE_ASN,
    routeInstall: '{enabled: true, table: main, metric: 20, protocol: 186}',
    neighbors: [nb(A, true), nb(B, false)],
    node: { name: 'sr-node', routerId: '10.255.41.1', podCidr: '10.244.41.0/24', address: A.node },
  });
}

function birdConf(p: typeof A | typeof B): string {
  return [
    'log stderr all;',
    `router id ${p.id};`,
    // Millisecond "since" times: a session reset, however quick, shows.
    'timeformat protocol iso long ms;',
    'protocol device { scan time 10; }',
    'protocol static ann4 {',
    '  ipv4;',
    ...[...p.keep, p.late].map((x) => `  route ${x} blackhole;`),
    '}',
    'protocol bgp n0 {',
    `  local ${p.id} as ${p.asn};`,
    `  neighbor ${p.node} as ${NODE_ASN};`,
    '  hold time 9; keepalive time 3; connect retry time 1; connect delay time 1; error wait time 1, 4;',
    '  enable route refresh off;',
    '  ipv4 { import all; export where source = RTS_STATIC; };',
    '}',
    '',
  ].join('\n');
}

class Bird extends BirdProcess {
  constructor(
    lab: Lab,
    ns: Ns,
    dir: string,
    readonly p: typeof A | typeof B,
  ) {
    super(lab, ns, dir, p.id);
  }

  start(): Promise<void> {
    return this.run(birdConf(this.p));
  }

  /** State and "since" time of the session, from `show protocols all n0`. */
  async session(): Promise<{ state: string; since: string; text: string }> {
    const text = await this.birdc('show', 'protocols', 'all', 'n0');
    // n0  BGP  ---  up  2026-11-23 15:57:01.123  Established
    const head = /^n0\s+BGP\s+\S+\s+\S+\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)/m.exec(text);
    const state = /BGP state:\s+(\S+)/.exec(text)?.[1] ?? '';
    return { state, since: head?.[1] ?? '', text };
  }
}

describe('soft reconfiguration inbound against BIRD without route refresh', { skip }, () => {
  let lab: Lab;
  let node: Ns;
  let birdA: Bird;
  let birdB: Bird;
  let daemon: Tsbgpd | undefined;
  let policyFile: string;
  const started = Date.now();

  const waitKernel = (want: readonly string[], label: string, timeoutMs?: number): Promise<void> =>
    waitNodeKernel(node, want, label, () => daemon?.logTail(30) ?? '', timeoutMs);

  const neighbor = async (address: string): Promise<NeighborInfo> => {
    const n = (await daemon!.json<NeighborInfo[]>(['neighbor'])).find((x) => x.address === address);
    assert.ok(n, `tsbgp lists ${address}`);
    return n;
  };

  before(async () => {
    lab = createLab('sr');
    node = await lab.addNamespace('sr-node');
    const nsA = await lab.addNamespace('sr-bird-a');
    const nsB = await lab.addNamespace('sr-bird-b');
    await lab.link(node, nsA, { a: `${A.node}/24`, b: `${A.id}/24`, ifA: 'eth-a', ifB: 'eth-node' });
    await lab.link(node, nsB, { a: `${B.node}/24`, b: `${B.id}/24`, ifA: 'eth-b', ifB: 'eth-node' });
    birdA = new Bird(lab, nsA, lab.mkdir('bird-a'), A);
    birdB = new Bird(lab, nsB, lab.mkdir('bird-b'), B);
    await birdA.start();
    await birdB.start();
    policyFile = join(lab.dir, 'policy.yaml');
    writeFileSync(policyFile, policy(false));
    daemon = await startNodeDaemon(lab, node, policyFile, 'sr-node');
  });

  after(() => finishNodeLab(lab, daemon, 'SIGTERM', 'soft-reconfig interop', started));

  it('learns what the first policy accepts; neither BIRD announces route refresh', async () => {
    await waitFor(async () => (await birdA.session()).state === 'Established' && (await birdB.session()).state === 'Established', {
      timeoutMs: 30_000,
      intervalMs: 200,
      label: 'both BIRDs Established with the node',
    });
    await waitKernel([...A.keep, ...B.keep], 'the accepted prefixes in the node kernel');
    // Our OPEN offers route refresh; BIRD's does not (BIRD lists each side's capabilities).
    const { text } = await birdA.session();
    const [ours, theirs] = [text.split('Neighbor capabilities')[1] ?? '', text.split('Local capabilities')[1]?.split('Neighbor capabilities')[0] ?? ''];
    assert.match(ours, /Route refresh/, `tsbgp announces route refresh:\n${text}`);
    assert.doesNotMatch(theirs, /Route refresh/, `BIRD does not:\n${text}`);
    for (const b of [A, B]) {
      const n = await neighbor(b.id);
      assert.equal(n.state, 'Established');
    }
  });

  it('SIGHUP widening both policies: A (copies) re-evaluated in place, B (no copies) reset with Cease/6, then learned', async () => {
    const a0 = await birdA.session();
    const b0 = await birdB.session();
    assert.ok(a0.since !== '' && b0.since !== '', `BIRD since times: ${a0.text}`);
    await sleep(300);
    writeFileSync(policyFile, policy(true));
    daemon!.signal('SIGHUP');
    await waitKernel([...A.keep, A.late, ...B.keep, B.late], 'both late prefixes in the node kernel');

    const a1 = await birdA.session();
    assert.equal(a1.state, 'Established');
    assert.equal(a1.since, a0.since, 'A: the session never went down');

    const b1 = await birdB.session();
    assert.equal(b1.state, 'Established');
    assert.notEqual(b1.since, b0.since, 'B: the session was reset');
    // BIRD clears "Last error" once the session is back; its log keeps the NOTIFICATION.
    assert.match(birdB.log(), /n0: Received: Other configuration change/, `B: BIRD got Cease/6:\n${birdB.log()}`);
    assert.doesNotMatch(birdA.log(), /n0: Received:/, 'A: BIRD got no NOTIFICATION');
    const nb = await neighbor(B.id);
    assert.equal(nb.state, 'Established');
    const na = await neighbor(A.id);
    assert.equal(na.state, 'Established');
  });
});
