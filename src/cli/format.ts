// Value formatting shared by the renderers: durations, states, AS paths, attributes,
// kernel protocol and table names. Pure.
import type { AsPathSegment, FibNexthop, NeighborInfo, PathAttributesView } from '../api/types.js';

/** `00:05:41`, `3d 04:05:06` (days past 24 h); negative or unknown → `-`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '-';
  let s = Math.floor(seconds);
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const hms = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return days > 0 ? `${days}d ${hms}` : hms;
}

const SHORT_STATE = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'Sent',
  OpenConfirm: 'Confirm',
  Established: 'Establ',
} as const;

/** gobgp's short state names, with the reason a session is held in Idle. */
export function shortState(n: Pick<NeighborInfo, 'state' | 'adminDown' | 'families'>): string {
  if (n.adminDown) return 'Idle(Admin)';
  if (n.state === 'Idle' && n.families.some((f) => f.prefixLimit?.overflow === true)) return 'Idle(PfxCt)';
  return SHORT_STATE[n.state];
}

/** Time in the current up or down period; `never` when the session was never up. */
export function upDown(n: Pick<NeighborInfo, 'state' | 'uptime' | 'downtime' | 'establishedCount'>): string {
  if (n.state === 'Established') return formatDuration(n.uptime);
  if (n.establishedCount === 0) return 'never';
  return formatDuration(n.downtime);
}

export function formatAsn(asn: number): string {
  return String(asn);
}

/** `65001 65002 {65003,65004}`; confederation segments in parentheses / brackets. */
export function formatAsPath(segments: readonly AsPathSegment[]): string {
  const parts: string[] = [];
  for (const seg of segments) {
    switch (seg.type) {
      case 'sequence':
        if (seg.asns.length > 0) parts.push(seg.asns.join(' '));
        break;
      case 'set':
        parts.push(`{${seg.asns.join(',')}}`);
        break;
      case 'confed-sequence':
        parts.push(`(${seg.asns.join(' ')})`);
        break;
      case 'confed-set':
        parts.push(`[${seg.asns.join(',')}]`);
        break;
    }
  }
  return parts.join(' ');
}

const ORIGIN_CODE = { igp: 'i', egp: 'e', incomplete: '?' } as const;

/** `[{Origin: i} {Med: 0} {LocalPref: 100} {Communities: 65000:1, no-export}]` */
export function formatAttrs(p: PathAttributesView): string {
  const parts = [`{Origin: ${ORIGIN_CODE[p.origin]}}`];
  if (p.med !== null) parts.push(`{Med: ${p.med}}`);
  if (p.localPref !== null) parts.push(`{LocalPref: ${p.localPref}}`);
  if (p.communities.length > 0) parts.push(`{Communities: ${p.communities.join(', ')}}`);
  if (p.largeCommunities.length > 0) parts.push(`{LargeCommunity: ${p.largeCommunities.join(', ')}}`);
  return `[${parts.join(' ')}]`;
}

/** rtnetlink protocol numbers (include/uapi/linux/rtnetlink.h) operators will meet. */
const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  11: 'zebra',
  12: 'bird',
  16: 'dhcp',
  17: 'mrouted',
  42: 'babel',
  186: 'bgp',
  187: 'isis',
  188: 'ospf',
  189: 'rip',
  192: 'eigrp',
};

export function protocolName(p: number): string {
  return PROTOCOL_NAMES[p] ?? String(p);
}

const TABLE_NAMES: Readonly<Record<number, string>> = { 253: 'default', 254: 'main', 255: 'local' };

export function tableName(t: number): string {
  return TABLE_NAMES[t] ?? String(t);
}

/** `via 10.0.0.1 dev eth0`, `dev eth0`, `via fe80::1 dev eth1 weight 2`; several joined by `, `. */
export function formatNexthops(nhs: readonly FibNexthop[]): string {
  if (nhs.length === 0) return '-';
  return nhs
    .map((nh) => {
      const parts: string[] = [];
      if (nh.gateway !== null) parts.push(`via ${nh.gateway}`);
      if (nh.dev !== null) parts.push(`dev ${nh.dev}`);
      if (nh.weight !== 1) parts.push(`weight ${nh.weight}`);
      return parts.length === 0 ? '?' : parts.join(' ');
    })
    .join(', ');
}

export function familyName(f: { readonly afi: string; readonly safi: string }): string {
  return `${f.afi}/${f.safi}`;
}
