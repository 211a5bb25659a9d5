// A CiliumBGPPeeringPolicy with one virtual router plus the Node it selects, as YAML
// text: the shape every daemon and interop lab writes, with the per-test parts as options.

export interface ManifestNeighbor {
  /** The peer's address, without the /32. */
  readonly address: string;
  readonly asn: number;
  readonly port?: number;
  /** Default 1. */
  readonly connectRetry?: number;
  readonly multihopTtl?: number;
  /** A YAML flow list; default IPv4 unicast only. */
  readonly families?: string;
  /** YAML flow maps, written as given. */
  readonly gracefulRestart?: string;
  readonly prefixLimit?: string;
  readonly authSecretRef?: string;
  readonly defaultAction?: 'Accept' | 'Reject';
  readonly softReconfiguration?: boolean;
  /** Import rules as YAML flow maps (see acceptRule). */
  readonly rules: readonly string[];
}

export interface ManifestNode {
  readonly name: string;
  readonly routerId: string;
  readonly podCidr: string;
  /** The node's InternalIP. */
  readonly address: string;
}

export interface ManifestOptions {
  /** metadata.name of the policy. */
  readonly name: string;
  readonly asn: number;
  /** A YAML flow map for routeInstall; left out when undefined. */
  readonly routeInstall?: string;
  readonly neighbors: readonly ManifestNeighbor[];
  readonly node: ManifestNode;
  /** More YAML documents (Secrets…), appended as they are. */
  readonly extraDocs?: readonly string[];
}

/** An Accept rule for one prefix, with optional ge/le. */
export function acceptRule(name: string, cidr: string, range: { ge?: number; le?: number } = {}): string {
  const ge = range.ge !== undefined ? `, ge: ${range.ge}` : '';
  const le = range.le !== undefined ? `, le: ${range.le}` : '';
  return `{name: ${name}, match: {prefixes: [{cidr: ${cidr}${ge}${le}}]}, action: Accept}`;
}

function neighborLines(n: ManifestNeighbor): string[] {
  const opt = (key: string, v: string | number | boolean | undefined, indent = '      '): string[] =>
    v === undefined ? [] : [`${indent}${key}: ${v}`];
  return [
    `    - peerAddress: "${n.address}/32"`,
    ...opt('peerPort', n.port),
    `      peerASN: ${n.asn}`,
    '      holdTimeSeconds: 9',
    '      keepAliveTimeSeconds: 3',
    `      connectRetryTimeSeconds: ${n.connectRetry ?? 1}`,
    ...opt('eBGPMultihopTTL', n.multihopTtl),
    ...opt('gracefulRestart', n.gracefulRestart),
    `      families: ${n.families ?? '[{afi: ipv4, safi: unicast}]'}`,
    ...opt('prefixLimit', n.prefixLimit),
    ...opt('authSecretRef', n.authSecretRef),
    '      importPolicy:',
    ...opt('defaultAction', n.defaultAction, '        '),
    ...opt('softReconfiguration', n.softReconfiguration, '        '),
    n.rules.length === 0 ? '        rules: []' : '        rules:',
    ...n.rules.map((r) => `        - ${r}`),
  ];
}

/** The policy and Node documents (and any extra ones) as one YAML stream. */
export function ciliumManifest(o: ManifestOptions): string {
  return [
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    `metadata: {name: ${o.name}}`,
    'spec:',
    '  virtualRouters:',
    `  - localASN: ${o.asn}`,
    '    exportPodCIDR: true',
    ...(o.routeInstall !== undefined ? [`    routeInstall: ${o.routeInstall}`] : []),
    '    neighbors:',
    ...o.neighbors.flatMap(neighborLines),
    '---',
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    `  name: ${o.node.name}`,
    `  annotations: {cilium.io/bgp-virtual-router.${o.asn}: "router-id=${o.node.routerId}"}`,
    `spec: {podCIDRs: ["${o.node.podCidr}"]}`,
    `status: {addresses: [{type: InternalIP, address: ${o.node.address}}]}`,
    ...(o.extraDocs ?? []).flatMap((d) => ['---', d.trim()]),
    '',
  ].join('\n');
}
