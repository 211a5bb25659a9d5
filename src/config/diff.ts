// Old NodeConfig vs new → typed changes, each with the least disruptive effect that
// applies it. The table below is the single source of truth: the diff reads it, and
// docs/configuration.md is generated from it (GoBGP's NeedsSoftResetIn, BIRD's reconfigure).
import type { Advertisement, Family, Instance, NodeConfig, Peer } from './model.js';
import { SecretValue } from './model.js';

/**
 * - hot: applied in place (UPDATE/withdraw, re-bind, FIB re-sync); no session is touched.
 * - soft-reset-in: routes already received are re-evaluated (ROUTE-REFRESH or the stored copy).
 * - soft-reset-out: everything advertised to the peer is re-sent.
 * - session-reset: that one session is closed (Cease) and re-established.
 * - instance-restart: every session of the instance closes; the instance starts again.
 */
export type ChangeEffect = 'hot' | 'soft-reset-in' | 'soft-reset-out' | 'session-reset' | 'instance-restart';

export const EFFECT_RANK: Readonly<Record<ChangeEffect, number>> = {
  hot: 0,
  'soft-reset-in': 1,
  'soft-reset-out': 1,
  'session-reset': 2,
  'instance-restart': 3,
};

export type ChangeScope = 'instance' | 'peer' | 'advertisement';

export interface EffectRule {
  readonly scope: ChangeScope;
  /** Model field (dotted), or `added` / `removed`. */
  readonly field: string;
  /** The manifest fields that feed it, for the docs. */
  readonly sources: string;
  readonly effect: ChangeEffect;
  readonly why: string;
}

export const EFFECT_TABLE = [
  { scope: 'instance', field: 'added', sources: 'a new virtualRouter / bgpInstance selects the node', effect: 'hot', why: 'the new instance starts; running ones are not touched' },
  { scope: 'instance', field: 'removed', sources: 'virtualRouter / bgpInstance removed or no longer selecting the node', effect: 'instance-restart', why: 'its sessions close (Cease/Peer De-configured) and its kernel routes are removed' },
  { scope: 'instance', field: 'localAsn', sources: 'localASN (v1), localASN / override localASN (v2)', effect: 'instance-restart', why: 'the AS is announced in every OPEN and decides iBGP vs eBGP for all peers' },
  { scope: 'instance', field: 'routerId', sources: 'override routerID, node annotation router-id, node InternalIP', effect: 'instance-restart', why: 'the BGP identifier is announced in every OPEN' },
  { scope: 'instance', field: 'listenPort', sources: 'localPort (v2, override), annotation local-port', effect: 'instance-restart', why: 'the instance restarts on the new listening socket (its sessions re-establish)' },
  { scope: 'instance', field: 'routeInstall', sources: 'routeInstall', effect: 'instance-restart', why: 'the instance restarts: its routes leave the old table/metric/protocol and are installed under the new settings' },
  { scope: 'instance', field: 'alwaysCompareMed', sources: 'alwaysCompareMed', effect: 'instance-restart', why: 'the instance restarts so every best path is decided under the new rule' },
  { scope: 'instance', field: 'origin', sources: 'name of the CiliumBGPPeeringPolicy / CiliumBGPClusterConfig', effect: 'hot', why: 'bookkeeping only' },
  { scope: 'peer', field: 'added', sources: 'neighbors[] / peers[] entry added', effect: 'hot', why: 'a new session starts; others are not touched' },
  { scope: 'peer', field: 'removed', sources: 'neighbors[] / peers[] entry removed', effect: 'session-reset', why: 'that session closes (Cease/Peer De-configured); its routes are withdrawn' },
  { scope: 'peer', field: 'address', sources: 'peerAddress', effect: 'session-reset', why: 'it is another TCP connection' },
  { scope: 'peer', field: 'port', sources: 'peerPort, transport.peerPort', effect: 'session-reset', why: 'it is another TCP connection' },
  { scope: 'peer', field: 'peerAsn', sources: 'peerASN', effect: 'session-reset', why: 'the OPEN is checked against it' },
  { scope: 'peer', field: 'localAddress', sources: 'override peers[].localAddress', effect: 'session-reset', why: 'the TCP connection is bound to another source address' },
  { scope: 'peer', field: 'md5Password', sources: 'authSecretRef and the Secret\'s password', effect: 'session-reset', why: 'TCP-MD5 keys apply when the connection is made' },
  { scope: 'peer', field: 'authSecretRef', sources: 'authSecretRef (same password)', effect: 'hot', why: 'bookkeeping only when the password is unchanged' },
  { scope: 'peer', field: 'ttlSecurityHops', sources: 'ttlSecurityHops', effect: 'session-reset', why: 'the socket TTL and minimum TTL are set when the connection is made' },
  { scope: 'peer', field: 'ebgpMultihopTtl', sources: 'eBGPMultihopTTL, ebgpMultihop', effect: 'session-reset', why: 'the socket TTL is set when the connection is made' },
  { scope: 'peer', field: 'timers.holdTime', sources: 'holdTimeSeconds', effect: 'session-reset', why: 'the hold time is negotiated in the OPEN' },
  { scope: 'peer', field: 'timers.keepalive', sources: 'keepAliveTimeSeconds', effect: 'session-reset', why: 'derived from the negotiated hold time' },
  { scope: 'peer', field: 'timers.connectRetry', sources: 'connectRetryTimeSeconds', effect: 'hot', why: 'used only while the session is down' },
  { scope: 'peer', field: 'gracefulRestart', sources: 'gracefulRestart', effect: 'session-reset', why: 'the capability is announced in the OPEN' },
  { scope: 'peer', field: 'families', sources: 'families[].afi/safi', effect: 'session-reset', why: 'multiprotocol capabilities are negotiated in the OPEN' },
  { scope: 'peer', field: 'prefixLimit', sources: 'prefixLimit (peer level)', effect: 'hot', why: 'the new limit applies at once and clears an overflow' },
  { scope: 'peer', field: 'families.prefixLimit', sources: 'families[].prefixLimit', effect: 'hot', why: 'the new limit applies at once and clears an overflow' },
  { scope: 'peer', field: 'importPolicy', sources: 'importPolicy', effect: 'soft-reset-in', why: 're-evaluated from pre-policy copies (softReconfiguration), else by route refresh; a peer without route refresh is reset (Cease/6)' },
  { scope: 'advertisement', field: 'prefix', sources: 'exportPodCIDR, serviceSelector, CiliumBGPAdvertisement, path attributes, Node podCIDRs, Services', effect: 'hot', why: 'sent as UPDATE / withdrawn to the peers concerned only' },
] as const satisfies readonly EffectRule[];

export function effectOf(scope: ChangeScope, field: string): ChangeEffect {
  const rule = (EFFECT_TABLE as readonly EffectRule[]).find((r) => r.scope === scope && r.field === field);
  if (rule === undefined) throw new Error(`no effect rule for ${scope}.${field}`);
  return rule.effect;
}

export type ConfigChange =
  | { readonly kind: 'instance-added'; readonly instance: string; readonly effect: ChangeEffect }
  | { readonly kind: 'instance-removed'; readonly instance: string; readonly effect: ChangeEffect }
  | { readonly kind: 'instance-changed'; readonly instance: string; readonly field: string; readonly before: unknown; readonly after: unknown; readonly effect: ChangeEffect }
  | { readonly kind: 'peer-added'; readonly instance: string; readonly peer: string; readonly effect: ChangeEffect }
  | { readonly kind: 'peer-removed'; readonly instance: string; readonly peer: string; readonly effect: ChangeEffect }
  | { readonly kind: 'peer-changed'; readonly instance: string; readonly peer: string; readonly field: string; readonly before: unknown; readonly after: unknown; readonly effect: ChangeEffect }
  | {
      readonly kind: 'advertisement';
      readonly instance: string;
      readonly prefix: string;
      /** Peers that must be sent an UPDATE (new prefix, or new attributes). */
      readonly announce: readonly string[];
      /** Peers from which the prefix must be withdrawn. */
      readonly withdraw: readonly string[];
      readonly effect: ChangeEffect;
    };

/** Deep equality for model values (SecretValue compares by content). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof SecretValue || b instanceof SecretValue) {
    return a instanceof SecretValue && b instanceof SecretValue && a.equals(b);
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameValue(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const INSTANCE_FIELDS = ['localAsn', 'routerId', 'listenPort', 'routeInstall', 'alwaysCompareMed', 'origin'] as const;

type PeerGetter = (p: Peer) => unknown;
const PEER_FIELDS: readonly (readonly [string, PeerGetter])[] = [
  ['address', (p) => p.address],
  ['port', (p) => p.port],
  ['peerAsn', (p) => p.peerAsn],
  ['localAddress', (p) => p.localAddress],
  ['md5Password', (p) => p.md5Password],
  ['authSecretRef', (p) => p.authSecretRef],
  ['ebgpMultihopTtl', (p) => p.ebgpMultihopTtl],
  ['ttlSecurityHops', (p) => p.ttlSecurityHops],
  ['timers.holdTime', (p) => p.timers.holdTime],
  ['timers.keepalive', (p) => p.timers.keepalive],
  ['timers.connectRetry', (p) => p.timers.connectRetry],
  ['gracefulRestart', (p) => p.gracefulRestart],
  ['families', (p) => p.families.map((f) => `${f.afi}/${f.safi}`)],
  ['prefixLimit', (p) => p.prefixLimit],
  ['importPolicy', (p) => p.importPolicy],
];

function byName<T extends { name: string }>(list: readonly T[]): Map<string, T> {
  return new Map(list.map((x) => [x.name, x]));
}

function diffPeer(instance: string, a: Peer, b: Peer, out: ConfigChange[]): void {
  for (const [field, get] of PEER_FIELDS) {
    const before = get(a);
    const after = get(b);
    // The secret's name alone is bookkeeping; only report it when the password stayed.
    if (field === 'authSecretRef' && !sameValue(a.md5Password, b.md5Password)) continue;
    if (!sameValue(before, after)) out.push({ kind: 'peer-changed', instance, peer: a.name, field, before, after, effect: effectOf('peer', field) });
  }
  const fa = new Map<string, Family>(a.families.map((f) => [`${f.afi}/${f.safi}`, f]));
  for (const f of b.families) {
    const key = `${f.afi}/${f.safi}`;
    const old = fa.get(key);
    // A family that just inherits the peer-level limit is covered by the `prefixLimit` change.
    const inherited = sameValue(old?.prefixLimit, a.prefixLimit) && sameValue(f.prefixLimit, b.prefixLimit);
    if (old !== undefined && !inherited && !sameValue(old.prefixLimit, f.prefixLimit)) {
      out.push({ kind: 'peer-changed', instance, peer: a.name, field: `families.prefixLimit`, before: { family: key, prefixLimit: old.prefixLimit }, after: { family: key, prefixLimit: f.prefixLimit }, effect: effectOf('peer', 'families.prefixLimit') });
    }
  }
}

/** prefix → peer → attribute key, from an instance's advertisements. */
function advertisedByPrefix(advs: readonly Advertisement[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const a of advs) {
    const key = JSON.stringify([a.communities, a.largeCommunities, a.localPreference ?? null]);
    let peers = out.get(a.prefix);
    if (peers === undefined) out.set(a.prefix, (peers = new Map()));
    for (const p of a.peers) peers.set(p, key);
  }
  return out;
}

function diffAdvertisements(instance: string, a: readonly Advertisement[], b: readonly Advertisement[], out: ConfigChange[]): void {
  const before = advertisedByPrefix(a);
  const after = advertisedByPrefix(b);
  const prefixes = [...new Set([...before.keys(), ...after.keys()])];
  // Keep the order of the new config (sorted by prefix), then prefixes that are gone.
  const order = new Map<string, number>();
  [...b, ...a].forEach((x, i) => { if (!order.has(x.prefix)) order.set(x.prefix, i); });
  prefixes.sort((x, y) => order.get(x)! - order.get(y)!);
  for (const prefix of prefixes) {
    const was = before.get(prefix) ?? new Map<string, string>();
    const now = after.get(prefix) ?? new Map<string, string>();
    const announce = [...now].filter(([peer, key]) => was.get(peer) !== key).map(([peer]) => peer).sort();
    const withdraw = [...was.keys()].filter((peer) => !now.has(peer)).sort();
    if (announce.length > 0 || withdraw.length > 0) {
      out.push({ kind: 'advertisement', instance, prefix, announce, withdraw, effect: effectOf('advertisement', 'prefix') });
    }
  }
}

function diffInstance(a: Instance, b: Instance, out: ConfigChange[]): void {
  for (const field of INSTANCE_FIELDS) {
    if (!sameValue(a[field], b[field])) out.push({ kind: 'instance-changed', instance: a.name, field, before: a[field], after: b[field], effect: effectOf('instance', field) });
  }
  const pa = byName(a.peers);
  const pb = byName(b.peers);
  for (const p of a.peers) if (!pb.has(p.name)) out.push({ kind: 'peer-removed', instance: a.name, peer: p.name, effect: effectOf('peer', 'removed') });
  for (const p of b.peers) {
    const old = pa.get(p.name);
    if (old === undefined) out.push({ kind: 'peer-added', instance: a.name, peer: p.name, effect: effectOf('peer', 'added') });
    else diffPeer(a.name, old, p, out);
  }
  diffAdvertisements(a.name, a.advertisements, b.advertisements, out);
}

/** Every difference, in a stable order (instances by name, then peers, then prefixes). */
export function diffConfigs(before: NodeConfig, after: NodeConfig): ConfigChange[] {
  const out: ConfigChange[] = [];
  const ia = byName(before.instances);
  const ib = byName(after.instances);
  for (const i of before.instances) if (!ib.has(i.name)) out.push({ kind: 'instance-removed', instance: i.name, effect: effectOf('instance', 'removed') });
  for (const i of after.instances) {
    const old = ia.get(i.name);
    if (old === undefined) out.push({ kind: 'instance-added', instance: i.name, effect: effectOf('instance', 'added') });
    else diffInstance(old, i, out);
  }
  return out;
}

export interface PeerAction {
  readonly instance: string;
  readonly peer: string;
  /** The strongest effect among the peer's changes. */
  readonly effect: ChangeEffect;
}

export interface ChangePlan {
  /** Instances to stop and start again (their peers' changes are subsumed). */
  readonly restartInstances: readonly string[];
  /** One entry per touched peer of the instances that keep running. */
  readonly peers: readonly PeerAction[];
}

/** What the daemon must do: instance restarts, then the strongest effect per peer. */
export function planChanges(changes: readonly ConfigChange[]): ChangePlan {
  const restart = new Set<string>();
  const peers = new Map<string, Map<string, ChangeEffect>>();
  const raise = (instance: string, peer: string, e: ChangeEffect) => {
    let m = peers.get(instance);
    if (m === undefined) peers.set(instance, (m = new Map()));
    const cur = m.get(peer);
    if (cur === undefined || EFFECT_RANK[e] > EFFECT_RANK[cur]) m.set(peer, e);
  };
  for (const c of changes) {
    if (c.effect === 'instance-restart') restart.add(c.instance);
    if (c.kind === 'peer-changed' || c.kind === 'peer-removed' || c.kind === 'peer-added') raise(c.instance, c.peer, c.effect);
    if (c.kind === 'advertisement') for (const p of [...c.announce, ...c.withdraw]) raise(c.instance, p, c.effect);
  }
  const out: PeerAction[] = [];
  for (const [instance, m] of peers) {
    if (restart.has(instance)) continue;
    for (const [peer, effect] of m) out.push({ instance, peer, effect });
  }
  return { restartInstances: [...restart].sort(), peers: out };
}
