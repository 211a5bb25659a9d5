// The RIB of one BGP instance: one attribute store and peer table shared by the
// IPv4 and IPv6 Loc-RIBs. Wiring only; the work is in the modules it holds.
import { Afi } from '../wire/iana.js';
import { AdjRibIn } from './adj-rib-in.js';
import { AttrStore } from './attr-store.js';
import { LocRib, type LocRibOptions } from './loc-rib.js';
import { PeerTable, type PeerInfo } from './peers.js';

export class Rib {
  readonly store: AttrStore;
  readonly peers: PeerTable;
  readonly v4: LocRib;
  readonly v6: LocRib;

  /** `local` describes this speaker (peer index 0, for locally originated routes). */
  constructor(local: PeerInfo, opts: Partial<LocRibOptions> = {}, storeCapacity = 1024, decodedCacheSize = 4096) {
    this.store = new AttrStore({ initialCapacity: storeCapacity, cacheSize: decodedCacheSize });
    this.peers = new PeerTable(local);
    this.v4 = new LocRib(Afi.IPV4, this.store, this.peers, opts);
    this.v6 = new LocRib(Afi.IPV6, this.store, this.peers, opts);
  }

  family(afi: number): LocRib {
    if (afi === Afi.IPV4) return this.v4;
    if (afi === Afi.IPV6) return this.v6;
    throw new RangeError(`unsupported AFI ${afi}`);
  }

  /** A new Adj-RIB-In view for a registered peer in one family. */
  adjRibIn(peer: number, afi: number, keepPrePolicy = false): AdjRibIn {
    return new AdjRibIn(this.family(afi), peer, keepPrePolicy);
  }
}
