// One rule for secrets, shared by logs and the API: any field whose name ends in
// "password" (password, md5Password, authPassword) is replaced, at any depth.

export const REDACTED = '<redacted>';

const SECRET_KEY = /password$/i;
const MAX_DEPTH = 32;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A copy of `value` with secret fields replaced; objects with a toJSON (SecretValue,
 * Date) are serialised first, exactly as JSON.stringify would. Cycles and very deep
 * nesting end in a marker instead of recursion without bound.
 */
export function redactSecrets(value: unknown): unknown {
  return walk(value, 0, new Set());
}

function walk(value: unknown, depth: number, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return walk(withJson.toJSON(), depth, seen);
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  let out: unknown;
  if (Array.isArray(value)) {
    out = value.map((v) => walk(v, depth + 1, seen));
  } else if (value instanceof Map) {
    out = walk(Object.fromEntries(value), depth, seen);
  } else {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      o[k] = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : walk(v, depth + 1, seen);
    }
    out = o;
  }
  seen.delete(value);
  return out;
}
