// `tsbgp config check FILE...`: runs the daemon's own loader locally (no daemon needed)
// and reports what tsbgpd would do with the files, or why it would refuse them.
import { loadConfig } from '../config/load.js';
import type { NodeConfig } from '../config/model.js';
import { toConfigIssue } from '../api/config-issue.js';
import type { ConfigIssue } from '../api/types.js';
import { formatIssue } from './render.js';

export interface CheckedInstance {
  readonly name: string;
  readonly localAsn: number;
  readonly routerId: string;
  readonly peers: readonly string[];
  readonly advertisements: number;
  readonly origin: string;
}

/** `-o json` output of `config check`. */
export interface ConfigCheckResult {
  readonly valid: boolean;
  readonly nodeName: string;
  readonly paths: readonly string[];
  /** Which Cilium API selected this node; null when invalid. */
  readonly api: 'v1' | 'v2' | 'none' | null;
  readonly instances: readonly CheckedInstance[];
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

export function summarise(config: NodeConfig): CheckedInstance[] {
  return config.instances.map((i) => ({
    name: i.name,
    localAsn: i.localAsn,
    routerId: i.routerId,
    peers: i.peers.map((p) => (p.name === p.address ? p.address : `${p.name} (${p.address})`)),
    advertisements: i.advertisements.length,
    origin: i.origin,
  }));
}

export async function checkConfig(paths: readonly string[], nodeName: string): Promise<ConfigCheckResult> {
  const r = await loadConfig(paths, nodeName);
  return {
    valid: r.config !== undefined,
    nodeName,
    paths,
    api: r.config?.api ?? null,
    instances: r.config === undefined ? [] : summarise(r.config),
    errors: r.errors.map(toConfigIssue),
    warnings: r.warnings.map(toConfigIssue),
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function renderConfigCheck(c: ConfigCheckResult): string {
  let out = '';
  for (const e of c.errors) out += `${formatIssue(e)}\n`;
  for (const w of c.warnings) out += `${formatIssue(w)}\n`;
  const files = c.paths.join(', ');
  if (!c.valid) {
    return `${out}${files}: invalid (${plural(c.errors.length, 'error')}${c.warnings.length > 0 ? `, ${plural(c.warnings.length, 'warning')}` : ''}); tsbgpd would refuse it and keep its running configuration\n`;
  }
  if (c.instances.length === 0) {
    return `${out}${files}: valid, but nothing selects node ${c.nodeName}: tsbgpd would run no BGP instance\n`;
  }
  out += `${files}: valid for node ${c.nodeName} (${c.api} API)\n`;
  for (const i of c.instances) {
    out += `  instance ${i.name} (${i.origin}): AS ${i.localAsn}, router ID ${i.routerId}, ${plural(i.peers.length, 'peer')}, ${plural(i.advertisements, 'advertisement')}\n`;
    for (const p of i.peers) out += `    peer ${p}\n`;
  }
  return out;
}
