// Validation and resolution messages: where (file, document, object, field path,
// line:column) and what (expected vs found), with a stable `code` for scripts.

export type PathSegment = string | number;
export type Severity = 'error' | 'warning';

/** Line and column are 1-based, as editors show them. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Maps a field path inside one document to its position in the source text. */
export type Locator = (path: readonly PathSegment[]) => Position | undefined;

/** Where an object came from; absent fields for objects handed over in memory (k8s). */
export interface Source {
  readonly file: string | undefined;
  /** 1-based index of the YAML document within the file. */
  readonly document: number | undefined;
  /** Path of the object inside the document (non-empty for items of a `List`). */
  readonly base: readonly PathSegment[];
  readonly locate: Locator | undefined;
}

export const NO_SOURCE: Source = { file: undefined, document: undefined, base: [], locate: undefined };

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable identifier: e.g. `UnknownField`, `InvalidValue`, `cilium.io/MissingAuthSecret`. */
  readonly code: string;
  /** What was expected and what was found; no location prefix. */
  readonly message: string;
  readonly file: string | undefined;
  readonly document: number | undefined;
  /** `Kind/name` (or `Kind/namespace/name`) of the object concerned. */
  readonly object: string | undefined;
  /** Field path inside the object, e.g. `spec.virtualRouters[0].neighbors[1].holdTimeSeconds`. */
  readonly path: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `spec.virtualRouters[0].neighbors[1]`, `metadata.annotations["cilium.io/x"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out.length === 0 ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export interface DiagnosticInit {
  readonly severity?: Severity;
  readonly code: string;
  readonly message: string;
  readonly source?: Source | undefined;
  readonly object?: string | undefined;
  /** Path relative to the object (the source's base is prepended for positions). */
  readonly path?: readonly PathSegment[];
}

export function makeDiagnostic(init: DiagnosticInit): Diagnostic {
  const source = init.source ?? NO_SOURCE;
  const rel = init.path;
  const full = rel === undefined ? undefined : [...source.base, ...rel];
  const pos = full !== undefined && source.locate !== undefined ? source.locate(full) : undefined;
  return {
    severity: init.severity ?? 'error',
    code: init.code,
    message: init.message,
    file: source.file,
    document: source.document,
    object: init.object,
    path: rel === undefined || rel.length === 0 ? undefined : formatPath(rel),
    line: pos?.line,
    column: pos?.column,
  };
}

/**
 * One line for terminals and logs:
 * `policy.yaml:14:9: document 2, CiliumBGPPeeringPolicy/rack0: spec.x: expected …, found …`
 */
export function formatDiagnostic(d: Diagnostic): string {
  const where: string[] = [];
  if (d.file !== undefined) {
    let loc = d.file;
    if (d.line !== undefined) loc += `:${d.line}:${d.column ?? 1}`;
    where.push(loc);
  }
  const ctx: string[] = [];
  if (d.document !== undefined) ctx.push(`document ${d.document}`);
  if (d.object !== undefined) ctx.push(d.object);
  if (ctx.length > 0) where.push(ctx.join(', '));
  if (d.path !== undefined) where.push(d.path);
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  return where.length === 0 ? `${prefix}${d.message}` : `${where.join(': ')}: ${prefix}${d.message}`;
}

/** Short description of a value for "found …" in messages; never dumps big objects. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

/** Levenshtein distance, for "did you mean" on unknown field names. */
export function editDistance(a: string, b: string): number {
  const al = a.toLowerCase();
  const bl = b.toLowerCase();
  let prev = Array.from({ length: bl.length + 1 }, (_, i) => i);
  for (let i = 1; i <= al.length; i++) {
    const cur = [i];
    for (let j = 1; j <= bl.length; j++) {
      const cost = al[i - 1] === bl[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = cur;
  }
  return prev[bl.length]!;
}

export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  // Close enough to be a typo: at most a third of the word, and at least one edit allowed.
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
