// Loads native/netlink (tsbgp_netlink.node) and adapts it to NlTransport.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NlTransport, RecvHandler, TransportFactory, TransportOptions } from './socket.js';

interface Addon {
  open(groups: number, rcvbuf: number, sndbuf: number, flags: number, onRecv: RecvHandler): object;
  send(h: object, buf: Buffer, len: number): number;
  sendAsync(h: object, buf: Buffer, len: number, cb: (res: number) => void): void;
  addMembership(h: object, group: number): number;
  dropEchoes(h: object, portId: number): number;
  info(h: object): { portId: number; rcvbuf: number; sndbuf: number; sendMs: number; sends: number };
  ref(h: object, on: boolean): void;
  close(h: object): void;
}

const ADDON_PATH = join('native', 'netlink', 'build', 'Release', 'tsbgp_netlink.node');

let cached: Addon | null | undefined;
let loadError = '';

/** Finds the addon from this module's folder upwards (src/ or dist/src/), or $TSBGP_NETLINK_ADDON. */
function locate(): string | null {
  const env = process.env['TSBGP_NETLINK_ADDON'];
  if (env) return env;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, ADDON_PATH);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return null;
}

function load(): Addon | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (process.platform !== 'linux') {
    loadError = 'netlink needs Linux';
  } else if (endianness() !== 'LE') {
    loadError = 'the netlink codec assumes a little-endian host';
  } else {
    const p = locate();
    if (!p) loadError = `${ADDON_PATH} not found: run \`npm run build:netlink\``;
    else {
      try {
        cached = createRequire(import.meta.url)(p) as Addon;
      } catch (e) {
        loadError = `cannot load ${p}: ${(e as Error).message}`;
      }
    }
  }
  return cached;
}

/** Null when the addon can be used, else why not. */
export function netlinkUnavailable(): string | null {
  return load() ? null : loadError;
}

class AddonTransport implements NlTransport {
  readonly portId: number;
  private closed = false;

  constructor(
    private readonly a: Addon,
    private readonly h: object,
  ) {
    this.portId = a.info(h).portId;
  }

  send(buf: Buffer, len: number): number {
    return this.a.send(this.h, buf, len);
  }

  sendAsync(buf: Buffer, len: number, cb: (res: number) => void): void {
    this.a.sendAsync(this.h, buf, len, cb);
  }

  addMembership(group: number): number {
    return this.a.addMembership(this.h, group);
  }

  dropEchoes(portId: number): number {
    return this.a.dropEchoes(this.h, portId);
  }

  buffers(): { rcvbuf: number; sndbuf: number } {
    const i = this.a.info(this.h);
    return { rcvbuf: i.rcvbuf, sndbuf: i.sndbuf };
  }

  ref(on: boolean): void {
    this.a.ref(this.h, on);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.a.close(this.h);
  }
}

/** Opens real NETLINK_ROUTE sockets. Throws when the addon is unavailable. */
export const kernelTransport: TransportFactory = (opts: TransportOptions, onRecv: RecvHandler) => {
  const a = load();
  if (!a) throw new Error(loadError);
  return new AddonTransport(a, a.open(opts.groups, opts.rcvbuf, opts.sndbuf, opts.flags, onRecv));
};
