// Interned next hops: address bytes → small int id, refcounted, with the resolution
// state the decision process reads (RFC 4271 §9.1.2 step "next hop resolvable" and
// the IGP cost step). Few distinct next hops exist (about one per peer), so the index
// is a Map keyed by the bytes as a latin1 string; it is touched once per new
// attribute set, never per prefix.
//
// An id is shared by every peer that sent the same bytes. For an IPv6 link-local next
// hop the link depends on the session, so the FIB side (daemon/fib-sync.ts) keys its
// next-hop handles by (id, peer) and installs `via fe80::… dev <session interface>`;
// the resolvable flag and metric here stay per id (a link-local next hop is resolvable,
// metric 0). The resolver fills them in: connected (metric 0), or recursive through
// another owner's kernel route (that route's metric).

/** Id of "no next hop": locally originated routes. Always resolvable, metric 0, never freed. */
export const NEXTHOP_SELF = 0;

function indexKey(b: Uint8Array): number | string {
  if (b.length === 4) return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

export class NextHopTable {
  private readonly index = new Map<number | string, number>();
  private addrs: (Buffer | null)[] = [Buffer.alloc(0)];
  private refs = new Int32Array(16);
  /** 1 when the next hop is usable (default: yes, a directly connected peer). */
  resolvable = new Uint8Array(16);
  /** IGP metric to the next hop (0 for directly connected, the default). */
  metric = new Uint32Array(16);
  private freeIds: number[] = [];
  /** Bumped whenever a resolution changes, so the RIB can tell it must re-run decisions. */
  generation = 0;

  constructor() {
    this.resolvable[NEXTHOP_SELF] = 1;
    this.refs[NEXTHOP_SELF] = 1;
  }

  /** Id for these address bytes (4, 16 or 32 = global + link-local), taking one reference. */
  acquire(bytes: Uint8Array): number {
    if (bytes.length === 0) return NEXTHOP_SELF;
    const k = indexKey(bytes);
    let id = this.index.get(k);
    if (id === undefined) {
      id = this.freeIds.pop() ?? this.addrs.length;
      if (id >= this.refs.length) this.grow(this.refs.length * 2);
      const copy = Buffer.from(bytes);
      if (id === this.addrs.length) this.addrs.push(copy);
      else this.addrs[id] = copy;
      this.index.set(k, id);
      this.refs[id] = 0;
      this.resolvable[id] = 1;
      this.metric[id] = 0;
    }
    this.refs[id]!++;
    return id;
  }

  release(id: number): void {
    if (id === NEXTHOP_SELF) return;
    const r = --this.refs[id]!;
    if (r > 0) return;
    if (r < 0) throw new Error(`next hop ${id} released too often`);
    const a = this.addrs[id]!;
    this.index.delete(indexKey(a));
    this.addrs[id] = null;
    this.freeIds.push(id);
  }

  /** Id of these bytes if interned, else -1 (for the daemon's resolver). */
  lookup(bytes: Uint8Array): number {
    if (bytes.length === 0) return NEXTHOP_SELF;
    return this.index.get(indexKey(bytes)) ?? -1;
  }

  /** The address bytes of a live id (empty for NEXTHOP_SELF). */
  address(id: number): Buffer {
    const a = this.addrs[id];
    if (a === undefined || a === null) throw new RangeError(`next hop ${id} is not live`);
    return a;
  }

  /** Live ids, for the resolver to walk. */
  ids(): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.addrs.length; i++) if (this.addrs[i] !== null) out.push(i);
    return out;
  }

  /** Records the resolver's answer; returns true when it changed anything. */
  setResolution(id: number, resolvable: boolean, metric: number): boolean {
    if (id === NEXTHOP_SELF) return false;
    const r = resolvable ? 1 : 0;
    if (this.resolvable[id] === r && this.metric[id] === metric >>> 0) return false;
    this.resolvable[id] = r;
    this.metric[id] = metric >>> 0;
    this.generation++;
    return true;
  }

  refCount(id: number): number {
    return this.refs[id] ?? 0;
  }

  private grow(n: number): void {
    const r = new Int32Array(n);
    r.set(this.refs);
    this.refs = r;
    const v = new Uint8Array(n);
    v.set(this.resolvable);
    this.resolvable = v;
    const m = new Uint32Array(n);
    m.set(this.metric);
    this.metric = m;
  }
}
