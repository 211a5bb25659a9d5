// Cilium's per-node virtual-router annotation:
//   cilium.io/bgp-virtual-router.<localASN>: "router-id=10.0.0.2,local-port=179"
// Comma-separated key=value pairs; when a key repeats, the last value wins (Cilium's rule).
import { canonicalIp, parseIp } from './net.js';

export const VIRTUAL_ROUTER_ANNOTATION_PREFIX = 'cilium.io/bgp-virtual-router.';

export function virtualRouterAnnotationKey(localAsn: number): string {
  return `${VIRTUAL_ROUTER_ANNOTATION_PREFIX}${localAsn}`;
}

export interface VirtualRouterAttributes {
  readonly routerId: string | undefined;
  readonly localPort: number | undefined;
}

export interface AnnotationProblem {
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export function parseVirtualRouterAnnotation(value: string): {
  attributes: VirtualRouterAttributes;
  problems: AnnotationProblem[];
} {
  let routerId: string | undefined;
  let localPort: number | undefined;
  const problems: AnnotationProblem[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (item.length === 0) continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      problems.push({ severity: 'error', message: `expected key=value pairs separated by commas (e.g. router-id=10.0.0.1,local-port=179), found "${item}"` });
      continue;
    }
    const key = item.slice(0, eq).trim();
    const v = item.slice(eq + 1).trim();
    if (key === 'router-id') {
      const ip = parseIp(v);
      if (ip?.afi !== 'ipv4') problems.push({ severity: 'error', message: `router-id: expected an IPv4 address, found "${v}"` });
      else routerId = canonicalIp(v);
    } else if (key === 'local-port') {
      const n = /^[0-9]{1,5}$/.test(v) ? Number(v) : NaN;
      if (!(n >= 1 && n <= 65535)) problems.push({ severity: 'error', message: `local-port: expected a TCP port from 1 to 65535, found "${v}"` });
      else localPort = n;
    } else {
      problems.push({ severity: 'warning', message: `unknown key "${key}" ignored (known: router-id, local-port)` });
    }
  }
  return { attributes: { routerId, localPort }, problems };
}
