// docs/configuration.md against the code: the generated tables (effects, kinds,
// well-known communities) are current, every schema field is documented (and no
// documented field is gone), required fields and defaults agree with the schemas, and
// every example loads, with `tsbgp config check` output exactly as the page shows it.
//
// After changing diff.ts EFFECT_TABLE (or KINDS, or the community table), regenerate:
//   TSBGP_UPDATE_DOCS=1 node scripts/test.mjs dist/test/config/docs.test.js
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { z } from 'zod';
import { summarise, renderConfigCheck } from '../../src/cli/config-check.js';
import type { ConfigCheckResult } from '../../src/cli/config-check.js';
import { toConfigIssue } from '../../src/api/config-issue.js';
import { resolveTexts } from '../../src/config/config.js';
import { EFFECT_TABLE } from '../../src/config/diff.js';
import {
  extractCodeBlocks, extractFieldTables, extractGenerated, FIELD_SECTIONS, formatDefault, GENERATED_SECTIONS, renderEffectTable,
  renderKindsTable, renderWellKnownCommunities, replaceGenerated, schemaFields, staleGenerated, updateGenerated,
} from '../../src/config/docs.js';
import type { CodeBlock } from '../../src/config/docs.js';

// dist/test/config → the source tree's docs.
const DOC_PATH = join(fileURLToPath(new URL('.', import.meta.url)), '../../../docs/configuration.md');
let doc = readFileSync(DOC_PATH, 'utf8');

if (process.env['TSBGP_UPDATE_DOCS'] === '1') {
  const updated = updateGenerated(doc);
  if (updated !== doc) writeFileSync(DOC_PATH, updated);
  doc = updated;
}

// ---------------------------------------------------------------------------
// The generators themselves, on hand-made input

test('renderEffectTable: one row per rule, in order, effect in bold, pipes escaped', () => {
  const md = renderEffectTable([
    { scope: 'peer', field: 'timers.holdTime', sources: 'holdTimeSeconds', effect: 'session-reset', why: 'negotiated in the OPEN' },
    { scope: 'instance', field: 'origin', sources: 'a | b', effect: 'hot', why: 'bookkeeping' },
  ]);
  assert.equal(
    md,
    '| Scope | Change | Manifest fields | Effect | Why |\n' +
      '|---|---|---|---|---|\n' +
      '| peer | `timers.holdTime` | holdTimeSeconds | **session-reset** | negotiated in the OPEN |\n' +
      '| instance | `origin` | a \\| b | **hot** | bookkeeping |\n',
  );
});

test('renderEffectTable: the real table has every rule of EFFECT_TABLE', () => {
  const lines = renderEffectTable().trimEnd().split('\n');
  assert.equal(lines.length, EFFECT_TABLE.length + 2);
  // RFC 4271 §4.2: the hold time is negotiated in the OPEN, so changing it needs a new session.
  assert.ok(lines.includes('| peer | `timers.holdTime` | holdTimeSeconds | **session-reset** | the hold time is negotiated in the OPEN |'));
});

test('renderKindsTable and renderWellKnownCommunities format their input', () => {
  const kinds = renderKindsTable({ Node: { apiVersions: ['v1'], namespaced: false }, Secret: { apiVersions: ['v1'], namespaced: true } } as never);
  assert.equal(kinds, '| Kind | apiVersion | Scope |\n|---|---|---|\n| `Node` | `v1` | cluster |\n| `Secret` | `v1` | namespaced |\n');
  // RFC 1997: NO_EXPORT is 0xFFFFFF01 = 65535:65281.
  assert.equal(renderWellKnownCommunities({ 'no-export': 0xffffff01 }), '| Name | Value |\n|---|---|\n| `no-export` | `65535:65281` (0xffffff01) |\n');
});

test('extractGenerated / replaceGenerated work between the markers only', () => {
  const md = 'intro\n<!-- x:begin -->\nold\n<!-- x:end -->\nafter\n';
  assert.equal(extractGenerated(md, 'x'), 'old\n');
  assert.equal(extractGenerated(md, 'y'), undefined);
  assert.equal(replaceGenerated(md, 'x', 'new\nrows\n'), 'intro\n<!-- x:begin -->\nnew\nrows\n<!-- x:end -->\nafter\n');
  assert.throws(() => replaceGenerated(md, 'y', ''), /markers/);
});

test('schemaFields lists nested fields with required/default, stops at shared shapes', () => {
  const s = z.object({
    name: z.string(),
    port: z.number().default(179),
    tags: z.array(z.string()).optional(),
    ignored: z.unknown(),
    peers: z.array(z.object({ address: z.string(), ttl: z.number().optional() })),
    selector: z.object({ matchLabels: z.record(z.string()), matchExpressions: z.array(z.unknown()) }).optional(),
  });
  assert.deepEqual(
    schemaFields(s).map((f) => [f.path, f.required, f.hasDefault ? f.default : null, f.shape]),
    [
      ['name', true, null, 'value'],
      ['port', false, 179, 'value'],
      ['tags', false, null, 'list'],
      ['peers', true, null, 'list'],
      ['peers[].address', true, null, 'value'],
      ['peers[].ttl', false, null, 'value'],
      ['selector', false, null, 'labelSelector'],
    ],
  );
});

test('extractFieldTables and extractCodeBlocks read the markdown forms the page uses', () => {
  const md = [
    '<!-- fields: Thing -->',
    '| Field | Type | Default | Meaning |',
    '|---|---|---|---|',
    '| `a.b` | x \\| y | required | z |',
    '',
    '```yaml invalid file=f.yaml',
    'a: 1',
    '```',
  ].join('\n');
  const t = extractFieldTables(md).get('Thing');
  assert.deepEqual(t?.map((r) => [r.path, r.cells[1], r.line]), [['a.b', 'x | y', 4]]);
  assert.deepEqual(extractCodeBlocks(md), [{ info: 'yaml invalid file=f.yaml', text: 'a: 1\n', line: 7 }]);
});

// ---------------------------------------------------------------------------
// docs/configuration.md

test('docs/configuration.md: generated tables match the code', () => {
  assert.deepEqual(staleGenerated(doc), [], 'regenerate with TSBGP_UPDATE_DOCS=1 (see the top of this test)');
  for (const name of Object.keys(GENERATED_SECTIONS)) assert.ok(extractGenerated(doc, name)?.startsWith('| '), name);
});

test('docs/configuration.md: every field of every kind is documented, and nothing else', () => {
  const tables = extractFieldTables(doc);
  for (const [section, schema] of Object.entries(FIELD_SECTIONS)) {
    const rows = tables.get(section);
    assert.ok(rows !== undefined && rows.length > 0, `no "<!-- fields: ${section} -->" table`);
    const fields = new Map(schemaFields(schema).map((f) => [f.path, f]));
    const documented = new Set(rows.map((r) => r.path));
    const missing = [...fields.keys()].filter((p) => !documented.has(p));
    assert.deepEqual(missing, [], `${section}: fields without a row`);
    const stale = rows.filter((r) => !fields.has(r.path)).map((r) => `${r.path} (line ${r.line})`);
    assert.deepEqual(stale, [], `${section}: rows for fields the schema does not have`);
    for (const r of rows) {
      const f = fields.get(r.path)!;
      assert.equal(r.cells.length, 4, `${section} ${r.path}: expected 4 cells`);
      const def = r.cells[2]!.replace(/`/g, '');
      assert.equal(def === 'required', f.required, `${section} ${r.path}: default cell "${def}" vs required=${f.required} (line ${r.line})`);
      const want = f.hasDefault ? formatDefault(f.default) : undefined;
      if (want !== undefined) assert.ok(def.includes(want), `${section} ${r.path}: default cell "${def}" should show ${want} (line ${r.line})`);
    }
  }
});

interface Example {
  readonly file: string;
  readonly invalid: boolean;
  readonly block: CodeBlock;
}

function examples(): Map<string, Example> {
  const out = new Map<string, Example>();
  for (const b of extractCodeBlocks(doc)) {
    const words = b.info.split(/\s+/);
    if (words[0] !== 'yaml') continue;
    const file = words.find((w) => w.startsWith('file='))?.slice(5);
    assert.ok(file !== undefined, `yaml block at line ${b.line} has no file=NAME`);
    assert.ok(!out.has(file), `two yaml blocks named ${file}`);
    out.set(file, { file, invalid: words.includes('invalid'), block: b });
  }
  return out;
}

interface CheckCommand {
  readonly files: string[];
  readonly node: string;
  readonly expected: string;
  readonly line: number;
}

function checkCommands(): CheckCommand[] {
  const out: CheckCommand[] = [];
  for (const b of extractCodeBlocks(doc)) {
    const [first, ...rest] = b.text.split('\n');
    const m = /^\$ tsbgp config check (.+) --node-name (\S+)$/.exec(first ?? '');
    if (b.info !== 'text' || m === null) continue;
    out.push({ files: m[1]!.split(' '), node: m[2]!, expected: rest.join('\n'), line: b.line });
  }
  return out;
}

/** What `tsbgp config check FILES --node-name NODE` prints, from the page's blocks. */
function runCheck(ex: Map<string, Example>, files: readonly string[], node: string): { out: string; errors: number } {
  const texts = files.map((f) => {
    const e = ex.get(f);
    assert.ok(e !== undefined, `no yaml block named ${f}`);
    return { file: f, text: e.block.text };
  });
  const r = resolveTexts(texts, node);
  const result: ConfigCheckResult = {
    valid: r.config !== undefined,
    nodeName: node,
    paths: files,
    api: r.config?.api ?? null,
    instances: r.config === undefined ? [] : summarise(r.config),
    errors: r.errors.map(toConfigIssue),
    warnings: r.warnings.map(toConfigIssue),
  };
  return { out: renderConfigCheck(result), errors: r.errors.length };
}

test('docs/configuration.md: every `tsbgp config check` output is what the code prints', () => {
  const ex = examples();
  const cmds = checkCommands();
  assert.ok(cmds.length >= 5, `found only ${cmds.length} check commands`);
  for (const c of cmds) {
    assert.equal(runCheck(ex, c.files, c.node).out, c.expected, `output of the check at line ${c.line}`);
  }
});

test('docs/configuration.md: valid examples load without errors, invalid ones are refused', () => {
  const ex = examples();
  const cmds = checkCommands();
  // One example per kind at least.
  const kinds = new Set<string>();
  for (const e of ex.values()) for (const m of e.block.text.matchAll(/^kind: (\w+)$/gm)) kinds.add(m[1]!);
  for (const k of Object.keys(FIELD_SECTIONS).filter((s) => /^[A-Z]/.test(s))) assert.ok(kinds.has(k), `no example of ${k}`);

  for (const e of ex.values()) {
    // Loaded with the files of the first check that names it, else alone.
    const cmd = cmds.find((c) => c.files.includes(e.file));
    const r = runCheck(ex, cmd?.files ?? [e.file], cmd?.node ?? 'worker-1');
    if (e.invalid) {
      assert.ok(cmd !== undefined, `invalid example ${e.file} has no check output`);
      assert.ok(r.errors > 0, `${e.file} is marked invalid but loads`);
    } else {
      assert.equal(r.errors, 0, `${e.file} (line ${e.block.line}) has errors:\n${r.out}`);
    }
  }
});
