// Structure-aware mutation of a byte stream of BGP messages: split at the header
// lengths, change one message (OPEN capabilities, an UPDATE through update-model.ts,
// header fields) or the sequence, and write every header length back consistently.
import { mutateRaw } from '../mutate.js';
import type { Rng } from '../rng.js';
import { mutateUpdate } from './update-model.js';

export interface Msg {
  /** Marker bytes as found (normally 16 × 0xff). */
  marker: Buffer;
  type: number;
  body: Buffer;
}

const HEADER_LEN = 19;

/** Splits a stream at its header lengths; a trailing partial message is kept as its own body. */
export function parseStream(b: Buffer): Msg[] | undefined {
  const out: Msg[] = [];
  let p = 0;
  while (p < b.length) {
    if (p + HEADER_LEN > b.length) return undefined;
    const len = (b[p + 16]! << 8) | b[p + 17]!;
    if (len < HEADER_LEN || p + len > b.length) return undefined;
    out.push({ marker: b.subarray(p, p + 16), type: b[p + 18]!, body: b.subarray(p + HEADER_LEN, p + len) });
    p += len;
  }
  return out;
}

export function msgBytes(m: Msg, maxLen = 65535): Buffer {
  const body = m.body.subarray(0, maxLen - HEADER_LEN);
  const len = HEADER_LEN + body.length;
  return Buffer.concat([m.marker, Buffer.of(len >>> 8, len & 0xff, m.type), body]);
}

export function serializeStream(msgs: readonly Msg[], maxLen: number): Buffer {
  const out = Buffer.concat(msgs.map((m) => msgBytes(m)));
  return out.length > maxLen ? out.subarray(0, maxLen) : out;
}

// ---------------------------------------------------------------------------
// OPEN bodies: version(1) myAs(2) hold(2) id(4) optLen(1) params, capabilities inside.

interface Cap {
  code: number;
  value: Buffer;
}
interface OpenModel {
  fixed: Buffer; // 9 bytes
  extended: boolean;
  params: { type: number; caps: Cap[] | undefined; raw: Buffer }[];
}

function parseOpen(b: Buffer): OpenModel | undefined {
  if (b.length < 10) return undefined;
  const optLen = b[9]!;
  let p = 10;
  const extended = optLen !== 0 && b[10] === 255;
  let end: number;
  if (extended) {
    if (b.length < 13) return undefined;
    end = 13 + ((b[11]! << 8) | b[12]!);
    p = 13;
  } else {
    end = 10 + optLen;
  }
  if (end !== b.length) return undefined;
  const params: OpenModel['params'] = [];
  while (p < end) {
    const hl = extended ? 3 : 2;
    if (p + hl > end) return undefined;
    const type = b[p]!;
    const len = extended ? (b[p + 1]! << 8) | b[p + 2]! : b[p + 1]!;
    if (p + hl + len > end) return undefined;
    const raw = b.subarray(p + hl, p + hl + len);
    params.push({ type, caps: type === 2 ? parseCaps(raw) : undefined, raw });
    p += hl + len;
  }
  return { fixed: b.subarray(0, 9), extended, params };
}

function parseCaps(b: Buffer): Cap[] | undefined {
  const caps: Cap[] = [];
  let p = 0;
  while (p < b.length) {
    if (p + 2 > b.length) return undefined;
    const len = b[p + 1]!;
    if (p + 2 + len > b.length) return undefined;
    caps.push({ code: b[p]!, value: b.subarray(p + 2, p + 2 + len) });
    p += 2 + len;
  }
  return caps;
}

function capBytes(c: Cap): Buffer {
  const v = c.value.subarray(0, 255);
  return Buffer.concat([Buffer.of(c.code, v.length), v]);
}

function serializeOpen(m: OpenModel): Buffer {
  const params = m.params.map((pr) => {
    const v = pr.caps !== undefined ? Buffer.concat(pr.caps.map(capBytes)) : pr.raw;
    return m.extended ? Buffer.concat([Buffer.of(pr.type, v.length >>> 8, v.length & 0xff), v]) : Buffer.concat([Buffer.of(pr.type, v.length & 0xff), v.subarray(0, 255)]);
  });
  const all = Buffer.concat(params);
  const ext = m.extended || all.length > 255;
  if (ext && !m.extended) return serializeOpen({ ...m, extended: true });
  const head = ext ? Buffer.of(255, 255, all.length >>> 8, all.length & 0xff) : Buffer.of(all.length);
  return Buffer.concat([m.fixed, head, all]);
}

/** Capabilities worth trying: each code with a valid value and with a bad length. */
function randomCap(rng: Rng): Cap {
  const valid: Cap[] = [
    { code: 1, value: Buffer.of(0, rng.pick([1, 2, 25, 0]), 0, rng.pick([1, 2, 128])) },
    { code: 2, value: Buffer.alloc(0) },
    { code: 128, value: Buffer.alloc(0) },
    { code: 70, value: Buffer.alloc(0) },
    { code: 6, value: Buffer.alloc(0) },
    { code: 65, value: Buffer.of(rng.byte(), rng.byte(), rng.byte(), rng.byte()) },
    { code: 9, value: Buffer.of(rng.below(6)) },
    { code: 64, value: Buffer.of(rng.pick([0x80, 0x40, 0xc0, 0]), 120, 0, 1, 1, 0x80, 0, 2, 1, 0) },
    { code: 69, value: Buffer.of(0, 1, 1, rng.below(5), 0, 2, 1, rng.below(5)) },
    { code: rng.byte(), value: Buffer.from('6869', 'hex') },
  ];
  const c = rng.pick(valid);
  if (rng.oneIn(4)) {
    const v = rng.oneIn(2) ? c.value.subarray(0, rng.below(c.value.length + 1)) : Buffer.concat([c.value, Buffer.of(rng.byte())]);
    return { code: c.code, value: v };
  }
  return c;
}

function mutateOpen(body: Buffer, rng: Rng): Buffer | undefined {
  const m = parseOpen(body);
  if (m === undefined) return undefined;
  const capsParams = m.params.filter((p) => p.caps !== undefined);
  switch (rng.below(7)) {
    case 0: {
      // fixed fields: version, AS, hold time, identifier
      const f = Buffer.from(m.fixed);
      const which = rng.below(4);
      if (which === 0) f[0] = rng.pick([0, 3, 4, 5, 255]);
      else if (which === 1) f.writeUInt16BE(rng.pick([0, 23456, 65535, 65001, 1]), 1);
      else if (which === 2) f.writeUInt16BE(rng.pick([0, 1, 2, 3, 90, 65535]), 3);
      else f.writeUInt32BE(rng.pick([0, 1, 0xffffffff, 0x0a000001]), 5);
      m.fixed = f;
      break;
    }
    case 1:
      m.extended = !m.extended;
      break;
    case 2: // add a capability
      if (capsParams.length === 0) m.params.push({ type: 2, caps: [randomCap(rng)], raw: Buffer.alloc(0) });
      else rng.pick(capsParams).caps!.push(randomCap(rng));
      break;
    case 3: {
      // remove or duplicate a capability
      if (capsParams.length === 0) break;
      const caps = rng.pick(capsParams).caps!;
      if (caps.length === 0) break;
      const i = rng.below(caps.length);
      if (rng.oneIn(2)) caps.splice(i, 1);
      else caps.splice(rng.below(caps.length + 1), 0, caps[i]!);
      break;
    }
    case 4: {
      // capability value bytes
      if (capsParams.length === 0) break;
      const caps = rng.pick(capsParams).caps!;
      if (caps.length === 0) break;
      const c = rng.pick(caps);
      c.value = mutateRaw(c.value, rng, { maxLen: 255, other: c.value, layout: () => ({ lengths: [], tlvs: [], prefixLens: [] }) });
      break;
    }
    case 5: // another parameter type, or many parameters
      if (rng.oneIn(2)) m.params.push({ type: rng.pick([1, 3, 255, 0]), caps: undefined, raw: Buffer.of(1, 2) });
      else m.params.push({ type: 2, caps: [randomCap(rng), randomCap(rng)], raw: Buffer.alloc(0) });
      break;
    default:
      // so many capabilities that the RFC 9072 form is needed
      m.params.push({ type: 2, caps: Array.from({ length: 70 }, () => randomCap(rng)), raw: Buffer.alloc(0) });
  }
  return serializeOpen(m);
}

// ---------------------------------------------------------------------------

const LIBRARY_TYPES = [1, 2, 3, 4, 5, 0, 6, 255];

export function mutateStream(b: Buffer, rng: Rng, other: Buffer, maxLen: number, library: readonly Buffer[]): Buffer | undefined {
  const msgs = parseStream(b);
  if (msgs === undefined) return undefined;
  switch (rng.below(9)) {
    case 0:
    case 1:
    case 2: {
      // change one message's body
      if (msgs.length === 0) break;
      const m = rng.pick(msgs);
      let body: Buffer | undefined;
      if (m.type === 2) body = mutateUpdate(m.body, rng, m.body);
      else if (m.type === 1) body = mutateOpen(m.body, rng);
      m.body = body ?? mutateRaw(m.body, rng, { maxLen: maxLen - HEADER_LEN, other: m.body, layout: () => ({ lengths: [], tlvs: [], prefixLens: [] }) });
      break;
    }
    case 3: // type byte
      if (msgs.length > 0) rng.pick(msgs).type = rng.pick(LIBRARY_TYPES);
      break;
    case 4: {
      // marker
      if (msgs.length === 0) break;
      const m = rng.pick(msgs);
      const mk = Buffer.from(m.marker);
      mk[rng.below(16)] = rng.byte();
      m.marker = mk;
      break;
    }
    case 5: // duplicate or drop a message
      if (msgs.length === 0) break;
      if (rng.oneIn(2)) msgs.splice(rng.below(msgs.length), 1);
      else msgs.splice(rng.below(msgs.length + 1), 0, { ...rng.pick(msgs) });
      break;
    case 6: {
      // a message from the library or from the other input
      const pool = [...library, ...(parseStream(other) ?? []).map((m) => msgBytes(m))];
      if (pool.length === 0) break;
      const add = parseStream(rng.pick(pool));
      if (add !== undefined && add.length > 0) msgs.splice(rng.below(msgs.length + 1), 0, rng.pick(add));
      break;
    }
    case 7: {
      // swap
      if (msgs.length < 2) break;
      const i = rng.below(msgs.length);
      const j = rng.below(msgs.length);
      [msgs[i], msgs[j]] = [msgs[j]!, msgs[i]!];
      break;
    }
    default: {
      // grow a body past 4096 (extended messages) or to the limit
      if (msgs.length === 0) break;
      const m = rng.pick(msgs);
      const pad = rng.pick([4096 - HEADER_LEN - m.body.length, 4097 - HEADER_LEN - m.body.length, 5000]);
      if (pad > 0) m.body = Buffer.concat([m.body, Buffer.alloc(pad, rng.byte())]);
    }
  }
  if (msgs.length === 0) return Buffer.alloc(0);
  return serializeStream(msgs, maxLen);
}
