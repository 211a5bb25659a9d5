// BGP capabilities (RFC 5492): the value of a Capabilities optional parameter is a list of
// code(1) length(1) value TLVs. Decoding fills a Capabilities object; encoding is the inverse.
import { openError, type BgpError } from './errors.js';
import { CAPABILITY_ROUTE_REFRESH_OLD, Capability, OpenSubcode, UNSPECIFIC_SUBCODE } from './iana.js';
import { emptyCapabilities, type AddPathFamily, type AfiSafi, type Capabilities, type GracefulRestartCapability } from './open-types.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** Malformed OPEN content without a more specific subcode: OPEN Message Error / Unspecific. */
export function malformedOpen(why = 'malformed OPEN'): BgpError {
  return openError(UNSPECIFIC_SUBCODE, undefined, why);
}

const GR_RESTART_STATE = 0x8000; // R bit (RFC 4724)
const GR_NOTIFICATION = 0x4000; // N bit (RFC 8538)
const GR_TIME_MASK = 0x0fff;
const GR_FORWARDING = 0x80; // F bit, per family

function badLength(code: number, len: number): never {
  throw malformedOpen(`capability ${code} has bad length ${len}`);
}

/**
 * Decodes a list of capability TLVs (one Capabilities optional parameter's value)
 * into `caps`. A peer may spread capabilities over several parameters, so this
 * accumulates. Throws OPEN Message Error on a malformed capability.
 */
export function decodeCapabilities(value: Buffer, caps: Capabilities = emptyCapabilities()): Capabilities {
  const r = new Reader(value, () => malformedOpen('truncated capability'));
  while (r.remaining > 0) {
    const code = r.u8();
    const len = r.u8();
    decodeCapability(code, r.view(len), caps);
  }
  return caps;
}

/** Decodes one capability whose value is exactly `r` (a bounded view). */
function decodeCapability(code: number, r: Reader, caps: Capabilities): void {
  const len = r.remaining;
  switch (code) {
    case Capability.MULTIPROTOCOL: {
      // RFC 4760 §8: AFI(2) reserved(1) SAFI(1).
      if (len !== 4) badLength(code, len);
      const afi = r.u16();
      r.skip(1);
      const safi = r.u8();
      if (!hasFamily(caps.multiprotocol, afi, safi)) caps.multiprotocol.push({ afi, safi });
      return;
    }
    case Capability.ROUTE_REFRESH:
    case CAPABILITY_ROUTE_REFRESH_OLD:
      if (len !== 0) badLength(code, len);
      caps.routeRefresh = true;
      return;
    case Capability.ENHANCED_ROUTE_REFRESH:
      if (len !== 0) badLength(code, len);
      caps.enhancedRouteRefresh = true;
      return;
    case Capability.EXTENDED_MESSAGE:
      if (len !== 0) badLength(code, len);
      caps.extendedMessage = true;
      return;
    case Capability.FOUR_OCTET_AS:
      if (len !== 4) badLength(code, len);
      caps.fourOctetAs = r.u32();
      return;
    case Capability.ROLE: {
      if (len !== 1) badLength(code, len);
      const role = r.u8();
      // RFC 9234 §4.2: repeated with different values → Role Mismatch.
      if (caps.role !== undefined && caps.role !== role) {
        throw openError(OpenSubcode.ROLE_MISMATCH, undefined, 'conflicting BGP Role capabilities');
      }
      caps.role = role;
      return;
    }
    case Capability.GRACEFUL_RESTART:
      if (len < 2 || (len - 2) % 4 !== 0) badLength(code, len);
      caps.gracefulRestart = decodeGracefulRestart(r);
      return;
    case Capability.ADD_PATH: {
      if (len === 0 || len % 4 !== 0) badLength(code, len);
      while (r.remaining > 0) {
        const afi = r.u16();
        const safi = r.u8();
        const mode = r.u8();
        // RFC 7911 defines 1..3 only; a family with another value is not negotiated.
        if (mode < 1 || mode > 3) continue;
        const i = caps.addPath.findIndex((f) => f.afi === afi && f.safi === safi);
        const entry: AddPathFamily = { afi, safi, mode: mode as 1 | 2 | 3 };
        if (i >= 0) caps.addPath[i] = entry;
        else caps.addPath.push(entry);
      }
      return;
    }
    default:
      // Unknown capabilities are ignored (RFC 5492 §3); copied so the chunk is not retained.
      caps.unknown.push({ code, value: Buffer.from(r.bytes(len)) });
  }
}

function decodeGracefulRestart(r: Reader): GracefulRestartCapability {
  const head = r.u16();
  const families: (AfiSafi & { forwardingState: boolean })[] = [];
  while (r.remaining > 0) {
    const afi = r.u16();
    const safi = r.u8();
    const flags = r.u8();
    families.push({ afi, safi, forwardingState: (flags & GR_FORWARDING) !== 0 });
  }
  return {
    restartState: (head & GR_RESTART_STATE) !== 0,
    notification: (head & GR_NOTIFICATION) !== 0,
    restartTime: head & GR_TIME_MASK,
    families,
  };
}

export function hasFamily(list: readonly AfiSafi[], afi: number, safi: number): boolean {
  for (const f of list) if (f.afi === afi && f.safi === safi) return true;
  return false;
}

function tlv(w: Writer, code: number, value: Buffer | undefined): void {
  const len = value === undefined ? 0 : value.length;
  if (len > 255) throw new RangeError(`capability ${code} value too long: ${len}`);
  w.u8(code).u8(len);
  if (value !== undefined) w.bytes(value);
}

/** Up to 63 four-byte entries fit one capability (255-byte value). */
const ENTRIES_PER_CAP = 63;

/**
 * Encodes `caps` as a capability TLV list (the value of one Capabilities parameter),
 * in the order BIRD 2 uses, so a captured BIRD OPEN re-encodes byte for byte.
 * Throws RangeError on values the wire cannot carry (our bug, not the peer's).
 */
export function encodeCapabilities(caps: Capabilities): Buffer {
  const w = new Writer(64);
  for (const f of caps.multiprotocol) {
    tlv(w, Capability.MULTIPROTOCOL, Buffer.of(f.afi >> 8, f.afi & 0xff, 0, f.safi));
  }
  if (caps.routeRefresh) tlv(w, Capability.ROUTE_REFRESH, undefined);
  if (caps.extendedMessage) tlv(w, Capability.EXTENDED_MESSAGE, undefined);
  if (caps.role !== undefined) tlv(w, Capability.ROLE, Buffer.of(caps.role));
  if (caps.gracefulRestart !== undefined) {
    const gr = caps.gracefulRestart;
    if (gr.families.length > ENTRIES_PER_CAP) throw new RangeError('too many graceful restart families');
    if (gr.restartTime < 0 || gr.restartTime > GR_TIME_MASK) throw new RangeError(`bad restart time ${gr.restartTime}`);
    const v = Buffer.allocUnsafe(2 + 4 * gr.families.length);
    v.writeUInt16BE((gr.restartState ? GR_RESTART_STATE : 0) | (gr.notification ? GR_NOTIFICATION : 0) | gr.restartTime, 0);
    let o = 2;
    for (const f of gr.families) {
      v.writeUInt16BE(f.afi, o);
      v[o + 2] = f.safi;
      v[o + 3] = f.forwardingState ? GR_FORWARDING : 0;
      o += 4;
    }
    tlv(w, Capability.GRACEFUL_RESTART, v);
  }
  if (caps.fourOctetAs !== undefined) {
    const v = Buffer.allocUnsafe(4);
    v.writeUInt32BE(caps.fourOctetAs >>> 0, 0);
    tlv(w, Capability.FOUR_OCTET_AS, v);
  }
  for (let i = 0; i < caps.addPath.length; i += ENTRIES_PER_CAP) {
    const part = caps.addPath.slice(i, i + ENTRIES_PER_CAP);
    const v = Buffer.allocUnsafe(4 * part.length);
    part.forEach((f, j) => {
      v.writeUInt16BE(f.afi, 4 * j);
      v[4 * j + 2] = f.safi;
      v[4 * j + 3] = f.mode;
    });
    tlv(w, Capability.ADD_PATH, v);
  }
  if (caps.enhancedRouteRefresh) tlv(w, Capability.ENHANCED_ROUTE_REFRESH, undefined);
  for (const u of caps.unknown) tlv(w, u.code, u.value);
  return w.toBuffer();
}

/** What we want to announce; anything left out is not announced. */
export interface CapabilityOptions {
  /** Our AS; announced in the 4-octet AS capability (always sent, RFC 6793). */
  readonly asn: number;
  /** Multiprotocol families; default IPv4 unicast only. */
  readonly families?: readonly AfiSafi[];
  /** Default true. */
  readonly routeRefresh?: boolean;
  readonly enhancedRouteRefresh?: boolean;
  readonly extendedMessage?: boolean;
  readonly gracefulRestart?: GracefulRestartCapability;
  readonly addPath?: readonly AddPathFamily[];
  readonly role?: number;
}

/** A Capabilities object for our OPEN from simple options. */
export function buildCapabilities(o: CapabilityOptions): Capabilities {
  const caps = emptyCapabilities();
  caps.multiprotocol = (o.families ?? [{ afi: 1, safi: 1 }]).map((f) => ({ afi: f.afi, safi: f.safi }));
  caps.routeRefresh = o.routeRefresh ?? true;
  caps.enhancedRouteRefresh = o.enhancedRouteRefresh ?? false;
  caps.extendedMessage = o.extendedMessage ?? false;
  caps.fourOctetAs = o.asn;
  caps.gracefulRestart = o.gracefulRestart;
  caps.addPath = o.addPath ? o.addPath.map((f) => ({ ...f })) : [];
  caps.role = o.role;
  return caps;
}
