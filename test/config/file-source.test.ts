// FileSource: loads like loadConfig, and its watcher keeps working when a file is
// replaced by rename (editors and `kubectl cp`-style tools write a temp file and
// rename it over the original; ConfigMap volumes swap a `..data` symlink).
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FileSource, isRelevantEntry } from '../../src/config/file-source.js';

let dir = '';

const node = `apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
`;
const policy = (hold: number) => `apiVersion: cilium.io/v2alpha1
kind: CiliumBGPPeeringPolicy
metadata: {name: p}
spec:
  virtualRouters:
  - localASN: 65001
    neighbors:
    - {peerAddress: 10.0.0.2/32, peerASN: 65002, holdTimeSeconds: ${hold}, keepAliveTimeSeconds: 3}
`;

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const holdOf = async (src: FileSource) => (await src.load()).config?.instances[0]?.peers[0]?.timers.holdTime;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbgp-filesource-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('isRelevantEntry: named files, config files of a directory, ConfigMap swaps', () => {
  assert.equal(isRelevantEntry('policy.yaml', new Set(['policy.yaml'])), true);
  assert.equal(isRelevantEntry('.policy.yaml.swp', new Set(['policy.yaml'])), false);
  assert.equal(isRelevantEntry('..data', new Set(['policy.yaml'])), true);
  assert.equal(isRelevantEntry('x.yml', undefined), true);
  assert.equal(isRelevantEntry('notes.txt', undefined), false);
  assert.equal(isRelevantEntry(null, new Set(['a'])), true);
});

test('a file replaced by rename, twice: two reloads, each with the new content', async () => {
  const d = join(dir, 'rename');
  await mkdir(d);
  const file = join(d, 'policy.yaml');
  await writeFile(join(d, 'node.yaml'), node);
  await writeFile(file, policy(30));
  const src = new FileSource([file, join(d, 'node.yaml')], 'n1', { debounceMs: 50 });
  const triggers: string[] = [];
  src.watch((t) => triggers.push(t));
  assert.equal(await holdOf(src), 30);
  // Give the watchers a moment to be armed (stat is async).
  await new Promise((r) => setTimeout(r, 100));
  for (const [i, hold] of [[1, 60], [2, 90]] as const) {
    const tmp = join(d, `.policy.yaml.tmp${i}`);
    await writeFile(tmp, policy(hold));
    await rename(tmp, file);
    await waitFor(`reload ${i}`, () => triggers.length === i);
    assert.equal(await holdOf(src), hold);
    // Quiet for longer than the debounce so the next replacement is a separate reload.
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(triggers.length, i);
  }
  assert.deepEqual(triggers, ['file-change', 'file-change']);
  // A plain in-place write still counts.
  await writeFile(file, policy(120));
  await waitFor('in-place write', () => triggers.length === 3);
  assert.equal(await holdOf(src), 120);
  await src.close();
  // Closed: nothing more.
  await writeFile(file, policy(45));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(triggers.length, 3);
});

test('a directory path: new files and renames inside it reload; other names do not', async () => {
  const d = join(dir, 'confdir');
  await mkdir(d);
  await writeFile(join(d, 'node.yaml'), node);
  const src = new FileSource([d], 'n1', { debounceMs: 50 });
  const triggers: string[] = [];
  src.watch((t) => triggers.push(t));
  assert.equal(await holdOf(src), undefined);
  await new Promise((r) => setTimeout(r, 100));
  await writeFile(join(d, 'README.txt'), 'not config');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(triggers.length, 0, 'a non-config file is ignored');
  const tmp = join(d, '.new.tmp');
  await writeFile(tmp, policy(75));
  await rename(tmp, join(d, 'policy.yaml'));
  await waitFor('new file', () => triggers.length === 1);
  assert.equal(await holdOf(src), 75);
  await src.close();
});

test('ConfigMap-style update: the ..data symlink is swapped by rename', async () => {
  // Layout of a ConfigMap volume: policy.yaml -> ..data/policy.yaml, ..data -> ..v1
  const d = join(dir, 'configmap');
  await mkdir(join(d, '..v1'), { recursive: true });
  await writeFile(join(d, '..v1', 'policy.yaml'), policy(30));
  await writeFile(join(d, '..v1', 'node.yaml'), node);
  await symlink('..v1', join(d, '..data'));
  await symlink('..data/policy.yaml', join(d, 'policy.yaml'));
  await symlink('..data/node.yaml', join(d, 'node.yaml'));
  const src = new FileSource([join(d, 'policy.yaml'), join(d, 'node.yaml')], 'n1', { debounceMs: 50 });
  const triggers: string[] = [];
  src.watch((t) => triggers.push(t));
  assert.equal(await holdOf(src), 30);
  await new Promise((r) => setTimeout(r, 100));
  await mkdir(join(d, '..v2'));
  await writeFile(join(d, '..v2', 'policy.yaml'), policy(66));
  await writeFile(join(d, '..v2', 'node.yaml'), node);
  await symlink('..v2', join(d, '..data_tmp'));
  await rename(join(d, '..data_tmp'), join(d, '..data'));
  await waitFor('ConfigMap swap', () => triggers.length >= 1);
  assert.equal(await holdOf(src), 66);
  await src.close();
});

test('a watched file deleted and re-created: still watched (the directory is)', async () => {
  const d = join(dir, 'recreate');
  await mkdir(d);
  const file = join(d, 'all.yaml');
  await writeFile(file, `${node}---\n${policy(30)}`);
  const src = new FileSource([file], 'n1', { debounceMs: 50 });
  const triggers: string[] = [];
  src.watch((t) => triggers.push(t));
  await new Promise((r) => setTimeout(r, 100));
  await unlink(file);
  await waitFor('delete seen', () => triggers.length === 1);
  assert.equal((await src.load()).config, undefined, 'a missing file is an error: the daemon keeps its last config');
  await new Promise((r) => setTimeout(r, 100));
  await writeFile(file, `${node}---\n${policy(50)}`);
  await waitFor('re-created', () => triggers.length === 2);
  assert.equal(await holdOf(src), 50);
  await src.close();
});

test('the parent directory removed and created again: re-armed, the new file is read', async () => {
  const d = join(dir, 'gone');
  await mkdir(d);
  const file = join(d, 'all.yaml');
  await writeFile(file, `${node}---\n${policy(30)}`);
  const src = new FileSource([file], 'n1', { debounceMs: 50, rearmMs: 50 });
  const triggers: string[] = [];
  src.watch((t) => triggers.push(t));
  await new Promise((r) => setTimeout(r, 100));
  await rm(d, { recursive: true });
  await waitFor('removal seen', () => triggers.length >= 1);
  await new Promise((r) => setTimeout(r, 150));
  await mkdir(d);
  await writeFile(file, `${node}---\n${policy(40)}`);
  await waitFor('re-created directory', async () => (await holdOf(src)) === 40 && triggers.length >= 2);
  // And it is watched again: a later replacement by rename reloads.
  const seen = triggers.length;
  await new Promise((r) => setTimeout(r, 150));
  await writeFile(join(d, '.tmp'), `${node}---\n${policy(50)}`);
  await rename(join(d, '.tmp'), file);
  await waitFor('watched again', () => triggers.length > seen);
  assert.equal(await holdOf(src), 50);
  await src.close();
});
