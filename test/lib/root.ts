// Decides whether tests that need network namespaces (and real routing daemons) can run.
// Usage: test('x', { skip: needsRoot('bird', 'birdc') }, async () => { ... })
// The reason is printed by the runner as a SKIP; nothing passes silently.
// Under CI=true a missing prerequisite does not skip: CI runs as root with the daemons
// installed by .ci/run, so the test runs and fails with the real error instead.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

let netnsReason: string | undefined | null = null; // null: not probed yet

function probeNetns(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'needs root to create network namespaces (run as root, e.g. in CI)';
  }
  if (findTool('ip') === undefined) return 'needs iproute2 (`ip`)';
  const name = `tsb-${process.pid}-probe`; // swept like a lab if we die here
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8', timeout: 10_000 });
  if (add.status !== 0) {
    return `\`ip netns add\` does not work here: ${(add.stderr || add.error?.message || '').trim()}`;
  }
  const ex = spawnSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  spawnSync('ip', ['netns', 'del', name], { timeout: 10_000 });
  if (ex.status !== 0) return `\`ip netns exec\` does not work here: ${(ex.stderr || '').trim()}`;
  return undefined;
}

/** Absolute path of an executable (a name looked up in PATH and the sbin dirs, or a path). */
export function findTool(tool: string): string | undefined {
  const ok = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (tool.includes('/')) return ok(tool) ? tool : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (d && ok(join(d, tool))) return join(d, tool);
  }
  return undefined;
}

/** Why these tests cannot run here (not root, `ip netns` unusable, a tool missing), or undefined. */
export function whyNoNetns(...tools: string[]): string | undefined {
  if (netnsReason === null) netnsReason = probeNetns();
  if (netnsReason !== undefined) return netnsReason;
  const missing = tools.filter((t) => findTool(t) === undefined);
  if (missing.length > 0) return `needs ${missing.join(', ')} (apt-get install bird2 frr gobgpd)`;
  return undefined;
}

/**
 * A skip reason for `test(..., { skip })`, or undefined when the test can run.
 * Pass the daemons/tools the test needs, e.g. needsRoot('bird', 'birdc').
 */
export function needsRoot(...tools: string[]): string | undefined {
  const reason = whyNoNetns(...tools);
  if (reason !== undefined && process.env.CI === 'true') {
    process.stderr.write(`CI=true: not skipping although ${reason}\n`);
    return undefined;
  }
  return reason;
}
