// zod issues → Diagnostics with the field path, "expected …, found …", and one
// message per unknown field (with a "did you mean" when a known field is close).
import type { ZodIssue } from 'zod';
import { describeValue, makeDiagnostic, suggest } from './diagnostics.js';
import type { Diagnostic, PathSegment, Source } from './diagnostics.js';
import { KNOWN_KEYS_MARK } from './schema/common.js';

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping of fields',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
};

export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (typeof seg !== 'number') return undefined;
      cur = cur[seg];
    } else {
      if (!Object.hasOwn(cur, seg)) return undefined;
      cur = (cur as Record<string, unknown>)[String(seg)];
    }
  }
  return cur;
}

export function issuesToDiagnostics(
  issues: readonly ZodIssue[],
  raw: unknown,
  source: Source,
  object: string | undefined,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (code: string, path: readonly PathSegment[], message: string) =>
    out.push(makeDiagnostic({ code, message, source, object, path }));

  for (const issue of issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys' && issue.message.startsWith(KNOWN_KEYS_MARK)) {
      const known = issue.message.slice(KNOWN_KEYS_MARK.length).split('\u0001').filter((k) => k.length > 0);
      for (const key of issue.keys) {
        const close = suggest(key, known);
        const hint = close !== undefined ? `; did you mean "${close}"?` : known.length <= 16 ? ` (known fields: ${known.join(', ')})` : '';
        add('UnknownField', [...path, key], `unknown field "${key}"${hint}`);
      }
      continue;
    }
    const found = valueAt(raw, path);
    if (issue.code === 'invalid_type') {
      if (issue.received === 'undefined') add('MissingField', path, 'required field is missing');
      else add('InvalidType', path, `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, found ${describeValue(found)}`);
      continue;
    }
    const msg = issue.message;
    if (msg.startsWith('required field is missing')) {
      add('MissingField', path, msg);
    } else if (msg.startsWith('expected ')) {
      if (found === undefined) add('MissingField', path, `required field is missing (${msg})`);
      else if (msg.includes(', found ')) add('InvalidValue', path, msg);
      else add('InvalidValue', path, `${msg}, found ${describeValue(found)}`);
    } else {
      add('InvalidValue', path, msg);
    }
  }
  return out;
}
