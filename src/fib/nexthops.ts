// Next hops: the daemon names sets of gateways by a handle; we resolve each
// gateway to an interface from the connected subnets of links that are up,
// back the set with kernel nexthop objects (one per gateway+interface, plus an
// ECMP group), and give every route a "form": the prebuilt nexthop attribute
// block the route message carries. Routes are equal to what the kernel holds
// when their form ids are equal.
//
// A set none of whose gateways is on a connected subnet is written the old way
// (RTA_GATEWAY without an interface): the kernel resolves it or answers
// ENETUNREACH, which is reported. Nexthop objects need an interface, so they
// only serve directly connected gateways.
import { type Family, formatIp, isLinkLocal6, parseIp, prefixContains } from './ip.js';
import { IfaF } from './netlink/constants.js';
import {
  type AddrMsg,
  type GatewaySpec,
  type GroupMember,
  type LinkMsg,
  type NexthopMsg,
  type RouteView,
  gatewayBlock,
  nhIdBlock,
  routeNexthops,
} from './netlink/codec.js';

export interface GatewayInput {
  /** IPv4 or IPv6 address (an IPv6 link-local one needs `ifindex`). */
  readonly address: string;
  /** Interface the gateway is reached through; 0/absent: find it from connected subnets. */
  readonly ifindex?: number;
  /** ECMP weight, 1..256 (default 1). */
  readonly weight?: number;
}

interface Gw {
  readonly family: Family;
  readonly addr: Uint8Array;
  readonly ifindex: number;
  readonly weight: number;
  readonly text: string;
}

export const ObjState = { NEW: 0, PENDING: 1, OK: 2, FAILED: 3 } as const;
export type ObjState = (typeof ObjState)[keyof typeof ObjState];

export interface NhObject {
  id: number;
  readonly key: string;
  /** 0 for a group. */
  readonly family: Family | 0;
  readonly addr: Uint8Array | null;
  readonly oif: number;
  readonly members: readonly GroupMember[] | null;
  state: ObjState;
  errno: number;
}

interface NhSet {
  readonly handle: number;
  readonly gws: readonly Gw[];
  /** Form id for IPv4 routes and for IPv6 routes. */
  form4: number;
  form6: number;
}

export interface NhOp {
  readonly kind: 'add' | 'del';
  readonly obj: NhObject;
}

export interface NexthopOptions {
  readonly protocol: number;
  /** First nexthop object id we allocate. */
  readonly idBase: number;
  /** false: never create nexthop objects (kernels before 5.3). */
  readonly useObjects: boolean;
}

const ID_SPAN = 0x1000000;

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function gwKey(g: Gw): string {
  return `${hex(g.addr)}%${g.ifindex}*${g.weight}`;
}

export class Nexthops {
  readonly links = new Map<number, LinkMsg>();
  readonly addrs = new Map<number, AddrMsg[]>();
  private readonly sets = new Map<number, NhSet>();
  private readonly objByKey = new Map<string, NhObject>();
  private readonly objById = new Map<number, NhObject>();
  /** Ids held by others (or by our objects the kernel knows under another key). */
  private readonly reserved = new Set<number>();
  private creates: NhObject[] = [];
  private nextId: number;
  // Interned forms.
  private readonly formIds = new Map<string, number>();
  readonly formKeys: string[] = [];
  readonly formBlocks: (Buffer | null)[] = [];
  /** Nexthop object id a form refers to (0 for gateway forms). */
  readonly formObj: number[] = [];

  /** False when nexthop objects are off (by option, or the kernel lacks them). */
  useObjects: boolean;

  constructor(private readonly opts: NexthopOptions) {
    this.nextId = opts.idBase;
    this.useObjects = opts.useObjects;
  }

  /** The kernel has no nexthop objects: every set is written with its gateways from now on. */
  disableObjects(): void {
    this.useObjects = false;
    this.forgetObjects();
    this.resolveAll();
  }

  // ------------------------------------------------------------ links and addresses

  /** True when the link is administratively up: its connected subnets count. */
  usable(index: number): boolean {
    return this.links.get(index)?.up === true;
  }

  /** Records a link; returns true when its usability changed. */
  setLink(l: LinkMsg): boolean {
    const before = this.usable(l.index);
    this.links.set(l.index, l);
    return before !== this.usable(l.index);
  }

  delLink(index: number): boolean {
    const before = this.usable(index);
    this.links.delete(index);
    this.addrs.delete(index);
    return before;
  }

  private sameAddr(a: AddrMsg, b: AddrMsg): boolean {
    return a.family === b.family && a.plen === b.plen && Buffer.compare(a.local, b.local) === 0;
  }

  /** Adds or updates an address; returns true if the connected subnets changed. */
  addAddr(a: AddrMsg): boolean {
    const list = this.addrs.get(a.index) ?? [];
    const i = list.findIndex((x) => this.sameAddr(x, a));
    const changed = i < 0 || list[i]!.flags !== a.flags || Buffer.compare(list[i]!.address, a.address) !== 0;
    if (i >= 0) list[i] = a;
    else list.push(a);
    this.addrs.set(a.index, list);
    return changed;
  }

  delAddr(a: AddrMsg): boolean {
    const list = this.addrs.get(a.index);
    if (!list) return false;
    const i = list.findIndex((x) => this.sameAddr(x, a));
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  resetLinks(links: readonly LinkMsg[], addrs: readonly AddrMsg[]): void {
    this.links.clear();
    this.addrs.clear();
    for (const l of links) this.links.set(l.index, l);
    for (const a of addrs) this.addAddr(a);
  }

  /** The interface through which `g` is directly reachable, 0 if none. */
  private resolveGw(g: Gw): number {
    if (g.ifindex > 0) return this.usable(g.ifindex) ? g.ifindex : 0;
    if (g.family === 6 && isLinkLocal6(g.addr)) return 0;
    let best = 0;
    let bestLen = -1;
    for (const [index, list] of this.addrs) {
      if (!this.usable(index)) continue;
      for (const a of list) {
        if (a.family !== g.family || a.flags & (IfaF.NOPREFIXROUTE | IfaF.DADFAILED)) continue;
        if (Buffer.compare(a.local, g.addr) === 0) return 0; // our own address is no gateway
        if (a.plen > bestLen && prefixContains(a.address, 0, a.plen, g.addr, 0)) {
          best = index;
          bestLen = a.plen;
        }
      }
    }
    return best;
  }

  /** For the CLI: is this address directly reachable, and through which link. */
  connectedVia(address: string): number {
    const a = parseIp(address);
    if (!a) return 0;
    return this.resolveGw({ family: a.family, addr: a.bytes, ifindex: 0, weight: 1, text: address });
  }

  /** True when one of our nexthop objects uses this interface. */
  hasObjectsOn(index: number): boolean {
    for (const o of this.objById.values()) if (o.oif === index && o.state !== ObjState.FAILED) return true;
    return false;
  }

  // ------------------------------------------------------------ forms

  private intern(key: string, block: Buffer | null, obj: number): number {
    let id = this.formIds.get(key);
    if (id === undefined) {
      id = this.formKeys.length;
      this.formIds.set(key, id);
      this.formKeys.push(key);
      this.formBlocks.push(block);
      this.formObj.push(obj);
    } else if (block && !this.formBlocks[id]) {
      this.formBlocks[id] = block;
    }
    return id;
  }

  private objectForm(id: number): number {
    return this.intern(`id:${id}`, nhIdBlock(id), id);
  }

  private gatewayForm(routeFamily: Family, gws: readonly Gw[]): number {
    const sorted = [...gws].sort((a, b) => (gwKey(a) < gwKey(b) ? -1 : 1));
    const key = `gw${routeFamily}:${sorted.map(gwKey).join(',')}`;
    const id = this.formIds.get(key);
    if (id !== undefined && this.formBlocks[id]) return id;
    const specs: GatewaySpec[] = sorted.map((g) => ({ family: g.family, addr: g.addr, oif: g.ifindex, weight: g.weight }));
    return this.intern(key, gatewayBlock(routeFamily, specs), 0);
  }

  /** The form of a route read from the kernel (dump or notification). */
  kernelForm(v: RouteView): number {
    if (v.nhId > 0) return this.objectForm(v.nhId);
    if (v.family === 0) return this.intern('none', null, 0);
    const legs = routeNexthops(v);
    const gws: Gw[] = [];
    for (const l of legs) {
      if (l.gateway === undefined) return this.intern(`dev:${l.oif}`, null, 0);
      const a = parseIp(l.gateway)!;
      const ll = a.family === 6 && isLinkLocal6(a.bytes);
      gws.push({ family: a.family, addr: a.bytes, ifindex: ll ? l.oif : 0, weight: l.weight, text: l.gateway });
    }
    if (gws.length === 0) return this.intern('none', null, 0);
    const sorted = gws.sort((a, b) => (gwKey(a) < gwKey(b) ? -1 : 1));
    return this.intern(`gw${v.family}:${sorted.map(gwKey).join(',')}`, null, 0);
  }

  /** The form routes of `family` using `handle` should have now; -1 for an unknown handle. */
  formOf(handle: number, family: Family): number {
    const s = this.sets.get(handle);
    if (!s) return -1;
    return family === 4 ? s.form4 : s.form6;
  }

  describeForm(form: number): string {
    return this.formKeys[form] ?? '';
  }

  // ------------------------------------------------------------ sets

  /**
   * Defines or redefines next-hop set `handle`. Throws on an invalid address.
   * Returns true when the forms of its routes changed.
   */
  define(handle: number, inputs: readonly GatewayInput[]): boolean {
    if (inputs.length === 0) throw new Error(`next-hop set ${handle}: no gateways`);
    const gws: Gw[] = inputs.map((g) => {
      const a = parseIp(g.address);
      if (!a) throw new Error(`next-hop set ${handle}: invalid address ${g.address}`);
      const weight = Math.max(1, Math.min(256, Math.trunc(g.weight ?? 1)));
      return { family: a.family, addr: a.bytes, ifindex: g.ifindex ?? 0, weight, text: formatIp(a.bytes, 0, a.family) };
    });
    const old = this.sets.get(handle);
    const s: NhSet = { handle, gws, form4: -1, form6: -1 };
    this.sets.set(handle, s);
    this.resolve(s);
    return !old || old.form4 !== s.form4 || old.form6 !== s.form6;
  }

  remove(handle: number): void {
    this.sets.delete(handle);
  }

  clearSets(): void {
    this.sets.clear();
  }

  /** True when a set resolves a gateway through this link or one of our objects uses it. */
  linkUsed(index: number): boolean {
    if (this.hasObjectsOn(index)) return true;
    for (const s of this.sets.values()) for (const g of s.gws) if (this.resolveGw(g) === index) return true;
    return false;
  }

  has(handle: number): boolean {
    return this.sets.has(handle);
  }

  gatewaysOf(handle: number): readonly string[] {
    return this.sets.get(handle)?.gws.map((g) => g.text) ?? [];
  }

  /** The interface each gateway of a set is reached through now (0: none), for the CLI. */
  ifindexesOf(handle: number): readonly number[] {
    return this.sets.get(handle)?.gws.map((g) => this.resolveGw(g)) ?? [];
  }

  /** Re-resolves every set (links, addresses or objects changed); returns the handles whose forms changed. */
  resolveAll(): number[] {
    const changed: number[] = [];
    for (const s of this.sets.values()) {
      const f4 = s.form4;
      const f6 = s.form6;
      this.resolve(s);
      if (s.form4 !== f4 || s.form6 !== f6) changed.push(s.handle);
    }
    return changed;
  }

  private resolve(s: NhSet): void {
    if (!this.useObjects) {
      s.form4 = this.gatewayForm(4, s.gws);
      s.form6 = this.gatewayForm(6, s.gws);
      return;
    }
    const members: NhObject[] = [];
    const weights: number[] = [];
    for (const g of s.gws) {
      const oif = this.resolveGw(g);
      if (oif === 0) continue;
      const o = this.gatewayObject(g, oif);
      if (o.state === ObjState.FAILED) continue;
      members.push(o);
      weights.push(g.weight);
    }
    let obj: NhObject | null = null;
    if (members.length === 1) obj = members[0]!;
    else if (members.length > 1) {
      const g = this.groupObject(members.map((m, i) => ({ id: m.id, weight: weights[i]! })));
      if (g.state !== ObjState.FAILED) obj = g;
    }
    if (!obj) {
      s.form4 = this.gatewayForm(4, s.gws);
      s.form6 = this.gatewayForm(6, s.gws);
      return;
    }
    s.form4 = this.objectForm(obj.id);
    // The kernel refuses IPv4 next hops for IPv6 routes.
    s.form6 = s.gws.every((g) => g.family === 6) ? s.form4 : this.gatewayForm(6, s.gws);
  }

  // ------------------------------------------------------------ objects

  private allocId(): number {
    const base = this.opts.idBase;
    for (let i = 0; i < ID_SPAN; i++) {
      const id = this.nextId;
      this.nextId = this.nextId + 1 >= base + ID_SPAN ? base : this.nextId + 1;
      if (!this.objById.has(id) && !this.reserved.has(id)) return id;
    }
    throw new Error('no free nexthop object id');
  }

  private addObject(o: NhObject): void {
    this.objByKey.set(o.key, o);
    this.objById.set(o.id, o);
    if (o.state === ObjState.NEW) this.creates.push(o);
  }

  private gatewayObject(g: Gw, oif: number): NhObject {
    const key = `g:${hex(g.addr)}%${oif}`;
    let o = this.objByKey.get(key);
    if (!o) {
      o = { id: this.allocId(), key, family: g.family, addr: g.addr, oif, members: null, state: ObjState.NEW, errno: 0 };
      this.addObject(o);
    }
    return o;
  }

  private groupObject(members: GroupMember[]): NhObject {
    const sorted = [...members].sort((a, b) => a.id - b.id);
    const key = `G:${sorted.map((m) => `${m.id}*${m.weight}`).join(',')}`;
    let o = this.objByKey.get(key);
    if (!o) {
      o = { id: this.allocId(), key, family: 0, addr: null, oif: 0, members: sorted, state: ObjState.NEW, errno: 0 };
      this.addObject(o);
    }
    return o;
  }

  /** Objects to create, gateways before the groups that use them. */
  takeCreates(): NhObject[] {
    const out = this.creates.filter((o) => o.state === ObjState.NEW && this.objById.get(o.id) === o);
    this.creates = [];
    out.sort((a, b) => (a.members ? 1 : 0) - (b.members ? 1 : 0));
    for (const o of out) o.state = ObjState.PENDING;
    return out;
  }

  get pendingCreates(): number {
    return this.creates.length;
  }

  /**
   * The kernel answered an object op. Returns true when sets may resolve
   * differently (the caller runs resolveAll and requeues their routes).
   */
  opDone(op: NhOp, errno: number): boolean {
    const o = op.obj;
    if (op.kind === 'del') return false;
    if (this.objById.get(o.id) !== o) return false; // dropped meanwhile
    if (errno === 0) {
      o.state = ObjState.OK;
      return false;
    }
    if (errno === 17 /* EEXIST */) {
      // Someone else took the id: move ours to a fresh one.
      this.objById.delete(o.id);
      this.reserved.add(o.id);
      o.id = this.allocId();
      o.state = ObjState.NEW;
      this.objById.set(o.id, o);
      this.creates.push(o);
      // Groups naming the old id are now stale: drop them, they are rebuilt.
      for (const g of [...this.objById.values()]) {
        if (g.members?.some((m) => m.id === op.obj.id || !this.objById.has(m.id))) this.dropObject(g);
      }
      return true;
    }
    o.state = ObjState.FAILED;
    o.errno = errno;
    return true;
  }

  /** The kernel lost an op's answer (ENOBUFS); the next resync sets the truth. */
  opLost(op: NhOp): void {
    if (op.kind === 'add' && op.obj.state === ObjState.PENDING) {
      op.obj.state = ObjState.NEW;
      this.creates.push(op.obj);
    }
  }

  private dropObject(o: NhObject): void {
    if (this.objById.get(o.id) === o) this.objById.delete(o.id);
    if (this.objByKey.get(o.key) === o) this.objByKey.delete(o.key);
  }

  /** Retry objects that failed (something changed that may make them work). */
  retryFailed(): boolean {
    let any = false;
    for (const o of this.objById.values()) {
      if (o.state === ObjState.FAILED) {
        o.state = ObjState.NEW;
        this.creates.push(o);
        any = true;
      }
    }
    return any;
  }

  /**
   * Takes the kernel's nexthop objects (a dump): ours are adopted or checked,
   * others' ids are avoided, ours the kernel lacks are created again.
   */
  syncObjects(kernel: readonly NexthopMsg[]): void {
    const seen = new Set<number>();
    const adopted: NhObject[] = [];
    for (const k of kernel) {
      seen.add(k.id);
      if (k.protocol !== this.opts.protocol) {
        this.reserved.add(k.id);
        continue;
      }
      let key: string;
      if (k.group) {
        key = `G:${[...k.group].sort((a, b) => a.id - b.id).map((m) => `${m.id}*${m.weight}`).join(',')}`;
      } else if (k.gateway && k.family !== 0) {
        key = `g:${hex(k.gateway)}%${k.oif}`;
      } else {
        key = `x:${k.id}`; // not a shape we create: only ever deleted
      }
      const mine = this.objById.get(k.id);
      if (mine && mine.key === key) {
        mine.state = ObjState.OK;
        continue;
      }
      if (mine) {
        // Our id now holds something else: our object gets a new id below.
        this.objById.delete(k.id);
        mine.state = ObjState.NEW;
        mine.id = -1;
      }
      adopted.push({
        id: k.id,
        key,
        family: k.family,
        addr: k.gateway ?? null,
        oif: k.oif,
        members: k.group ?? null,
        state: ObjState.OK,
        errno: 0,
      });
    }
    for (const o of adopted) {
      this.objById.set(o.id, o);
      if (!this.objByKey.has(o.key)) this.objByKey.set(o.key, o);
    }
    for (const o of [...this.objById.values()]) {
      if (!seen.has(o.id) && (o.state === ObjState.OK || o.state === ObjState.PENDING)) {
        o.state = ObjState.NEW;
        this.creates.push(o);
      }
    }
    // Objects moved off a taken id get a fresh one.
    for (const o of this.objByKey.values()) {
      if (o.id === -1) {
        o.id = this.allocId();
        this.objById.set(o.id, o);
        this.creates.push(o);
      }
    }
  }

  /**
   * Objects nobody uses: not the current form of a set, not held by a route
   * the kernel has (`installedForms`), not a member of a live group. Returns
   * delete ops, groups first; objects never created are just forgotten.
   */
  collect(installedForms: ReadonlySet<number>): NhOp[] {
    const live = new Set<number>();
    const mark = (id: number): void => {
      if (live.has(id)) return;
      live.add(id);
      const o = this.objById.get(id);
      if (o?.members) for (const m of o.members) mark(m.id);
    };
    for (const s of this.sets.values()) {
      const a = this.formObj[s.form4];
      const b = this.formObj[s.form6];
      if (a) mark(a);
      if (b) mark(b);
    }
    for (const f of installedForms) {
      const id = this.formObj[f];
      if (id) mark(id);
    }
    const ops: NhOp[] = [];
    for (const o of [...this.objById.values()]) {
      if (live.has(o.id)) continue;
      this.dropObject(o);
      if (o.state === ObjState.OK || o.state === ObjState.PENDING) ops.push({ kind: 'del', obj: o });
    }
    ops.sort((a, b) => (b.obj.members ? 1 : 0) - (a.obj.members ? 1 : 0));
    return ops;
  }

  /** All our objects, for shutdown (groups first) and the CLI. */
  /** Kernel nexthop objects we hold (objects().length without the copy and sort). */
  get objectCount(): number {
    return this.objById.size;
  }

  objects(): NhObject[] {
    return [...this.objById.values()].sort((a, b) => (b.members ? 1 : 0) - (a.members ? 1 : 0));
  }

  forgetObjects(): void {
    this.objById.clear();
    this.objByKey.clear();
    this.creates = [];
  }
}
