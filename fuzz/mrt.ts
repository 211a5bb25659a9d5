// A tiny MRT (RFC 6396) record walker, only what the seed extraction needs: BGP4MP and
// BGP4MP_ET records whose subtype carries a whole BGP message (RFC 6396 §4.4, RFC 8050
// ADD-PATH subtypes). Gzip files are inflated whole (node:zlib); they are a few MB.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const MRT_BGP4MP = 16;
export const MRT_BGP4MP_ET = 17;

/** Subtype → [AS number size, ADD-PATH] for the subtypes that hold a BGP message. */
const MESSAGE_SUBTYPES: Readonly<Record<number, readonly [2 | 4, boolean]>> = {
  1: [2, false], // MESSAGE
  4: [4, false], // MESSAGE_AS4
  6: [2, false], // MESSAGE_LOCAL
  7: [4, false], // MESSAGE_AS4_LOCAL
  8: [2, true], // MESSAGE_ADDPATH
  9: [4, true], // MESSAGE_AS4_ADDPATH
  10: [2, true], // MESSAGE_LOCAL_ADDPATH
  11: [4, true], // MESSAGE_AS4_LOCAL_ADDPATH
};

export interface MrtMessage {
  readonly timestamp: number;
  readonly subtype: number;
  /** Size of the AS numbers in the MRT record, a hint for the session's AS_PATH encoding. */
  readonly asSize: 2 | 4;
  readonly addPath: boolean;
  /** The whole BGP message, header included (a view into the inflated file). */
  readonly message: Buffer;
}

export function readMrtFile(path: string): Buffer {
  const raw = readFileSync(path);
  return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

/** Yields each BGP message of BGP4MP(_ET) records; stops quietly at a truncated record. */
export function* bgp4mpMessages(data: Buffer): Generator<MrtMessage, void, undefined> {
  let p = 0;
  while (p + 12 <= data.length) {
    const timestamp = data.readUInt32BE(p);
    const type = data.readUInt16BE(p + 4);
    const subtype = data.readUInt16BE(p + 6);
    const len = data.readUInt32BE(p + 8);
    const start = p + 12;
    const end = start + len;
    if (end > data.length) return;
    p = end;
    const kind = MESSAGE_SUBTYPES[subtype];
    if ((type !== MRT_BGP4MP && type !== MRT_BGP4MP_ET) || kind === undefined) continue;
    const [asSize, addPath] = kind;
    // ET records start with a microsecond timestamp (RFC 6396 §3).
    let q = start + (type === MRT_BGP4MP_ET ? 4 : 0);
    q += 2 * asSize + 2; // peer AS, local AS, interface index
    if (q + 2 > end) continue;
    const afi = data.readUInt16BE(q);
    q += 2 + (afi === 2 ? 32 : 8); // peer and local addresses
    if (q + 19 > end) continue;
    yield { timestamp, subtype, asSize, addPath, message: data.subarray(q, end) };
  }
}
