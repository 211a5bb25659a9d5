// Every saved finding replayed through its target: files in test/fixtures/fuzz/findings/
// (written by `node dist/fuzz/run.js`, see docs/fuzzing.md). A `# todo: reason` header
// marks a finding whose fix is pending; it runs as a todo test so the suite stays green.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../../fuzz/engine.js';
import { parseFindingFile } from '../../fuzz/finding-file.js';
import { FIXTURES } from '../../fuzz/paths.js';
import { isTargetName, makeTarget, type CountingTarget, type TargetName } from '../../fuzz/targets/index.js';

const DIR = join(FIXTURES, 'findings');
const files = existsSync(DIR) ? readdirSync(DIR).filter((n) => n.endsWith('.hex')).sort() : [];
const targets = new Map<TargetName, CountingTarget>();

test('the findings folder holds regression cases', () => {
  assert.ok(files.length > 0, `no finding files in ${DIR}`);
});

for (const file of files) {
  const { meta, input } = parseFindingFile(readFileSync(join(DIR, file), 'utf8'));
  const name = meta.target ?? '';
  const title = `${file}: ${meta.title ?? meta.message ?? ''}`.slice(0, 160);
  test(title, meta.todo === undefined ? {} : { todo: meta.todo }, () => {
    assert.ok(isTargetName(name), `unknown target ${name}`);
    let t = targets.get(name);
    if (t === undefined) targets.set(name, (t = makeTarget(name)));
    try {
      t.run(input);
    } catch (e) {
      const f = classify(e, name, input);
      assert.fail(`${f.kind}: ${f.message}`);
    }
  });
}
