// Loads the tsbgp_socket addon (native/socket): the socket options Node's net
// module cannot set before connect() (TCP MD5, TTL, GTSM, local bind).
// A missing addon is reported, never hidden: callers that need it get a typed
// error, and only plain sessions may do without it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's functions. The socket's family is read from the fd (SO_DOMAIN). */
export interface NativeSocket {
  /** A non-blocking, close-on-exec TCP socket; returns the fd. */
  socket(family: 4 | 6): number;
  /** bind() before connect()/listen(); reuseAddr sets SO_REUSEADDR first. */
  bind(fd: number, address: string, port: number, reuseAddr?: boolean): void;
  /** Closes an fd that was never handed to a net.Socket. */
  close(fd: number): void;
  /** Sets the RFC 2385 key for one peer, or removes it when key is absent (ENOENT if none). */
  setMd5(fd: number, peerAddress: string, key?: Buffer): void;
  /** IP_TTL / IPV6_UNICAST_HOPS, 1..255, or -1 for the system default. */
  setTtl(fd: number, ttl: number): void;
  getTtl(fd: number): number;
  /** IP_MINTTL / IPV6_MINHOPCOUNT, 0..255 (0 = off): GTSM, RFC 5082. */
  setMinTtl(fd: number, minTtl: number): void;
  getMinTtl(fd: number): number;
  family(fd: number): 4 | 6;
}

/** Returns the addon or throws NativeUnavailableError. Injectable for tests. */
export type NativeLoader = () => NativeSocket;

export const ERR_NATIVE_UNAVAILABLE = 'ERR_TSBGP_NATIVE_UNAVAILABLE';

export class NativeUnavailableError extends Error {
  readonly code = ERR_NATIVE_UNAVAILABLE;
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'NativeUnavailableError';
  }
}

const ADDON = 'native/socket/build/Release/tsbgp_socket.node';

/** Where the addon may be: beside the package root, from dist/src/session or src/session. */
function candidates(): string[] {
  const out: string[] = [];
  const fromEnv = process.env['TSBGP_NATIVE_SOCKET'];
  if (fromEnv) out.push(fromEnv);
  for (const up of ['../../../', '../../']) {
    out.push(fileURLToPath(new URL(up + ADDON, import.meta.url)));
  }
  return out;
}

let cached: { ok: true; native: NativeSocket } | { ok: false; error: NativeUnavailableError } | undefined;

function load(): NativeSocket {
  if (process.platform !== 'linux') {
    throw new NativeUnavailableError(
      `native socket addon is Linux only (this is ${process.platform}): TCP MD5 and TTL control are unavailable`,
    );
  }
  const require = createRequire(import.meta.url);
  const tried = candidates();
  let firstError: unknown;
  for (const path of tried) {
    if (!existsSync(path)) continue;
    try {
      return require(path) as NativeSocket;
    } catch (err) {
      firstError ??= err;
    }
  }
  const why = firstError instanceof Error ? `: ${firstError.message}` : ' (not built)';
  throw new NativeUnavailableError(
    `native socket addon could not be loaded${why}; tried ${tried.join(', ')}. ` +
      'Build it with `npm run build:native`; TCP MD5 and TTL control are unavailable until then',
    { cause: firstError },
  );
}

/** The default loader: loads once and remembers success or failure. */
export const loadNativeSocket: NativeLoader = () => {
  if (cached === undefined) {
    try {
      cached = { ok: true, native: load() };
    } catch (err) {
      const error =
        err instanceof NativeUnavailableError ? err : new NativeUnavailableError(String(err), { cause: err });
      cached = { ok: false, error };
    }
  }
  if (cached.ok) return cached.native;
  throw cached.error;
};

/** For startup logs and health output: whether MD5/TTL sessions are possible, and why not. */
export function nativeSocketStatus(
  loader: NativeLoader = loadNativeSocket,
): { available: true } | { available: false; reason: string } {
  try {
    loader();
    return { available: true };
  } catch (err) {
    return { available: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
