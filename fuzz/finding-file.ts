// One finding per file: `# key: value` header lines, then the input as one hex line.
// The CLI writes them; copied into test/fixtures/fuzz/findings/ they become regression
// tests (a `# todo: reason` line marks one that still fails, so the suite stays green).
import { createHash } from 'node:crypto';
import type { Finding } from './engine.js';
import { parseHexLines } from './hexfile.js';

export interface FindingFile {
  readonly meta: Readonly<Record<string, string>>;
  readonly input: Buffer;
}

export function findingFileName(f: Finding): string {
  const h = createHash('sha1').update(f.signature).digest('hex').slice(0, 10);
  return `${f.target}-${f.kind}-${h}.hex`;
}

export function formatFinding(f: Finding, extra: Readonly<Record<string, string>> = {}): string {
  const meta: Record<string, string> = {
    target: f.target,
    kind: f.kind,
    signature: f.signature,
    message: f.message,
    ...extra,
  };
  const lines = Object.entries(meta).map(([k, v]) => `# ${k}: ${v.replace(/\n/g, ' ')}`);
  const frames = f.stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 5)
    .map((l) => `#   ${l.trim()}`);
  return [...lines, ...(frames.length > 0 && f.stack !== '' ? ['# stack:', ...frames] : []), f.input.toString('hex'), ''].join('\n');
}

export function parseFindingFile(text: string): FindingFile {
  const meta: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^#\s*([a-z]+):\s?(.*)$/.exec(line);
    if (m !== null && meta[m[1]!] === undefined) meta[m[1]!] = m[2]!;
  }
  const inputs = parseHexLines(text);
  if (inputs.length > 1) throw new Error(`a finding file holds one hex line, found ${inputs.length}`);
  return { meta, input: inputs[0] ?? Buffer.alloc(0) };
}
