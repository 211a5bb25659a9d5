// The only file of config/ that touches the file system: expands paths (files and
// directories of *.yaml, *.yml, *.json; not recursive, sorted), reads them, and hands
// the text to the pure parser and resolver.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { toLoadResult, validateInputs } from './config.js';
import type { LoadResult } from './config.js';
import { makeDiagnostic } from './diagnostics.js';
import type { Diagnostic } from './diagnostics.js';
import { resolveObjects } from './resolve.js';
import type { ResolveOptions } from './resolve.js';
import type { InputObject } from './validate.js';
import { parseYamlText } from './yaml.js';

const EXTENSIONS = ['.yaml', '.yml', '.json'];

export interface ReadResult {
  readonly inputs: InputObject[];
  readonly diagnostics: Diagnostic[];
  /** The files actually read, for watching. */
  readonly files: string[];
}

function ioError(file: string, err: unknown): Diagnostic {
  const msg = err instanceof Error ? err.message : String(err);
  return makeDiagnostic({ code: 'ReadError', message: `cannot read: ${msg}`, source: { file, document: undefined, base: [], locate: undefined } });
}

export async function expandPaths(paths: readonly string[]): Promise<{ files: string[]; diagnostics: Diagnostic[] }> {
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      if (st.isDirectory()) {
        const names = (await readdir(p)).filter((n) => EXTENSIONS.some((e) => n.endsWith(e)) && !n.startsWith('.')).sort();
        files.push(...names.map((n) => join(p, n)));
      } else {
        files.push(p);
      }
    } catch (err) {
      diagnostics.push(ioError(p, err));
    }
  }
  return { files, diagnostics };
}

export async function readConfigInputs(paths: readonly string[]): Promise<ReadResult> {
  const { files, diagnostics } = await expandPaths(paths);
  const inputs: InputObject[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      diagnostics.push(ioError(file, err));
      continue;
    }
    const parsed = parseYamlText(text, file);
    inputs.push(...parsed.inputs);
    diagnostics.push(...parsed.diagnostics);
  }
  return { inputs, diagnostics, files };
}

/** Files → this node's config, with every warning and error (I/O errors included). */
export async function loadConfig(paths: readonly string[], nodeName: string, options: ResolveOptions = {}): Promise<LoadResult> {
  const read = await readConfigInputs(paths);
  const v = validateInputs(read.inputs);
  const r = resolveObjects(v.objects, nodeName, options);
  return toLoadResult(r.config, [...read.diagnostics, ...v.diagnostics, ...r.diagnostics]);
}
