// Request parsing and parameter validation: pure, so every malformed request has a
// unit test and a precise message. Parameters are strict: unknown names are refused
// (a typo must not silently widen a query or an action).
import { canonicalIp, formatCidr, maskBytes, maxLength, parseCidr, parseIp } from '../config/net.js';
import { ApiError, ErrorCode } from './errors.js';
import { EVENT_TYPES, FIB_STATUSES } from './types.js';
import type {
  AfiName, ApiEventType, FibStatus, Method, RequestId, StreamMethod, UnaryMethod,
} from './types.js';

export const UNARY_METHODS = ['global', 'neighbors', 'config', 'reset', 'softReset', 'shutdown', 'enable', 'cancel'] as const satisfies readonly UnaryMethod[];
export const STREAM_METHODS = ['rib', 'adjRibIn', 'adjRibOut', 'fib', 'monitor'] as const satisfies readonly StreamMethod[];
export const METHODS: readonly Method[] = [...UNARY_METHODS, ...STREAM_METHODS];

/** RFC 9003 §2: the Shutdown Communication is at most 255 octets of UTF-8. */
export const MAX_SHUTDOWN_MESSAGE_BYTES = 255;
export const MAX_LIMIT = 100_000_000;

export interface ParsedRequest {
  readonly id: RequestId;
  readonly method: Method;
  /** Always an object (absent params = {}); not yet validated against the method. */
  readonly params: Record<string, unknown>;
}

export type ParseOutcome =
  | { readonly ok: true; readonly request: ParsedRequest }
  | { readonly ok: false; readonly id: RequestId | null; readonly error: ApiError };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validId(v: unknown): v is RequestId {
  return (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && v.length > 0 && v.length <= 128);
}

/** One request line → a request with a known method, or the error to send back. */
export function parseRequest(text: string): ParseOutcome {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, id: null, error: new ApiError(ErrorCode.PARSE, `request is not valid JSON: ${why}`) };
  }
  if (!isRecord(value)) {
    return { ok: false, id: null, error: new ApiError(ErrorCode.INVALID_REQUEST, 'request must be a JSON object {"id", "method", "params"}') };
  }
  const id = value['id'];
  if (!validId(id)) {
    return { ok: false, id: null, error: new ApiError(ErrorCode.INVALID_REQUEST, 'request "id" must be an integer or a non-empty string of at most 128 characters') };
  }
  for (const key of Object.keys(value)) {
    if (key !== 'id' && key !== 'method' && key !== 'params') {
      return { ok: false, id, error: new ApiError(ErrorCode.INVALID_REQUEST, `unknown request field ${JSON.stringify(key)} (expected id, method, params)`) };
    }
  }
  const method = value['method'];
  if (typeof method !== 'string') {
    return { ok: false, id, error: new ApiError(ErrorCode.INVALID_REQUEST, 'request "method" must be a string') };
  }
  if (!(METHODS as readonly string[]).includes(method)) {
    return { ok: false, id, error: new ApiError(ErrorCode.UNKNOWN_METHOD, `unknown method ${JSON.stringify(method.slice(0, 64))}; methods: ${METHODS.join(', ')}`) };
  }
  const params = value['params'] ?? {};
  if (!isRecord(params)) {
    return { ok: false, id, error: new ApiError(ErrorCode.INVALID_PARAMS, `${method}: "params" must be an object`) };
  }
  return { ok: true, request: { id, method: method as Method, params } };
}

export function isStreamMethod(m: Method): m is StreamMethod {
  return (STREAM_METHODS as readonly string[]).includes(m);
}

// ---------------------------------------------------------------------------
// Field readers: each throws EINVALID_PARAMS naming the method and the field.

class Params {
  private readonly used = new Set<string>();
  constructor(
    private readonly method: string,
    private readonly raw: Record<string, unknown>,
  ) {}

  private fail(field: string, expected: string, value: unknown): never {
    throw new ApiError(ErrorCode.INVALID_PARAMS, `${this.method}: "${field}" must be ${expected}, got ${describe(value)}`);
  }

  private get(field: string, required: boolean): unknown {
    this.used.add(field);
    const v = this.raw[field];
    if (v === undefined || v === null) {
      if (required) throw new ApiError(ErrorCode.INVALID_PARAMS, `${this.method}: missing required parameter "${field}"`);
      return undefined;
    }
    return v;
  }

  string(field: string, required: boolean, maxChars = 256): string | undefined {
    const v = this.get(field, required);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0 || v.length > maxChars) this.fail(field, `a non-empty string of at most ${maxChars} characters`, v);
    return v;
  }

  oneOf<T extends string>(field: string, values: readonly T[]): T | undefined {
    const v = this.get(field, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) this.fail(field, `one of ${values.join(', ')}`, v);
    return v as T;
  }

  listOf<T extends string>(field: string, values: readonly T[]): T[] | undefined {
    const v = this.get(field, false);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !(values as readonly string[]).includes(x))) {
      this.fail(field, `a list of ${values.join(', ')}`, v);
    }
    return v as T[];
  }

  bool(field: string): boolean | undefined {
    const v = this.get(field, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(field, 'true or false', v);
    return v;
  }

  int(field: string, min: number, max: number): number | undefined {
    const v = this.get(field, false);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(field, `an integer from ${min} to ${max}`, v);
    return v;
  }

  id(field: string): RequestId {
    const v = this.get(field, true);
    if (!validId(v)) this.fail(field, 'a request id (integer or string)', v);
    return v;
  }

  address(field: string, required: boolean): string | undefined {
    const v = this.string(field, required, 64);
    if (v === undefined) return undefined;
    const c = canonicalIp(v);
    if (c === undefined) this.fail(field, 'an IPv4 or IPv6 address', v);
    return c;
  }

  /** Refuses parameters this method does not know. */
  done(): void {
    for (const key of Object.keys(this.raw)) {
      if (!this.used.has(key)) {
        const known = [...this.used];
        const hint = known.length === 0 ? 'it takes no parameters' : `known: ${known.join(', ')}`;
        throw new ApiError(ErrorCode.INVALID_PARAMS, `${this.method}: unknown parameter ${JSON.stringify(key.slice(0, 64))} (${hint})`);
      }
    }
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

const AFIS: readonly AfiName[] = ['ipv4', 'ipv6'];

// ---------------------------------------------------------------------------
// Normalised parameters per method

export interface NoParams {
  readonly kind: 'none';
}

export interface NeighborFilter {
  readonly instance: string | null;
  readonly address: string | null;
}

export interface ValidRibParams {
  readonly instance: string | null;
  readonly afi: AfiName | null;
  readonly prefix: string | null;
  readonly match: 'exact' | 'longest';
  readonly limit: number | null;
}

export interface ValidAdjRibParams {
  readonly address: string;
  readonly instance: string | null;
  readonly afi: AfiName | null;
  readonly limit: number | null;
}

export interface ValidFibParams {
  readonly instance: string | null;
  readonly afi: AfiName | null;
  readonly status: FibStatus | null;
  readonly limit: number | null;
  readonly kernel: boolean;
}

export interface ValidMonitorParams {
  readonly types: ReadonlySet<ApiEventType> | null;
  readonly neighbor: string | null;
  readonly instance: string | null;
}

export interface ValidActionParams {
  readonly address: string;
  readonly instance: string | null;
}

export interface ValidParams {
  global: NoParams;
  config: NoParams;
  neighbors: NeighborFilter;
  rib: ValidRibParams;
  adjRibIn: ValidAdjRibParams;
  adjRibOut: ValidAdjRibParams;
  fib: ValidFibParams;
  monitor: ValidMonitorParams;
  reset: ValidActionParams;
  enable: ValidActionParams;
  softReset: ValidActionParams & { readonly direction: 'in' | 'out' | 'both' };
  shutdown: ValidActionParams & { readonly message: string | null };
  cancel: { readonly id: RequestId };
}

/** Canonical prefix for a RIB query: a CIDR (host bits cleared) or an address as a host prefix. */
function ribPrefix(method: string, text: string, match: 'exact' | 'longest' | undefined): { prefix: string; afi: AfiName; match: 'exact' | 'longest' } {
  if (text.includes('/')) {
    const c = parseCidr(text);
    if (c === undefined) throw new ApiError(ErrorCode.INVALID_PARAMS, `${method}: "prefix" must be a CIDR or an address, got ${describe(text)}`);
    return { prefix: formatCidr({ afi: c.afi, bytes: maskBytes(c.bytes, c.length), length: c.length }), afi: c.afi, match: match ?? 'exact' };
  }
  const ip = parseIp(text);
  if (ip === undefined) throw new ApiError(ErrorCode.INVALID_PARAMS, `${method}: "prefix" must be a CIDR or an address, got ${describe(text)}`);
  // A bare address asks "which route carries traffic to it": longest match by default.
  return { prefix: formatCidr({ afi: ip.afi, bytes: ip.bytes, length: maxLength(ip.afi) }), afi: ip.afi, match: match ?? 'longest' };
}

export function validateParams<M extends Method>(method: M, raw: Record<string, unknown>): ValidParams[M];
export function validateParams(method: Method, raw: Record<string, unknown>): ValidParams[Method] {
  const p = new Params(method, raw);
  let out: ValidParams[Method];
  switch (method) {
    case 'global':
    case 'config':
      out = { kind: 'none' };
      break;
    case 'neighbors':
      out = { instance: p.string('instance', false) ?? null, address: p.address('address', false) ?? null };
      break;
    case 'rib': {
      const instance = p.string('instance', false) ?? null;
      let afi = p.oneOf('afi', AFIS) ?? null;
      const prefixText = p.string('prefix', false, 64);
      const match = p.oneOf('match', ['exact', 'longest'] as const);
      const limit = p.int('limit', 1, MAX_LIMIT) ?? null;
      let prefix: string | null = null;
      let m: 'exact' | 'longest' = match ?? 'exact';
      if (prefixText !== undefined) {
        const r = ribPrefix(method, prefixText, match);
        if (afi !== null && afi !== r.afi) throw new ApiError(ErrorCode.INVALID_PARAMS, `${method}: "prefix" ${prefixText} is not in family ${afi}`);
        afi = r.afi;
        prefix = r.prefix;
        m = r.match;
      } else if (match !== undefined) {
        throw new ApiError(ErrorCode.INVALID_PARAMS, `${method}: "match" needs a "prefix"`);
      }
      out = { instance, afi, prefix, match: m, limit };
      break;
    }
    case 'adjRibIn':
    case 'adjRibOut':
      out = {
        address: p.address('address', true)!,
        instance: p.string('instance', false) ?? null,
        afi: p.oneOf('afi', AFIS) ?? null,
        limit: p.int('limit', 1, MAX_LIMIT) ?? null,
      };
      break;
    case 'fib':
      out = {
        instance: p.string('instance', false) ?? null,
        afi: p.oneOf('afi', AFIS) ?? null,
        status: p.oneOf('status', FIB_STATUSES) ?? null,
        limit: p.int('limit', 1, MAX_LIMIT) ?? null,
        kernel: p.bool('kernel') ?? false,
      };
      break;
    case 'monitor': {
      const types = p.listOf('types', EVENT_TYPES);
      out = {
        types: types === undefined ? null : new Set<ApiEventType>(types),
        neighbor: p.address('neighbor', false) ?? null,
        instance: p.string('instance', false) ?? null,
      } satisfies ValidMonitorParams;
      break;
    }
    case 'reset':
    case 'enable':
      out = { address: p.address('address', true)!, instance: p.string('instance', false) ?? null };
      break;
    case 'softReset':
      out = {
        address: p.address('address', true)!,
        instance: p.string('instance', false) ?? null,
        direction: p.oneOf('direction', ['in', 'out', 'both'] as const) ?? 'both',
      };
      break;
    case 'shutdown': {
      const address = p.address('address', true)!;
      const instance = p.string('instance', false) ?? null;
      const message = p.string('message', false, 1024) ?? null;
      if (message !== null && Buffer.byteLength(message, 'utf8') > MAX_SHUTDOWN_MESSAGE_BYTES) {
        throw new ApiError(ErrorCode.INVALID_PARAMS, `shutdown: "message" is ${Buffer.byteLength(message, 'utf8')} bytes of UTF-8; RFC 9003 allows at most ${MAX_SHUTDOWN_MESSAGE_BYTES}`);
      }
      out = { address, instance, message };
      break;
    }
    case 'cancel':
      out = { id: p.id('id') };
      break;
  }
  p.done();
  return out;
}
