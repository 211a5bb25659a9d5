// The pure entry points: raw objects (in memory or parsed from text) → NodeConfig.
import type { Diagnostic } from './diagnostics.js';
import { NO_SOURCE } from './diagnostics.js';
import type { NodeConfig } from './model.js';
import { resolveObjects } from './resolve.js';
import type { ResolveOptions } from './resolve.js';
import { validateInput } from './validate.js';
import type { InputObject, KnownObject } from './validate.js';
import { parseYamlText } from './yaml.js';

export interface LoadResult {
  /** Undefined when there is any error: the caller keeps its last good config. */
  readonly config: NodeConfig | undefined;
  readonly warnings: Diagnostic[];
  readonly errors: Diagnostic[];
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  const fa = a.file ?? '';
  const fb = b.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (a.document ?? 0) - (b.document ?? 0) || (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0);
}

/** Splits diagnostics, orders them by position (stable), and withholds a config with errors. */
export function toLoadResult(config: NodeConfig, diagnostics: readonly Diagnostic[]): LoadResult {
  const errors = diagnostics.filter((d) => d.severity === 'error').sort(byPosition);
  const warnings = diagnostics.filter((d) => d.severity === 'warning').sort(byPosition);
  return { config: errors.length === 0 ? config : undefined, warnings, errors };
}

/** One UnknownKind warning per file and kind (a cluster dump holds thousands of Pods). */
function collapseUnknownKinds(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const firsts = new Map<string, { index: number; count: number }>();
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (d.code !== 'UnknownKind') {
      out.push(d);
      continue;
    }
    const key = `${d.file ?? ''}\u0000${d.message}`;
    const seen = firsts.get(key);
    if (seen === undefined) {
      firsts.set(key, { index: out.length, count: 1 });
      out.push(d);
    } else {
      seen.count++;
      out[seen.index] = { ...out[seen.index]!, message: d.message.replace(/; ignored$/, `; ${seen.count} objects ignored (the first is shown)`) };
    }
  }
  return out;
}

/** Validates every input (schema errors anywhere make the whole set invalid). */
export function validateInputs(inputs: readonly InputObject[]): { objects: KnownObject[]; diagnostics: Diagnostic[] } {
  const objects: KnownObject[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const input of inputs) {
    const r = validateInput(input);
    objects.push(...r.objects);
    diagnostics.push(...r.diagnostics);
  }
  return { objects, diagnostics: collapseUnknownKinds(diagnostics) };
}

export function resolveInputs(inputs: readonly InputObject[], nodeName: string, options: ResolveOptions = {}): LoadResult {
  const v = validateInputs(inputs);
  const r = resolveObjects(v.objects, nodeName, options);
  return toLoadResult(r.config, [...v.diagnostics, ...r.diagnostics]);
}

/** For objects already in memory (e.g. from the Kubernetes API): no file positions. */
export function resolve(objects: readonly unknown[], nodeName: string, options: ResolveOptions = {}): LoadResult {
  return resolveInputs(objects.map((value) => ({ value, source: NO_SOURCE })), nodeName, options);
}

export interface SourceText {
  /** Shown in messages; undefined for text that has no file (stdin, tests). */
  readonly file: string | undefined;
  readonly text: string;
}

/** YAML/JSON texts → this node's config; syntax errors included. */
export function resolveTexts(texts: readonly SourceText[], nodeName: string, options: ResolveOptions = {}): LoadResult {
  const inputs: InputObject[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const t of texts) {
    const p = parseYamlText(t.text, t.file);
    inputs.push(...p.inputs);
    diagnostics.push(...p.diagnostics);
  }
  const v = validateInputs(inputs);
  const r = resolveObjects(v.objects, nodeName, options);
  return toLoadResult(r.config, [...diagnostics, ...v.diagnostics, ...r.diagnostics]);
}
