// A RouteSink for tests: keeps every received route as readable text and decoded
// attributes. Allocates per prefix on purpose (tests only; the RIB is the real sink).
import type { Neighbor, RouteSink } from '../../src/daemon/speaker.js';
import { decodeAttributes, type ParsedUpdate, type UpdateContext } from '../../src/wire/update.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { formatPrefix } from '../../src/wire/nlri/format.js';
import { UpdateAction } from '../../src/wire/errors.js';
import type { PathAttributes } from '../../src/wire/attrs/types.js';

export interface RecordedRoute {
  readonly prefix: string;
  readonly attrs: PathAttributes;
}

export class RouteRecorder implements RouteSink {
  /** neighbor address → prefix → route */
  readonly routes = new Map<string, Map<string, RecordedRoute>>();
  readonly endOfRibs: string[] = [];
  private readonly cursor = new NlriCursor();

  table(address: string): Map<string, RecordedRoute> {
    let t = this.routes.get(address);
    if (!t) this.routes.set(address, (t = new Map()));
    return t;
  }

  update(n: Neighbor, p: ParsedUpdate, ctx: UpdateContext): void {
    const t = this.table(n.address);
    const attrs = p.action >= UpdateAction.TREAT_AS_WITHDRAW ? null : decodeAttributes(p, ctx);
    const withdraw = attrs === null || p.action >= UpdateAction.TREAT_AS_WITHDRAW;
    const each = (start: number, end: number, afi: number, addPath: boolean, announce: boolean) => {
      const c = this.cursor.reset(p.buf, start, end, afi, addPath);
      while (c.next()) {
        const prefix = formatPrefix(afi, wordsToBytes(c, afi), c.length);
        if (announce && !withdraw) t.set(prefix, { prefix, attrs: attrs! });
        else t.delete(prefix);
      }
    };
    each(p.withdrawnStart, p.withdrawnEnd, 1, p.classicAddPath, false);
    each(p.nlriStart, p.nlriEnd, 1, p.classicAddPath, true);
    const r = p.mpReach;
    if (r?.supported) each(r.nlriStart, r.nlriEnd, r.afi, r.addPath, true);
    const u = p.mpUnreach;
    if (u?.supported) each(u.nlriStart, u.nlriEnd, u.afi, u.addPath, false);
  }

  peerDown(n: Neighbor): void {
    this.routes.delete(n.address);
  }

  endOfRib(n: Neighbor, afi: number, safi: number): void {
    this.endOfRibs.push(`${n.address} ${afi}/${safi}`);
  }
}

function wordsToBytes(c: NlriCursor, afi: number): Buffer {
  if (afi === 1) {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(c.addr >>> 0, 0);
    return b;
  }
  const b = Buffer.allocUnsafe(16);
  b.writeUInt32BE(c.w0 >>> 0, 0);
  b.writeUInt32BE(c.w1 >>> 0, 4);
  b.writeUInt32BE(c.w2 >>> 0, 8);
  b.writeUInt32BE(c.w3 >>> 0, 12);
  return b;
}
