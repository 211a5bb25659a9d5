// 32-bit FNV-1a over a byte range: the intern key hash of an attribute set. Not a
// defence against chosen collisions; the RIB confirms every hit by comparing bytes.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fnv1a(buf: Uint8Array, start = 0, end = buf.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  return h >>> 0;
}
