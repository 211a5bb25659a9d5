// Peer metadata the decision process needs, by peer index. Index 0 is the local
// speaker (locally originated routes). The hot fields are mirrored in typed arrays.

export interface PeerInfo {
  /** 4 (IPv4) or 16 (IPv6) address bytes of the peer's session address. */
  readonly address: Uint8Array;
  /** The peer's BGP Identifier (u32). */
  readonly bgpId: number;
  /** The peer's AS. */
  readonly asn: number;
  /** External peer (confederation-external peers count as internal: RFC 5065 §5.3). */
  readonly ebgp: boolean;
  /** Our AS on this session. */
  readonly localAs: number;
}

export const LOCAL_PEER = 0;
const MAX_PEERS = 0xffff; // the Loc-RIB stores peer indexes in a Uint16Array

export class PeerTable {
  private infos: (PeerInfo | null)[] = [];
  private freeIdx: number[] = [];
  bgpId = new Uint32Array(16);
  ebgp = new Uint8Array(16);
  /** Address as four words, IPv4 as ::ffff:a.b.c.d so both families order in one space. */
  addrWords = new Uint32Array(64);

  constructor(local: PeerInfo) {
    this.add(local);
  }

  /** Registers a peer; returns its index (reuses freed ones). */
  add(info: PeerInfo): number {
    const idx = this.freeIdx.pop() ?? this.infos.length;
    if (idx > MAX_PEERS) throw new RangeError('too many peers');
    if (idx >= this.bgpId.length) this.grow(this.bgpId.length * 2);
    if (idx === this.infos.length) this.infos.push(info);
    else this.infos[idx] = info;
    this.bgpId[idx] = info.bgpId >>> 0;
    this.ebgp[idx] = info.ebgp ? 1 : 0;
    const a = info.address;
    const o = idx * 4;
    if (a.length === 4) {
      this.addrWords[o] = 0;
      this.addrWords[o + 1] = 0;
      this.addrWords[o + 2] = 0xffff;
      this.addrWords[o + 3] = ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
    } else if (a.length === 16) {
      for (let i = 0; i < 4; i++) {
        const p = i * 4;
        this.addrWords[o + i] = ((a[p]! << 24) | (a[p + 1]! << 16) | (a[p + 2]! << 8) | a[p + 3]!) >>> 0;
      }
    } else throw new RangeError('peer address must be 4 or 16 bytes');
    return idx;
  }

  /** Updates a peer's metadata in place (e.g. its BGP Identifier after OPEN). */
  set(idx: number, info: PeerInfo): void {
    this.get(idx);
    this.infos[idx] = null;
    this.freeIdx.push(idx);
    const again = this.add(info);
    if (again !== idx) throw new Error('peer index changed');
  }

  /** Frees an index; its routes must already be gone from every RIB. */
  remove(idx: number): void {
    if (idx === LOCAL_PEER) throw new RangeError('the local peer cannot be removed');
    this.get(idx);
    this.infos[idx] = null;
    this.freeIdx.push(idx);
  }

  get(idx: number): PeerInfo {
    const p = this.infos[idx];
    if (p === undefined || p === null) throw new RangeError(`no peer ${idx}`);
    return p;
  }

  has(idx: number): boolean {
    return this.infos[idx] !== undefined && this.infos[idx] !== null;
  }

  private grow(n: number): void {
    const b = new Uint32Array(n);
    b.set(this.bgpId);
    this.bgpId = b;
    const e = new Uint8Array(n);
    e.set(this.ebgp);
    this.ebgp = e;
    const w = new Uint32Array(n * 4);
    w.set(this.addrWords);
    this.addrWords = w;
  }
}
