// RFC 6793 §4.2.3: rebuilding the 4-octet path and aggregator from an OLD (2-octet) peer.
import { AS_TRANS, AsPathSegment as SegType } from '../iana.js';
import { asPathCount, isConfedSegment } from './as-path.js';
import type { DecodeScratch } from './descriptor.js';
import type { AsPathSegment, PathAttributes } from './types.js';

/**
 * Merges AS_PATH (2-octet, with AS_TRANS) and AS4_PATH. If AS_PATH counts fewer ASNs
 * than AS4_PATH, AS4_PATH is ignored. Otherwise the result is the leading part of
 * AS_PATH (as many ASNs as AS_PATH has more than AS4_PATH; confederation segments at
 * the front or next to a taken segment come along) followed by AS4_PATH.
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const total = asPathCount(asPath);
  const total4 = asPathCount(as4Path);
  if (total < total4) return asPath.slice();
  let need = total - total4;
  const lead: AsPathSegment[] = [];
  for (const seg of asPath) {
    if (isConfedSegment(seg)) {
      // Counts 0; we only get here while still at the front or next to a taken segment.
      lead.push(seg);
      continue;
    }
    if (need === 0) break;
    if (seg.type === SegType.AS_SET || seg.asns.length <= need) {
      lead.push(seg);
      need -= seg.type === SegType.AS_SET ? 1 : seg.asns.length;
    } else {
      lead.push({ type: SegType.AS_SEQUENCE, asns: seg.asns.slice(0, need) });
      need = 0;
    }
  }
  const out = lead.concat(as4Path);
  // Join the seam when both sides are sequences, as a speaker that saw 4-octet ASNs would have.
  const k = lead.length;
  const a = out[k - 1];
  const b = out[k];
  if (
    a !== undefined &&
    b !== undefined &&
    a.type === SegType.AS_SEQUENCE &&
    b.type === SegType.AS_SEQUENCE &&
    a.asns.length + b.asns.length <= 255
  ) {
    out.splice(k - 1, 2, { type: SegType.AS_SEQUENCE, asns: a.asns.concat(b.asns) });
  }
  return out;
}

/**
 * Applies AS4_PATH / AS4_AGGREGATOR to attributes read from an OLD peer. When
 * AGGREGATOR is present and is not AS_TRANS, both AS4 attributes are ignored (the
 * aggregation happened at an OLD speaker, after the AS4 information was made).
 * `asPathValid` is false when AS_PATH itself was malformed: then nothing is merged.
 */
export function applyAs4(out: PathAttributes, scratch: DecodeScratch, asPathValid: boolean): void {
  const agg = out.aggregator;
  if (agg !== undefined && agg.asn !== AS_TRANS) return;
  if (agg !== undefined && scratch.as4Aggregator !== undefined) out.aggregator = scratch.as4Aggregator;
  if (asPathValid && scratch.as4Path !== undefined) out.asPath = mergeAs4Path(out.asPath, scratch.as4Path);
}
