// Small text formats for committed binary inputs: one hex string per line, `#` comments.
import { readFileSync } from 'node:fs';

export function parseHexLines(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    if (!/^([0-9a-fA-F]{2})*$/.test(line)) throw new Error(`not a hex line: ${line.slice(0, 40)}`);
    out.push(Buffer.from(line, 'hex'));
  }
  return out;
}

export function readHexFile(path: string): Buffer[] {
  return parseHexLines(readFileSync(path, 'utf8'));
}

export function formatHexLines(inputs: readonly Buffer[], header: readonly string[] = []): string {
  return [...header.map((h) => `# ${h}`), ...inputs.map((b) => b.toString('hex'))].join('\n') + '\n';
}
