// What docs/configuration.md takes from the code, and the checks that keep the two
// equal (ARCHITECTURE habit 8). Pure: markdown text in, markdown text out.
//
// - Generated sections sit between `<!-- NAME:begin -->` and `<!-- NAME:end -->`:
//   `effects` (diff.ts EFFECT_TABLE), `kinds` (validate.ts KINDS) and
//   `well-known-communities` (communities.ts). `updateGenerated` rewrites them.
// - Field tables are written by hand (meanings need prose) after a
//   `<!-- fields: SECTION -->` marker; `schemaFields` walks the zod schema of the
//   section so a test can check that every field is documented, that no documented
//   field is gone, and that required fields and defaults agree with the schema.
import { z } from 'zod';
import { WELL_KNOWN_COMMUNITIES, formatCommunity } from './communities.js';
import { EFFECT_TABLE } from './diff.js';
import type { EffectRule } from './diff.js';
import { communities, labelSelector, metadata } from './schema/common.js';
import { importPolicy, prefixLimit, routeInstall } from './schema/extensions.js';
import { KINDS } from './validate.js';
import type { KindName } from './validate.js';

// ---------------------------------------------------------------------------
// Generated sections

/** Escapes a table cell: a `|` would end the cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

const SCOPE_TITLE: Readonly<Record<EffectRule['scope'], string>> = {
  instance: 'instance',
  peer: 'peer',
  advertisement: 'advertisement',
};

/** The configuration-change effects table, one row per EFFECT_TABLE rule, in its order. */
export function renderEffectTable(rules: readonly EffectRule[] = EFFECT_TABLE): string {
  const rows = [
    '| Scope | Change | Manifest fields | Effect | Why |',
    '|---|---|---|---|---|',
    ...rules.map(
      (r) => `| ${SCOPE_TITLE[r.scope]} | \`${r.field}\` | ${cell(r.sources)} | **${r.effect}** | ${cell(r.why)} |`,
    ),
  ];
  return `${rows.join('\n')}\n`;
}

/** The kinds tsbgp reads, with their accepted apiVersions and scope. */
export function renderKindsTable(kinds: typeof KINDS = KINDS): string {
  const rows = ['| Kind | apiVersion | Scope |', '|---|---|---|'];
  for (const [kind, def] of Object.entries(kinds)) {
    rows.push(`| \`${kind}\` | ${def.apiVersions.map((v) => `\`${v}\``).join(', ')} | ${def.namespaced ? 'namespaced' : 'cluster'} |`);
  }
  return `${rows.join('\n')}\n`;
}

/** Names accepted in `wellKnown` lists and in import-policy community lists. */
export function renderWellKnownCommunities(table: Readonly<Record<string, number>> = WELL_KNOWN_COMMUNITIES): string {
  const rows = ['| Name | Value |', '|---|---|'];
  for (const [name, value] of Object.entries(table)) {
    rows.push(`| \`${name}\` | \`${formatCommunity(value)}\` (0x${value.toString(16).padStart(8, '0')}) |`);
  }
  return `${rows.join('\n')}\n`;
}

export const GENERATED_SECTIONS: Readonly<Record<string, () => string>> = {
  effects: () => renderEffectTable(),
  kinds: () => renderKindsTable(),
  'well-known-communities': () => renderWellKnownCommunities(),
};

function markers(name: string): { begin: string; end: string } {
  return { begin: `<!-- ${name}:begin -->`, end: `<!-- ${name}:end -->` };
}

/** The text between a section's markers (without the newline after the begin marker), or undefined. */
export function extractGenerated(markdown: string, name: string): string | undefined {
  const { begin, end } = markers(name);
  const b = markdown.indexOf(begin);
  if (b < 0) return undefined;
  const from = b + begin.length + (markdown[b + begin.length] === '\n' ? 1 : 0);
  const e = markdown.indexOf(end, from);
  return e < 0 ? undefined : markdown.slice(from, e);
}

/** Replaces a section's content; throws when the markers are missing. */
export function replaceGenerated(markdown: string, name: string, content: string): string {
  const { begin, end } = markers(name);
  const b = markdown.indexOf(begin);
  const e = b < 0 ? -1 : markdown.indexOf(end, b);
  if (b < 0 || e < 0) throw new Error(`markers ${begin} … ${end} not found`);
  return `${markdown.slice(0, b + begin.length)}\n${content}${markdown.slice(e)}`;
}

/** Every generated section re-rendered from the code. */
export function updateGenerated(markdown: string): string {
  let out = markdown;
  for (const [name, render] of Object.entries(GENERATED_SECTIONS)) out = replaceGenerated(out, name, render());
  return out;
}

/** Names of the generated sections whose text differs from the code (missing ones included). */
export function staleGenerated(markdown: string): string[] {
  return Object.entries(GENERATED_SECTIONS)
    .filter(([name, render]) => extractGenerated(markdown, name) !== render())
    .map(([name]) => name);
}

// ---------------------------------------------------------------------------
// Schema walking

export interface SchemaField {
  /** `spec.virtualRouters[].neighbors[].peerAddress`; lists end in `[]` for their items. */
  readonly path: string;
  /** Neither optional nor defaulted: a manifest without it is refused. */
  readonly required: boolean;
  /** The schema's default (only when the schema supplies one). */
  readonly default: unknown;
  readonly hasDefault: boolean;
  /** `object`, `list`, `value`, or the name of a shared shape documented in its own table. */
  readonly shape: 'object' | 'list' | 'value' | SharedShape;
}

/** Sub-structures that appear in several kinds; each has its own field table. */
export type SharedShape = 'labelSelector' | 'communities' | 'importPolicy' | 'prefixLimit' | 'routeInstall' | 'metadata';

type AnySchema = z.ZodTypeAny;

function objectOf(s: AnySchema): z.AnyZodObject | undefined {
  const u = unwrap(s).schema;
  return u instanceof z.ZodObject ? u : undefined;
}

function signature(s: AnySchema): string {
  const o = objectOf(s);
  return o === undefined ? '' : Object.keys(o.shape as object).sort().join(',');
}

/** Shapes are recognised by their field names, so every copy a factory builds matches. */
const SHARED: readonly (readonly [SharedShape, string])[] = [
  ['labelSelector', signature(labelSelector())],
  ['communities', signature(communities())],
  ['importPolicy', signature(importPolicy())],
  ['prefixLimit', signature(prefixLimit())],
  ['routeInstall', signature(routeInstall())],
  ['metadata', signature(metadata())],
];

export const SHARED_SHAPES: Readonly<Record<SharedShape, AnySchema>> = {
  labelSelector: labelSelector(),
  communities: communities(),
  importPolicy: importPolicy(),
  prefixLimit: prefixLimit(),
  routeInstall: routeInstall(),
  metadata: metadata(),
};

/** Strips optional/default/effects wrappers; reports what they said. */
function unwrap(s: AnySchema): { schema: AnySchema; optional: boolean; hasDefault: boolean; default: unknown } {
  let cur = s;
  let optional = false;
  let hasDefault = false;
  let def: unknown;
  for (;;) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable) {
      optional = true;
      cur = cur._def.innerType as AnySchema;
    } else if (cur instanceof z.ZodDefault) {
      if (!hasDefault) {
        hasDefault = true;
        def = (cur._def.defaultValue as () => unknown)();
      }
      cur = cur._def.innerType as AnySchema;
    } else if (cur instanceof z.ZodEffects) {
      cur = cur._def.schema as AnySchema;
    } else {
      return { schema: cur, optional, hasDefault, default: def };
    }
  }
}

/** Accepted-and-ignored fields (`uid`, `status` of Cilium kinds...) are not listed. */
function ignored(s: AnySchema): boolean {
  let cur = s;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault) cur = cur._def.innerType as AnySchema;
  return cur instanceof z.ZodUnknown;
}

function sharedShape(s: AnySchema): SharedShape | undefined {
  const sig = signature(s);
  if (sig === '') return undefined;
  return SHARED.find(([, x]) => x === sig)?.[0];
}

/**
 * Every field of a schema, depth first, in declaration order. A shared shape is
 * listed as one field and not entered (unless it is the root, for its own table).
 */
export function schemaFields(root: AnySchema): SchemaField[] {
  const out: SchemaField[] = [];
  const visit = (s: AnySchema, path: string): void => {
    const w = unwrap(s);
    const inner = w.schema;
    if (inner instanceof z.ZodObject) {
      for (const [key, child] of Object.entries(inner.shape as Record<string, AnySchema>)) {
        if (ignored(child)) continue;
        const p = path === '' ? key : `${path}.${key}`;
        const cw = unwrap(child);
        const shared = sharedShape(child);
        const list = cw.schema instanceof z.ZodArray;
        out.push({
          path: p,
          required: !cw.optional && !cw.hasDefault,
          default: cw.default,
          hasDefault: cw.hasDefault,
          shape: shared ?? (list ? 'list' : cw.schema instanceof z.ZodObject ? 'object' : 'value'),
        });
        if (shared !== undefined) continue;
        if (list) {
          const item = (cw.schema as z.ZodArray<AnySchema>).element;
          const itemShared = sharedShape(item);
          if (itemShared === undefined) visit(item, `${p}[]`);
        } else {
          visit(child, p);
        }
      }
    }
  };
  visit(root, '');
  return out;
}

/** The sections whose fields docs/configuration.md documents, and their schemas. */
export const FIELD_SECTIONS: Readonly<Record<KindName | SharedShape, AnySchema>> = {
  ...(Object.fromEntries(Object.entries(KINDS).map(([k, d]) => [k, d.schema as AnySchema])) as Record<KindName, AnySchema>),
  ...SHARED_SHAPES,
};

/** The default as the docs write it: `179`, `false`, `Reject`, `[LoadBalancerIP]`. */
export function formatDefault(v: unknown): string | undefined {
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return `[${v.join(', ')}]`;
  return undefined;
}

// ---------------------------------------------------------------------------
// Markdown reading

export interface FieldRow {
  /** The first cell without its backticks. */
  readonly path: string;
  readonly cells: readonly string[];
  /** 1-based line in the markdown. */
  readonly line: number;
}

function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\' && body[i + 1] === '|') {
      cur += '|';
      i++;
    } else if (ch === '|') {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

/** Tables introduced by `<!-- fields: NAME -->`: NAME → rows (header and rule skipped). */
export function extractFieldTables(markdown: string): Map<string, FieldRow[]> {
  const lines = markdown.split('\n');
  const out = new Map<string, FieldRow[]>();
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!-- fields: ([A-Za-z]+) -->$/.exec(lines[i]!.trim());
    if (m === null) continue;
    const rows: FieldRow[] = out.get(m[1]!) ?? [];
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    let seenRule = false;
    for (; j < lines.length && lines[j]!.trim().startsWith('|'); j++) {
      const cells = splitRow(lines[j]!);
      if (!seenRule) {
        if (cells.every((c) => /^:?-+:?$/.test(c))) seenRule = true;
        continue;
      }
      const path = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1] ?? cells[0] ?? '';
      rows.push({ path, cells, line: j + 1 });
    }
    out.set(m[1]!, rows);
  }
  return out;
}

export interface CodeBlock {
  /** The info string after the opening fence: `yaml`, `yaml invalid`, `text`. */
  readonly info: string;
  readonly text: string;
  /** 1-based line of the first line of content. */
  readonly line: number;
}

/** Fenced code blocks (```), in order. */
export function extractCodeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const out: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && lines[j] !== '```') j++;
    out.push({ info: open[1]!.trim(), text: lines.slice(start, j).join('\n') + '\n', line: start + 1 });
    i = j;
  }
  return out;
}
