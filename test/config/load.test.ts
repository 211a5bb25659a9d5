// The thin file loader: files, directories (sorted, *.yaml|*.yml|*.json, not
// recursive), several documents per file, JSON, read errors, YAML positions.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { expandPaths, loadConfig } from '../../src/config/load.js';
import { parseYamlText } from '../../src/config/yaml.js';

let dir = '';

const NODE = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } };
const POLICY = `apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: {name: p}
spec:
  virtualRouters:
  - localASN: 65001
    neighbors:
    - {peerAddress: 10.0.0.2/32, peerASN: 65002}
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbgp-config-'));
  await writeFile(join(dir, '10-node.json'), JSON.stringify(NODE, null, 2));
  await writeFile(join(dir, '20-policy.yml'), `# comment only document\n---\n${POLICY}---\n`);
  await writeFile(join(dir, 'README.md'), 'not config');
  await writeFile(join(dir, '.hidden.yaml'), 'garbage: [');
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'ignored.yaml'), 'garbage: [');
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a directory: only *.yaml/*.yml/*.json, sorted, not recursive, no dotfiles', async () => {
  const { files, diagnostics } = await expandPaths([dir]);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(files, [join(dir, '10-node.json'), join(dir, '20-policy.yml')]);
  const r = await loadConfig([dir], 'n1');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.config?.instances.map((i) => [i.name, i.routerId]), [['vr-65001', '10.0.0.1']]);
});

test('files given one by one, and a missing path as a read error', async () => {
  const r = await loadConfig([join(dir, '10-node.json'), join(dir, '20-policy.yml'), join(dir, 'nope.yaml')], 'n1');
  assert.equal(r.config, undefined);
  assert.deepEqual(r.errors.map((e) => [e.code, e.file]), [['ReadError', join(dir, 'nope.yaml')]]);
  assert.match(formatDiagnostic(r.errors[0]!), /nope\.yaml: cannot read: ENOENT/);
});

test('JSON is parsed with positions too', async () => {
  const text = JSON.stringify({ ...NODE, spec: { podCIDRs: ['10.0.0.0/8', 'x'] } }, null, 2);
  const r = await loadConfig([dir], 'n1');
  assert.deepEqual(r.errors, []);
  const p = parseYamlText(text, 'node.json');
  const pos = p.inputs[0]!.source.locate!(['spec', 'podCIDRs', 1]);
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes('"x"')) + 1;
  assert.deepEqual(pos, { line, column: lines[line - 1]!.indexOf('"x"') + 1 });
});

test('documents are numbered from 1 (YAML spec: a leading comment belongs to the first), empty ones counted', () => {
  const prefix = `# nothing\n---\n${POLICY}---\n---\n`;
  const p = parseYamlText(prefix + POLICY, 'f.yaml');
  assert.deepEqual(p.diagnostics, []);
  assert.deepEqual(p.inputs.map((i) => i.source.document), [1, 3]);
  // The locator points at keys, and at the deepest existing node for a missing path.
  const loc = p.inputs[1]!.source.locate!;
  const start = prefix.split('\n').length; // line of the second policy's first line
  const lines = POLICY.split('\n');
  const at = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    return { line: start + i, column: lines[i]!.indexOf(needle) + 1 };
  };
  assert.deepEqual(loc(['spec', 'virtualRouters', 0, 'localASN']), at('localASN'));
  assert.deepEqual(loc(['spec', 'virtualRouters', 0, 'nosuchfield']), at('localASN')); // the router entry
  assert.deepEqual(loc(['spec', 'virtualRouters', 0, 'neighbors', 0, 'peerASN']), at('peerASN'));
  assert.deepEqual(loc(['metadata', 'name']), at('name'));
});

test('YAML merge keys are honoured, as kubectl does', async () => {
  const r = parseYamlText('base: &b {peerASN: 65000}\nx:\n  <<: *b\n  peerPort: 1\n', 'm.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.inputs[0]!.value, { base: { peerASN: 65000 }, x: { peerASN: 65000, peerPort: 1 } });
});

test('unknown kinds of a cluster dump: one warning per file and kind', async () => {
  const pods = Array.from({ length: 3 }, (_, i) => `---\napiVersion: v1\nkind: Pod\nmetadata: {name: p${i}}\n`).join('');
  const { resolveTexts } = await import('../../src/config/config.js');
  const r = resolveTexts([{ file: 'dump.yaml', text: `${POLICY}${pods}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n` }], 'n1');
  assert.deepEqual(
    r.warnings.filter((w) => w.code === 'UnknownKind').map((w) => [w.object, w.document, w.message]),
    [
      ['Pod/p0', 2, 'kind Pod (v1) is not used by tsbgp; 3 objects ignored (the first is shown)'],
      ['ConfigMap/c', 5, 'kind ConfigMap (v1) is not used by tsbgp; ignored'],
    ],
  );
});
