/**
 * Keeps the kernel FIB equal to the Loc-RIB's best paths: drains the Loc-RIB change
 * queues in time-boxed steps (so BGP sessions keep being served), maps each best path
 * (or ECMP set) to a next-hop set handle, and hands batches to the FIB backend, which
 * writes the kernel asynchronously. Also resolves next hops from the kernel's connected
 * subnets: a path whose next hop is not on a connected subnet is not eligible.
 */
import { Afi } from '../wire/iana.js';
import { formatAddress } from '../wire/nlri/format.js';
import type { ChangeQueue, LocRib } from '../rib/loc-rib.js';
import { NEXTHOP_SELF, type NextHopTable } from '../rib/nexthop.js';
import type { Rib } from '../rib/rib.js';
import { FibBatch } from '../fib/batch.js';
import type { FibBackend, GatewayInput } from '../fib/backend.js';

/** ECMP next-hop sets get handles from here up; single next hops use their id. */
const GROUP_BASE = 1 << 24;
const STEP_MS = 8;
const DRAIN = 4096;

export class FibSync {
  private readonly rib: Rib;
  private readonly fib: FibBackend;
  private readonly maxPaths: number;
  private readonly queues: [LocRib, ChangeQueue][];
  private readonly batch = new FibBatch(DRAIN);
  private readonly slots = new Int32Array(DRAIN);
  private readonly multi: Int32Array;
  private readonly prefixBytes = new Uint8Array(16);
  /** Handles defined in the FIB (redefined when resolution changes). */
  private readonly defined = new Set<number>();
  /** The address Buffer a single-next-hop handle was defined for (ids are reused). */
  private readonly definedFor = new Map<number, Buffer>();
  /** Next hop ids whose resolution was computed. */
  private readonly known = new Set<number>();
  private readonly groups = new Map<string, number>();
  private nextGroup = GROUP_BASE;
  private scheduled = false;
  private stopped = false;
  /** Prefixes handed to the FIB, for stats. */
  written = 0;

  constructor(rib: Rib, fib: FibBackend, maxPaths: number) {
    this.rib = rib;
    this.fib = fib;
    this.maxPaths = Math.max(1, maxPaths);
    this.multi = new Int32Array(this.maxPaths);
    this.queues = [
      [rib.v4, rib.v4.createQueue()],
      [rib.v6, rib.v6.createQueue()],
    ];
  }

  /** Call after RIB changes; the work runs soon, in steps. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  stop(): void {
    this.stopped = true;
    for (const [loc, q] of this.queues) loc.removeQueue(q);
  }

  /** True when every change was handed to the FIB. */
  get idle(): boolean {
    return !this.scheduled && this.queues.every(([, q]) => q.size === 0);
  }

  /**
   * Re-reads which next hops are on a connected subnet (after link/address changes)
   * and re-runs the decisions they affect. Returns true when anything changed.
   */
  resolveNextHops(): boolean {
    const nh = this.rib.store.nextHops;
    let changed = false;
    for (const id of nh.ids()) {
      const gw = this.gatewayOf(nh, id);
      changed = nh.setResolution(id, gw !== undefined, 0) || changed;
    }
    if (changed) {
      this.reevaluateAll();
      this.redefineHandles();
    }
    return changed;
  }

  private reevaluateAll(): void {
    for (const [loc] of this.queues) {
      let from = 0;
      while (from >= 0) from = loc.reevaluateFrom(from, 1 << 30);
    }
    this.schedule();
  }

  /** New next hops are resolved before their routes are written (not per prefix). */
  private resolveNew(): void {
    const nh = this.rib.store.nextHops;
    let changed = false;
    for (const id of nh.ids()) {
      if (this.known.has(id) && this.definedFor.get(id) === nh.address(id)) continue;
      this.known.add(id);
      changed = nh.setResolution(id, this.gatewayOf(nh, id) !== undefined, 0) || changed;
    }
    if (changed) this.reevaluateAll();
  }

  private run(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.resolveNew();
    const deadline = performance.now() + STEP_MS;
    for (const [loc, q] of this.queues) {
      while (q.size > 0) {
        const n = q.drain(DRAIN, this.slots);
        this.batch.clear();
        for (let i = 0; i < n; i++) this.addSlot(loc, this.slots[i]!);
        q.release();
        if (this.batch.length > 0) {
          this.fib.apply(this.batch);
          this.written += this.batch.length;
        }
        if (performance.now() > deadline) {
          this.schedule();
          return;
        }
      }
    }
  }

  private addSlot(loc: LocRib, slot: number): void {
    const v4 = loc.afi === Afi.IPV4;
    const len = loc.table.prefixLength(slot);
    const family = v4 ? 4 : 6;
    if (v4) {
      const a = loc.v4!.addrOf(slot);
      const b = this.prefixBytes;
      b[0] = a >>> 24;
      b[1] = (a >>> 16) & 0xff;
      b[2] = (a >>> 8) & 0xff;
      b[3] = a & 0xff;
    } else {
      loc.v6!.addrBytes(slot, this.prefixBytes, 0);
    }
    this.batch.push(family, this.prefixBytes, 0, len, this.handleFor(loc, slot));
  }

  /** The next-hop set handle of a slot's best path(s), or -1 to withdraw. */
  private handleFor(loc: LocRib, slot: number): number {
    const best = loc.bestAttr(slot);
    if (best < 0) return -1;
    const nh = this.rib.store.nextHops;
    if (this.maxPaths === 1 || loc.multipathCount(slot) <= 1) return this.single(nh, loc.nextHopOf(best));
    const k = loc.multipath(slot, this.multi);
    const ids: number[] = [];
    for (let i = 0; i < k; i++) {
      const id = loc.nextHopOf(loc.pathAttr(this.multi[i]!));
      if (!ids.includes(id)) ids.push(id);
    }
    if (ids.length === 1) return this.single(nh, ids[0]!);
    ids.sort((a, b) => a - b);
    const key = ids.join(',');
    let h = this.groups.get(key);
    if (h === undefined) {
      h = this.nextGroup++;
      this.groups.set(key, h);
    }
    if (!this.defined.has(h)) {
      const gws = ids.map((id) => this.gatewayOf(nh, id)).filter((g): g is GatewayInput => g !== undefined);
      if (gws.length === 0) return -1;
      this.define(h, gws);
    }
    return h;
  }

  private single(nh: NextHopTable, id: number): number {
    if (id === NEXTHOP_SELF) return -1; // our own routes are not installed
    const addr = nh.address(id);
    if (this.definedFor.get(id) !== addr) {
      const gw = this.gatewayOf(nh, id);
      if (gw === undefined) return -1;
      this.define(id, [gw]);
      this.definedFor.set(id, addr);
    }
    return id;
  }

  private define(handle: number, gws: GatewayInput[]): void {
    this.fib.defineNexthop(handle, gws);
    this.defined.add(handle);
  }

  /** After a resolution change the gateway of a handle may differ (global vs link-local). */
  private redefineHandles(): void {
    const nh = this.rib.store.nextHops;
    const live = new Set(nh.ids());
    for (const handle of this.defined) {
      if (handle >= GROUP_BASE) {
        this.defined.delete(handle); // rebuilt on next use
        continue;
      }
      // A freed next hop id has no gateway any more.
      const gw = live.has(handle) ? this.gatewayOf(nh, handle) : undefined;
      if (gw === undefined) {
        this.fib.removeNexthop(handle);
        this.defined.delete(handle);
        this.definedFor.delete(handle);
      } else this.define(handle, [gw]);
    }
  }

  /**
   * The kernel gateway for a next hop, or undefined when it is not on a connected subnet.
   * IPv6 next hops may carry a link-local address (RFC 2545): used with its interface
   * when the global one is not directly reachable.
   */
  private gatewayOf(nh: NextHopTable, id: number): GatewayInput | undefined {
    const b = nh.address(id);
    if (b.length === 4) {
      const text = formatAddress(Afi.IPV4, b);
      return this.fib.connectedVia(text) > 0 ? { address: text } : undefined;
    }
    const global = formatAddress(Afi.IPV6, b.subarray(0, 16));
    const via = this.fib.connectedVia(global);
    if (via > 0) return { address: global };
    // A link-local next hop alone does not say which link it is on: unresolved.
    return undefined;
  }
}
