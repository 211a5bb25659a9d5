// A small validator for Kubernetes structural schemas (apiextensions.k8s.io/v1
// openAPIV3Schema): what the API server checks on create/update, and what it would
// prune. Only the keywords src/k8s/crds.ts uses are implemented; an unknown keyword
// makes checkStructural fail, so the validator cannot silently fall behind.
export interface Problem {
  readonly path: string;
  readonly message: string;
}

type Schema = Record<string, unknown>;

const KEYWORDS = new Set([
  'type', 'properties', 'required', 'items', 'additionalProperties', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength',
  'pattern', 'minItems', 'maxItems', 'format', 'nullable', 'description',
  'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-map-type', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys',
]);

/** The structural-schema rules the API server enforces on a CRD, plus "keyword known here". */
export function checkStructural(schema: Schema, path = ''): Problem[] {
  const out: Problem[] = [];
  for (const k of Object.keys(schema)) if (!KEYWORDS.has(k)) out.push({ path, message: `keyword ${k} not supported by this validator` });
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (schema['type'] === undefined && !intOrString) out.push({ path, message: 'a structural schema needs a type on every node' });
  if (intOrString && schema['type'] !== undefined) out.push({ path, message: 'x-kubernetes-int-or-string must not have a type' });
  if (schema['properties'] !== undefined && schema['additionalProperties'] !== undefined) out.push({ path, message: 'properties and additionalProperties are mutually exclusive' });
  if (schema['type'] === 'array' && schema['items'] === undefined) out.push({ path, message: 'an array needs items' });
  for (const [k, v] of Object.entries((schema['properties'] ?? {}) as Record<string, Schema>)) out.push(...checkStructural(v, `${path}.${k}`));
  if (typeof schema['items'] === 'object') out.push(...checkStructural(schema['items'] as Schema, `${path}[]`));
  if (typeof schema['additionalProperties'] === 'object') out.push(...checkStructural(schema['additionalProperties'] as Schema, `${path}{}`));
  for (const r of (schema['required'] ?? []) as string[]) {
    if (!Object.hasOwn((schema['properties'] ?? {}) as object, r)) out.push({ path, message: `required field ${r} has no schema` });
  }
  return out;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Problems of `value` against `schema`; unknown fields are reported as pruned. */
export function validateValue(schema: Schema, value: unknown, path = ''): Problem[] {
  const out: Problem[] = [];
  const t = typeOf(value);
  if (value === null) {
    if (schema['nullable'] !== true) out.push({ path, message: 'null is not allowed' });
    return out;
  }
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (t !== 'integer' && t !== 'string') out.push({ path, message: `expected an integer or a string, found ${t}` });
    return out;
  }
  const want = schema['type'];
  if (want === 'number' ? t !== 'number' && t !== 'integer' : want !== t) {
    out.push({ path, message: `expected ${String(want)}, found ${t}` });
    return out;
  }
  if (Array.isArray(schema['enum']) && !(schema['enum'] as unknown[]).includes(value)) out.push({ path, message: `not one of ${(schema['enum'] as unknown[]).join(', ')}` });
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) out.push({ path, message: `below the minimum ${schema['minimum']}` });
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) out.push({ path, message: `above the maximum ${schema['maximum']}` });
  }
  if (typeof value === 'string') {
    if (typeof schema['minLength'] === 'number' && value.length < schema['minLength']) out.push({ path, message: 'too short' });
    if (typeof schema['maxLength'] === 'number' && value.length > schema['maxLength']) out.push({ path, message: 'too long' });
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value)) out.push({ path, message: `does not match ${schema['pattern']}` });
  }
  if (Array.isArray(value)) {
    if (typeof schema['minItems'] === 'number' && value.length < schema['minItems']) out.push({ path, message: `fewer than ${schema['minItems']} items` });
    if (typeof schema['maxItems'] === 'number' && value.length > schema['maxItems']) out.push({ path, message: `more than ${schema['maxItems']} items` });
    value.forEach((v, i) => out.push(...validateValue(schema['items'] as Schema, v, `${path}[${i}]`)));
  }
  if (t === 'object') {
    const o = value as Record<string, unknown>;
    const props = schema['properties'] as Record<string, Schema> | undefined;
    for (const r of (schema['required'] ?? []) as string[]) if (!Object.hasOwn(o, r)) out.push({ path: `${path}.${r}`, message: 'required field is missing' });
    for (const [k, v] of Object.entries(o)) {
      const p = `${path}.${k}`;
      if (path === '' && k === 'metadata') continue; // ObjectMeta: validated by the API server itself
      if (props !== undefined && Object.hasOwn(props, k)) out.push(...validateValue(props[k]!, v, p));
      else if (typeof schema['additionalProperties'] === 'object') out.push(...validateValue(schema['additionalProperties'] as Schema, v, p));
      else if (schema['x-kubernetes-preserve-unknown-fields'] === true) continue;
      else out.push({ path: p, message: 'unknown field: the API server would prune it' });
    }
  }
  return out;
}
