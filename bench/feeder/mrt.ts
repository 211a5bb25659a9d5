// MRT reader (RFC 6396, RFC 8050 ADD-PATH subtypes): record framing, decoders for the
// record types a table replay needs, and a streaming file reader (gzip or plain).
//
//   TABLE_DUMP (12)     v1 RIB entries: one prefix seen from one peer per record
//   TABLE_DUMP_V2 (13)  PEER_INDEX_TABLE, RIB_IPV4/IPV6_UNICAST(_ADDPATH), RIB_GENERIC(_ADDPATH)
//   BGP4MP (16)         MESSAGE(_AS4)(_LOCAL)(_ADDPATH); STATE_CHANGE(_AS4) is skipped
//   BGP4MP_ET (17)      the same with a microsecond timestamp (RFC 6396 §3)
//
// Decoders fill reused objects with offsets into the record body (valid until the next
// record), so reading a dump allocates per record at most the body view.
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Afi, HEADER_LEN } from '../../src/wire/iana.js';
import { formatAddress } from '../../src/wire/nlri/format.js';

export const MrtType = { TABLE_DUMP: 12, TABLE_DUMP_V2: 13, BGP4MP: 16, BGP4MP_ET: 17 } as const;

export const TableDumpV2Subtype = {
  PEER_INDEX_TABLE: 1,
  RIB_IPV4_UNICAST: 2,
  RIB_IPV4_MULTICAST: 3,
  RIB_IPV6_UNICAST: 4,
  RIB_IPV6_MULTICAST: 5,
  RIB_GENERIC: 6,
  RIB_IPV4_UNICAST_ADDPATH: 8, // RFC 8050
  RIB_IPV4_MULTICAST_ADDPATH: 9,
  RIB_IPV6_UNICAST_ADDPATH: 10,
  RIB_IPV6_MULTICAST_ADDPATH: 11,
  RIB_GENERIC_ADDPATH: 12,
} as const;

export const Bgp4mpSubtype = {
  STATE_CHANGE: 0,
  MESSAGE: 1,
  MESSAGE_AS4: 4,
  STATE_CHANGE_AS4: 5,
  MESSAGE_LOCAL: 6,
  MESSAGE_AS4_LOCAL: 7,
  MESSAGE_ADDPATH: 8, // RFC 8050
  MESSAGE_AS4_ADDPATH: 9,
  MESSAGE_LOCAL_ADDPATH: 10,
  MESSAGE_AS4_LOCAL_ADDPATH: 11,
} as const;

/** Common header: timestamp(4) type(2) subtype(2) length(4). */
export const MRT_HEADER_LEN = 12;
/** No sane record is bigger; a larger length means the stream is not MRT or is corrupt. */
const MAX_RECORD_LEN = 16 << 20;

export class MrtError extends Error {
  override name = 'MrtError';
}

const EMPTY = Buffer.alloc(0);

/** One record; reused by the splitter, so copy what must outlive the next record. */
export class MrtRecord {
  timestamp = 0;
  /** Microseconds of the _ET types, else 0. */
  microseconds = 0;
  type = 0;
  subtype = 0;
  /** The record body after the header (and after the microsecond field of _ET types). */
  body: Buffer = EMPTY;
  /** Offset of the record in the (uncompressed) stream, for error messages. */
  offset = 0;
}

function hasMicroseconds(type: number): boolean {
  // RFC 6396 §3: the _ET types (BGP4MP_ET 17, ISIS_ET 33, OSPFv3_ET 49).
  return type === 17 || type === 33 || type === 49;
}

/** Stream → records, like the BGP Framer: push chunks, pull records. Pure. */
export class MrtSplitter {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private base = 0;

  push(chunk: Buffer): void {
    if (this.pos < this.buf.length) {
      // A record spans chunks: keep its head in front of the new bytes.
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    } else {
      this.buf = chunk;
    }
    this.base += this.pos;
    this.pos = 0;
  }

  /** Bytes received but not yet returned (a truncated last record if the stream ended). */
  get pending(): number {
    return this.buf.length - this.pos;
  }

  /** Fills `rec` with the next whole record; false when more bytes are needed. */
  next(rec: MrtRecord): boolean {
    const b = this.buf;
    const p = this.pos;
    if (b.length - p < MRT_HEADER_LEN) return false;
    const len = b.readUInt32BE(p + 8);
    if (len > MAX_RECORD_LEN) throw new MrtError(`MRT record at ${this.base + p} claims ${len} bytes`);
    if (b.length - p < MRT_HEADER_LEN + len) return false;
    const type = b.readUInt16BE(p + 4);
    let bs = p + MRT_HEADER_LEN;
    const be = bs + len;
    if (hasMicroseconds(type)) {
      if (len < 4) throw new MrtError(`MRT record at ${this.base + p}: _ET record shorter than its timestamp`);
      rec.microseconds = b.readUInt32BE(bs);
      bs += 4;
    } else {
      rec.microseconds = 0;
    }
    rec.timestamp = b.readUInt32BE(p);
    rec.type = type;
    rec.subtype = b.readUInt16BE(p + 6);
    rec.body = b.subarray(bs, be);
    rec.offset = this.base + p;
    this.pos = be;
    return true;
  }
}

function short(rec: MrtRecord, what: string): MrtError {
  return new MrtError(`MRT record at ${rec.offset} (type ${rec.type}/${rec.subtype}): ${what} overruns the record`);
}

// ---------------------------------------------------------------------------
// BGP4MP / BGP4MP_ET (RFC 6396 §4.4)

/** A decoded BGP4MP message record. Offsets refer to `body`. */
export class Bgp4mpMessage {
  peerAs = 0;
  localAs = 0;
  ifIndex = 0;
  /** AFI of the addresses below (the session's transport, not the routes'). */
  afi = 0;
  peerAddress: Buffer = EMPTY;
  localAddress: Buffer = EMPTY;
  /** The session used 4-octet ASNs: AS_PATH in UPDATEs holds 4-byte ASNs. */
  as4 = false;
  /** Recorded with ADD-PATH (RFC 8050): NLRI carry path identifiers. */
  addPath = false;
  /** A message the collector sent (…_LOCAL), not one it received. */
  local = false;
  body: Buffer = EMPTY;
  /** The whole BGP message (header included) is body[msgStart, msgEnd). */
  msgStart = 0;
  msgEnd = 0;
  /** BGP message type (2 = UPDATE). */
  msgType = 0;

  /** The BGP message body after its 19-byte header. */
  messageBody(): Buffer {
    return this.body.subarray(this.msgStart + HEADER_LEN, this.msgEnd);
  }

  peerAddressString(): string {
    return formatAddress(this.afi, this.peerAddress);
  }
}

/** AS4 / LOCAL / ADD-PATH flags of each message subtype; undefined for the others. */
const MESSAGE_SUBTYPES: Readonly<Record<number, { as4: boolean; local: boolean; addPath: boolean }>> = {
  1: { as4: false, local: false, addPath: false },
  4: { as4: true, local: false, addPath: false },
  6: { as4: false, local: true, addPath: false },
  7: { as4: true, local: true, addPath: false },
  8: { as4: false, local: false, addPath: true },
  9: { as4: true, local: false, addPath: true },
  10: { as4: false, local: true, addPath: true },
  11: { as4: true, local: true, addPath: true },
};

/**
 * Decodes a BGP4MP(_ET) message record into `out`. Returns false for records that carry
 * no BGP message (STATE_CHANGE, unknown subtypes) and for other record types.
 */
export function decodeBgp4mp(rec: MrtRecord, out: Bgp4mpMessage): boolean {
  if (rec.type !== MrtType.BGP4MP && rec.type !== MrtType.BGP4MP_ET) return false;
  const kind = MESSAGE_SUBTYPES[rec.subtype];
  if (kind === undefined) return false;
  const b = rec.body;
  const asLen = kind.as4 ? 4 : 2;
  let p = 0;
  if (b.length < 2 * asLen + 4) throw short(rec, 'BGP4MP header');
  out.peerAs = asLen === 4 ? b.readUInt32BE(p) : b.readUInt16BE(p);
  p += asLen;
  out.localAs = asLen === 4 ? b.readUInt32BE(p) : b.readUInt16BE(p);
  p += asLen;
  out.ifIndex = b.readUInt16BE(p);
  out.afi = b.readUInt16BE(p + 2);
  p += 4;
  const alen = out.afi === Afi.IPV6 ? 16 : out.afi === Afi.IPV4 ? 4 : -1;
  if (alen < 0) throw new MrtError(`MRT record at ${rec.offset}: BGP4MP address family ${out.afi}`);
  if (b.length < p + 2 * alen + HEADER_LEN) throw short(rec, 'BGP4MP addresses');
  out.peerAddress = b.subarray(p, p + alen);
  out.localAddress = b.subarray(p + alen, p + 2 * alen);
  p += 2 * alen;
  const mlen = b.readUInt16BE(p + 16);
  if (mlen < HEADER_LEN || p + mlen > b.length) throw short(rec, 'BGP message');
  out.as4 = kind.as4;
  out.local = kind.local;
  out.addPath = kind.addPath;
  out.body = b;
  out.msgStart = p;
  out.msgEnd = p + mlen;
  out.msgType = b[p + 18]!;
  return true;
}

// ---------------------------------------------------------------------------
// TABLE_DUMP_V2 (RFC 6396 §4.3)

export interface MrtPeer {
  readonly index: number;
  readonly bgpId: number;
  readonly afi: number;
  readonly address: string;
  readonly asn: number;
}

export interface PeerIndexTable {
  readonly collectorId: number;
  readonly viewName: string;
  readonly peers: readonly MrtPeer[];
}

export function decodePeerIndexTable(rec: MrtRecord): PeerIndexTable {
  const b = rec.body;
  if (b.length < 8) throw short(rec, 'PEER_INDEX_TABLE header');
  const collectorId = b.readUInt32BE(0);
  const nameLen = b.readUInt16BE(4);
  if (b.length < 8 + nameLen) throw short(rec, 'view name');
  const viewName = b.toString('utf8', 6, 6 + nameLen);
  let p = 6 + nameLen;
  const count = b.readUInt16BE(p);
  p += 2;
  const peers: MrtPeer[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 1 > b.length) throw short(rec, 'peer entry');
    const type = b[p]!;
    const v6 = (type & 1) !== 0;
    const as4 = (type & 2) !== 0;
    const alen = v6 ? 16 : 4;
    const need = 1 + 4 + alen + (as4 ? 4 : 2);
    if (p + need > b.length) throw short(rec, 'peer entry');
    const bgpId = b.readUInt32BE(p + 1);
    const afi = v6 ? Afi.IPV6 : Afi.IPV4;
    const address = formatAddress(afi, b.subarray(p + 5, p + 5 + alen));
    const asn = as4 ? b.readUInt32BE(p + 5 + alen) : b.readUInt16BE(p + 5 + alen);
    peers.push({ index: i, bgpId, afi, address, asn });
    p += need;
  }
  return { collectorId, viewName, peers };
}

/** Reads a prefix (length octet + significant bytes) at `p` into four words; returns the new offset. */
function readPrefix(b: Buffer, p: number, maxBits: number, words: Uint32Array, rec: MrtRecord): number {
  if (p >= b.length) throw short(rec, 'prefix');
  const len = b[p]!;
  if (len > maxBits) throw new MrtError(`MRT record at ${rec.offset}: prefix length ${len}`);
  const nb = (len + 7) >>> 3;
  if (p + 1 + nb > b.length) throw short(rec, 'prefix');
  words.fill(0);
  for (let i = 0; i < nb; i++) {
    const w = i >>> 2;
    words[w] = (words[w]! | (b[p + 1 + i]! << (24 - 8 * (i & 3)))) >>> 0;
  }
  // Clear bits beyond the length (RFC 4271: they are to be ignored).
  for (let w = 0; w < 4; w++) {
    const bits = len - 32 * w;
    const mask = bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    words[w] = (words[w]! & mask) >>> 0;
  }
  return p + 1 + nb;
}

/**
 * A RIB_* record: the prefix, then its entries through `nextEntry()`. Only unicast
 * IPv4/IPv6 records are decoded (multicast and other RIB_GENERIC families are skipped).
 */
export class RibRecord {
  sequence = 0;
  afi = 0;
  addPath = false;
  /** Prefix words (IPv4 uses words[0]), host bits clear. */
  readonly words = new Uint32Array(4);
  prefixLen = 0;
  entryCount = 0;
  // The current entry (after nextEntry() returned true):
  peerIndex = 0;
  originated = 0;
  pathId = 0;
  /** The entry's attributes are body[attrStart, attrEnd). */
  attrStart = 0;
  attrEnd = 0;
  body: Buffer = EMPTY;
  private pos = 0;
  private left = 0;
  private rec: MrtRecord | null = null;

  nextEntry(): boolean {
    if (this.left === 0) return false;
    const b = this.body;
    let p = this.pos;
    const need = 6 + (this.addPath ? 4 : 0) + 2;
    if (p + need > b.length) throw short(this.rec!, 'RIB entry');
    this.peerIndex = b.readUInt16BE(p);
    this.originated = b.readUInt32BE(p + 2);
    p += 6;
    if (this.addPath) {
      this.pathId = b.readUInt32BE(p);
      p += 4;
    } else {
      this.pathId = 0;
    }
    const alen = b.readUInt16BE(p);
    p += 2;
    if (p + alen > b.length) throw short(this.rec!, 'RIB entry attributes');
    this.attrStart = p;
    this.attrEnd = p + alen;
    this.pos = p + alen;
    this.left--;
    return true;
  }

  /** @internal */
  begin(rec: MrtRecord, afi: number, addPath: boolean, pos: number): void {
    this.rec = rec;
    this.body = rec.body;
    this.afi = afi;
    this.addPath = addPath;
    const b = rec.body;
    if (pos + 2 > b.length) throw short(rec, 'RIB entry count');
    this.entryCount = b.readUInt16BE(pos);
    this.left = this.entryCount;
    this.pos = pos + 2;
  }
}

const RIB_SUBTYPES: Readonly<Record<number, { afi: number; addPath: boolean }>> = {
  2: { afi: Afi.IPV4, addPath: false },
  4: { afi: Afi.IPV6, addPath: false },
  8: { afi: Afi.IPV4, addPath: true },
  10: { afi: Afi.IPV6, addPath: true },
};

/** Decodes a unicast RIB record's header into `out`; false for anything else. */
export function decodeRib(rec: MrtRecord, out: RibRecord): boolean {
  if (rec.type !== MrtType.TABLE_DUMP_V2) return false;
  const b = rec.body;
  const st = rec.subtype;
  let afi: number;
  let addPath: boolean;
  let p: number;
  const known = RIB_SUBTYPES[st];
  if (known !== undefined) {
    afi = known.afi;
    addPath = known.addPath;
    if (b.length < 5) throw short(rec, 'RIB header');
    out.sequence = b.readUInt32BE(0);
    p = 4;
  } else if (st === TableDumpV2Subtype.RIB_GENERIC || st === TableDumpV2Subtype.RIB_GENERIC_ADDPATH) {
    if (b.length < 8) throw short(rec, 'RIB_GENERIC header');
    out.sequence = b.readUInt32BE(0);
    afi = b.readUInt16BE(4);
    const safi = b[6]!;
    if ((afi !== Afi.IPV4 && afi !== Afi.IPV6) || safi !== 1) return false;
    addPath = st === TableDumpV2Subtype.RIB_GENERIC_ADDPATH;
    p = 7;
  } else {
    return false;
  }
  const lenAt = p;
  p = readPrefix(b, p, afi === Afi.IPV6 ? 128 : 32, out.words, rec);
  out.prefixLen = b[lenAt]!;
  out.begin(rec, afi, addPath, p);
  return true;
}

// ---------------------------------------------------------------------------
// TABLE_DUMP (v1, RFC 6396 §4.2)

export class TableDumpEntry {
  afi = 0;
  viewNumber = 0;
  sequence = 0;
  readonly words = new Uint32Array(4);
  prefixLen = 0;
  status = 0;
  originated = 0;
  peerAddress: Buffer = EMPTY;
  /** 2-octet AS (v1 has no 4-octet form); AS_PATH in the attributes holds 2-byte ASNs. */
  peerAs = 0;
  body: Buffer = EMPTY;
  attrStart = 0;
  attrEnd = 0;

  peerAddressString(): string {
    return formatAddress(this.afi, this.peerAddress);
  }
}

/** Decodes a TABLE_DUMP record (subtype = AFI); false for other types or families. */
export function decodeTableDump(rec: MrtRecord, out: TableDumpEntry): boolean {
  if (rec.type !== MrtType.TABLE_DUMP) return false;
  const afi = rec.subtype;
  if (afi !== Afi.IPV4 && afi !== Afi.IPV6) return false;
  const alen = afi === Afi.IPV6 ? 16 : 4;
  const b = rec.body;
  const fixed = 4 + alen + 1 + 1 + 4 + alen + 2 + 2;
  if (b.length < fixed) throw short(rec, 'TABLE_DUMP entry');
  out.afi = afi;
  out.viewNumber = b.readUInt16BE(0);
  out.sequence = b.readUInt16BE(2);
  const w = out.words;
  w.fill(0);
  for (let i = 0; i < alen; i += 4) w[i >>> 2] = b.readUInt32BE(4 + i);
  let p = 4 + alen;
  const len = b[p]!;
  if (len > alen * 8) throw new MrtError(`MRT record at ${rec.offset}: prefix length ${len}`);
  for (let k = 0; k < 4; k++) {
    const bits = len - 32 * k;
    const mask = bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    w[k] = (w[k]! & mask) >>> 0;
  }
  out.prefixLen = len;
  out.status = b[p + 1]!;
  out.originated = b.readUInt32BE(p + 2);
  p += 6;
  out.peerAddress = b.subarray(p, p + alen);
  p += alen;
  out.peerAs = b.readUInt16BE(p);
  const attrLen = b.readUInt16BE(p + 2);
  p += 4;
  if (p + attrLen > b.length) throw short(rec, 'TABLE_DUMP attributes');
  out.body = b;
  out.attrStart = p;
  out.attrEnd = p + attrLen;
  return true;
}

// ---------------------------------------------------------------------------
// Files

export interface MrtReadStats {
  records: number;
  /** Uncompressed bytes read. */
  bytes: number;
  /** Bytes of a truncated last record, ignored. */
  truncated: number;
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Streams an MRT file (gzip-compressed or plain) and calls `onRecord` for every record,
 * in order. The record object is reused: copy anything needed after the call returns.
 */
export async function readMrt(path: string, onRecord: (rec: MrtRecord) => void): Promise<MrtReadStats> {
  const gz = await isGzip(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gz ? file.pipe(createGunzip({ chunkSize: 1 << 18 })) : file;
  if (gz) file.on('error', (e) => stream.destroy(e));
  const splitter = new MrtSplitter();
  const rec = new MrtRecord();
  const stats: MrtReadStats = { records: 0, bytes: 0, truncated: 0 };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      stats.bytes += chunk.length;
      splitter.push(chunk);
      while (splitter.next(rec)) {
        stats.records++;
        onRecord(rec);
      }
    }
  } finally {
    file.destroy();
    if (gz) stream.destroy();
  }
  stats.truncated = splitter.pending;
  return stats;
}
