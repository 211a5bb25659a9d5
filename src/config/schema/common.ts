// Building blocks for the zod schemas: strict objects (unknown fields are errors
// with a "did you mean"), value checks whose messages read "expected …" (the
// converter appends "found …"), and the Kubernetes metadata / selector shapes.
import { z } from 'zod';
import { describeValue, suggest } from '../diagnostics.js';
import { parseLargeCommunity, parseStandardCommunity, parseWellKnownCommunity, WELL_KNOWN_COMMUNITIES } from '../communities.js';
import type { LargeCommunity } from '../communities.js';
import { formatCidr, formatIp, hostBitsZero, maskBytes, maxLength, parseCidr, parseIp } from '../net.js';
import type { AfiName } from '../net.js';
import { labelKeyProblem, labelValueProblem } from '../selector.js';
import type { LabelSelector, SelectorOperator } from '../selector.js';

/** Marks an `unrecognized_keys` issue; the converter splits it per key with suggestions. */
export const KNOWN_KEYS_MARK = '\u0000known:';

/** A strict object: unknown fields are reported one by one (see issues.ts). */
export function obj<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z
    .object(shape, {
      errorMap: (issue, ctx) =>
        issue.code === 'unrecognized_keys'
          ? { message: KNOWN_KEYS_MARK + known.join('\u0001') }
          : { message: ctx.defaultError },
    })
    .strict();
}

/**
 * A value check with an operator-facing expectation. `parse` returns the normalised
 * value, or undefined when the input is not acceptable; a missing required field is
 * reported as missing, not as a bad value.
 */
export function check<T>(expected: string, parse: (v: unknown) => T | undefined) {
  return z.unknown().transform((v, ctx): T => {
    const r = v === undefined ? undefined : parse(v);
    if (r === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected ${expected}` });
      return z.NEVER;
    }
    return r;
  });
}

export const str = () => check('a string', (v) => (typeof v === 'string' ? v : undefined));
export const nonEmptyStr = () =>
  check('a non-empty string', (v) => (typeof v === 'string' && v.length > 0 ? v : undefined));
export const bool = () => check('true or false', (v) => (typeof v === 'boolean' ? v : undefined));

export function intIn(min: number, max: number, what = 'an integer') {
  return check(`${what} from ${min} to ${max}`, (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined,
  );
}

/** An enum; a near miss ("Loadbalancer") gets a "did you mean". */
export function oneOf<const T extends readonly string[]>(values: T) {
  const expected = `expected one of ${values.join(', ')}`;
  return z.unknown().transform((v, ctx): T[number] => {
    if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T[number];
    const close = typeof v === 'string' ? suggest(v, values) : undefined;
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: v === undefined || close === undefined ? expected : `${expected}, found ${describeValue(v)}; did you mean "${close}"?`,
    });
    return z.NEVER;
  });
}

export function list<T extends z.ZodTypeAny>(item: T, min = 0, max = Infinity) {
  let s = z.array(item);
  if (min > 0) s = s.min(min, { message: `expected a list of at least ${min} entr${min === 1 ? 'y' : 'ies'}` });
  if (max < Infinity) s = s.max(max, { message: `expected a list of at most ${max} entries` });
  return s;
}

export const U32_MAX = 4294967295;
export const AS_TRANS = 23456;

/** Peer ASN: 0 = take it from the peer's OPEN. */
export const peerAsn = () => intIn(0, U32_MAX, 'an ASN');
/** Local ASN: 0 is reserved (RFC 7607) and AS_TRANS is not an AS (RFC 6793). */
export const localAsn = () =>
  check(`an ASN from 1 to ${U32_MAX} (not 23456, AS_TRANS)`, (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= U32_MAX && v !== AS_TRANS ? v : undefined,
  );
export const asn = () => intIn(1, U32_MAX, 'an ASN');
export const port = () => intIn(1, 65535, 'a TCP port');

export interface IpValue {
  readonly afi: AfiName;
  readonly address: string;
}

/** A bare IPv4/IPv6 address, returned in canonical form. */
export const ipAddress = () =>
  check('an IP address (e.g. 10.0.0.1 or fd00::1)', (v): IpValue | undefined => {
    if (typeof v !== 'string') return undefined;
    const ip = parseIp(v);
    return ip === undefined ? undefined : { afi: ip.afi, address: formatIp(ip.afi, ip.bytes) };
  });

export const ipv4Address = () =>
  check('an IPv4 address (e.g. 10.0.0.1)', (v) => {
    if (typeof v !== 'string') return undefined;
    const ip = parseIp(v);
    return ip?.afi === 'ipv4' ? formatIp(ip.afi, ip.bytes) : undefined;
  });

export interface CidrValue {
  readonly afi: AfiName;
  readonly cidr: string;
  readonly length: number;
}

/** A network prefix: well formed AND with host bits zero ("10.0.0.1/24" is refused). */
export const cidr = () =>
  z.unknown().transform((v, ctx): CidrValue => {
    const c = typeof v === 'string' ? parseCidr(v) : undefined;
    if (c === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected a CIDR prefix (e.g. 10.0.0.0/24 or fd00::/64)' });
      return z.NEVER;
    }
    if (!hostBitsZero(c)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `host bits must be zero: "${v as string}" is not a network prefix (did you mean ${formatCidr({ ...c, bytes: maskBytes(c.bytes, c.length) })}?)`,
      });
      return z.NEVER;
    }
    return { afi: c.afi, cidr: formatCidr(c), length: c.length };
  });

/** v1 peerAddress: a host route in CIDR form, /32 for IPv4 or /128 for IPv6. */
export const hostCidr = () =>
  check('a host address in CIDR form, /32 for IPv4 or /128 for IPv6 (e.g. 10.0.0.1/32)', (v): IpValue | undefined => {
    if (typeof v !== 'string') return undefined;
    const c = parseCidr(v);
    if (c === undefined || c.length !== maxLength(c.afi)) return undefined;
    return { afi: c.afi, address: formatIp(c.afi, c.bytes) };
  });

export const standardCommunity = () =>
  check('a community as "<0-65535>:<0-65535>" or a 32-bit decimal', (v) =>
    typeof v === 'string' ? parseStandardCommunity(v) : typeof v === 'number' ? parseStandardCommunity(String(v)) : undefined,
  );

export const wellKnownCommunity = () =>
  check(`a well-known community (${Object.keys(WELL_KNOWN_COMMUNITIES).join(', ')})`, (v) =>
    typeof v === 'string' ? parseWellKnownCommunity(v) : undefined,
  );

/** Standard syntax or a well-known name (import-policy lists). */
export const anyCommunity = () =>
  check('a community as "<0-65535>:<0-65535>", a 32-bit decimal or a well-known name like no-export', (v) =>
    typeof v === 'string'
      ? (parseWellKnownCommunity(v) ?? parseStandardCommunity(v))
      : typeof v === 'number'
        ? parseStandardCommunity(String(v))
        : undefined,
  );

export const largeCommunity = () =>
  check('a large community as "<u32>:<u32>:<u32>"', (v): LargeCommunity | undefined =>
    typeof v === 'string' ? parseLargeCommunity(v) : undefined,
  );

/** Cilium's BGPCommunities. */
export const communities = () =>
  obj({
    standard: list(standardCommunity()).optional(),
    wellKnown: list(wellKnownCommunity()).optional(),
    large: list(largeCommunity()).optional(),
  });

// ---- Kubernetes metadata and selectors ----

const labelKey = () =>
  z.string().superRefine((k, ctx) => {
    const p = labelKeyProblem(k);
    if (p !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid label key "${k}": ${p}` });
  });

const labelValue = () =>
  check('a label value (a string of at most 63 characters: alphanumerics, "-", "_", ".")', (v) =>
    typeof v === 'string' && labelValueProblem(v) === undefined ? v : undefined,
  );

/** Object labels as stored by the API server: strings only (`rack: 0` unquoted is a number). */
export const labels = () => z.record(z.string(), check('a string (quote numbers and booleans)', (v) => (typeof v === 'string' ? v : undefined)));

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const satisfies readonly SelectorOperator[];

const requirement = () =>
  obj({
    key: check('a label key', (v) => (typeof v === 'string' ? v : undefined)),
    operator: oneOf(OPERATORS),
    values: list(labelValue()).optional(),
  }).superRefine((r, ctx) => {
    const p = labelKeyProblem(r.key);
    if (p !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['key'], message: `invalid label key "${r.key}": ${p}` });
    const n = r.values?.length ?? 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['values'], message: `operator ${r.operator} needs a non-empty values list` });
    }
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['values'], message: `values must be empty when the operator is ${r.operator}` });
    }
  });

export const labelSelector = () =>
  obj({
    matchLabels: z.record(labelKey(), labelValue()).optional(),
    matchExpressions: list(requirement()).optional(),
  }).transform(
    (s): LabelSelector => ({
      matchLabels: s.matchLabels ?? {},
      matchExpressions: (s.matchExpressions ?? []).map((r) => ({ key: r.key, operator: r.operator, values: r.values ?? [] })),
    }),
  );

/** ObjectMeta: the fields we read, plus the ones the API server adds that we ignore. */
export const metadata = () =>
  obj({
    name: check('a non-empty name', (v) => (typeof v === 'string' && v.length > 0 ? v : undefined)),
    namespace: str().optional(),
    labels: labels().optional(),
    annotations: labels().optional(),
    // Written by the API server or controllers; accepted so that dumps load, never used.
    uid: z.unknown(),
    resourceVersion: z.unknown(),
    generation: z.unknown(),
    creationTimestamp: z.unknown(),
    deletionTimestamp: z.unknown(),
    deletionGracePeriodSeconds: z.unknown(),
    generateName: z.unknown(),
    selfLink: z.unknown(),
    managedFields: z.unknown(),
    ownerReferences: z.unknown(),
    finalizers: z.unknown(),
  });

export type Metadata = z.output<ReturnType<typeof metadata>>;
