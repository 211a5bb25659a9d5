// tsbgpd's V8 flags are read by V8 only at start, so they are repeated on every command
// line that starts it; this keeps those copies equal to the list in src/bin/node-flags.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TSBGPD_NODE_FLAGS } from '../../src/bin/node-flags.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('the tsbgpd shebang starts node with TSBGPD_NODE_FLAGS', () => {
  const first = readFileSync(`${ROOT}src/bin/tsbgpd.ts`, 'utf8').split('\n')[0];
  assert.equal(first, `#!/usr/bin/env -S node ${TSBGPD_NODE_FLAGS.join(' ')}`);
  // The compiled file keeps it (tsc copies a leading shebang).
  assert.equal(readFileSync(`${ROOT}dist/src/bin/tsbgpd.js`, 'utf8').split('\n')[0], first);
});

test('the flags are ones this node accepts', () => {
  for (const f of TSBGPD_NODE_FLAGS) assert.ok(process.allowedNodeEnvironmentFlags.has(f.split('=')[0]!), f);
});
