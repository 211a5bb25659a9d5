// The one-process instance lab: a "router" Speaker on 127.0.0.2 and an InstanceRuntime
// (node1, AS 65001, router ID 10.0.0.1) built from a real CiliumBGPPeeringPolicy, its FIB
// the in-memory kernel model. Real TCP on loopback.
import assert from 'node:assert/strict';
import { resolveTexts } from '../../src/config/config.js';
import type { Instance } from '../../src/config/model.js';
import { createMemoryFib, type SimKernel } from '../../src/fib/memory.js';
import type { FibBackend, KernelRoute } from '../../src/fib/backend.js';
import { InstanceRuntime } from '../../src/daemon/instance.js';
import { Speaker, type NeighborOptions } from '../../src/daemon/speaker.js';
import { acceptRule, ciliumManifest, type ManifestNeighbor } from '../lib/cilium-manifest.js';
import { RouteRecorder } from '../lib/route-recorder.js';

/** The lab's import rule: 192.168/16, /24 and longer. */
export const labRule = (name = 'lab-prefixes'): string => acceptRule(name, '192.168.0.0/16', { ge: 24 });

/** A neighbour of node1; address 127.0.0.2, AS 65010, multihop TTL 2 and the lab rule unless given. */
export type LabNeighbor = Partial<ManifestNeighbor> & { readonly port: number };

/** The lab manifest: node1 (127.0.0.1, pod CIDR 10.244.1.0/24) and its neighbours. */
export function labManifest(neighbors: readonly LabNeighbor[], extraDocs: readonly string[] = []): string {
  return ciliumManifest({
    name: 'lab',
    asn: 65001,
    neighbors: neighbors.map((n) => ({ address: '127.0.0.2', asn: 65010, multihopTtl: 2, rules: [labRule()], ...n })),
    node: { name: 'node1', routerId: '10.0.0.1', podCidr: '10.244.1.0/24', address: '127.0.0.1' },
    extraDocs,
  });
}

/** The manifest resolved for node1: its only instance. */
export function labInstance(text: string): Instance {
  const res = resolveTexts([{ file: 'lab.yaml', text }], 'node1');
  assert.deepEqual(res.errors, [], 'the manifest is valid');
  return res.config!.instances[0]!;
}

/** How a router Speaker sees node1 (add graceful restart and the like on top). */
export const NODE_AS_SEEN_BY_ROUTER = { address: '127.0.0.1', peerAs: 65001, passive: true, holdTime: 9, ebgpMultihopTtl: 2 } as const satisfies NeighborOptions;

/** A "router" Speaker listening on an ephemeral port, started. */
export async function startRouter(address: string, localAs: number, routerId: string, rec: RouteRecorder): Promise<Speaker> {
  const s = new Speaker({ localAs, routerId, listen: { address, port: 0 } }, rec);
  await s.start();
  return s;
}

/** The loopback address on ifindex 1: the router's 127.0.0.2 is connected. */
export const loopback = (k: SimKernel): void => void k.addAddress(1, '127.0.0.1/8');

/**
 * The router (AS 65010, 10.0.0.10 on 127.0.0.2) started and the runtime built from
 * `manifest(routerPort)`, not started; the router has no neighbour yet. `kernel` sets up
 * the memory kernel when the FIB is made (default: loopback only).
 */
export async function startInstanceLab(manifest: (routerPort: number) => string, kernel: (k: SimKernel) => void = loopback) {
  const rec = new RouteRecorder();
  const router = await startRouter('127.0.0.2', 65010, '10.0.0.10', rec);
  const port = router.listenPort!;
  let fib: FibBackend | undefined;
  let sim: SimKernel | undefined;
  const rt = new InstanceRuntime(labInstance(manifest(port)), (ri) => {
    const m = createMemoryFib({ table: ri.table, metric: ri.metric, protocol: ri.protocol });
    kernel(m.kernel);
    fib = m.fib;
    sim = m.kernel;
    return m.fib;
  });
  /** Our routes (protocol bgp 186) in the FIB. */
  const routes = async (): Promise<KernelRoute[]> => (await fib!.dump()).filter((r) => r.protocol === 186);
  const kernelRoutes = async (): Promise<string[]> => (await routes()).map((r) => r.dst).sort();
  return {
    router,
    rec,
    rt,
    port,
    kernel: () => sim!,
    routes,
    kernelRoutes,
    stop: async () => {
      await rt.stop();
      await router.stop();
    },
  };
}
