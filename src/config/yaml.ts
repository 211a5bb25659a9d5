// YAML text (one or many documents; JSON is YAML) → plain values with a locator
// that maps a field path back to line:column. Pure: the text comes in as a string.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { makeDiagnostic } from './diagnostics.js';
import type { Diagnostic, Locator, PathSegment, Position } from './diagnostics.js';
import type { InputObject } from './validate.js';

export interface ParsedText {
  readonly inputs: InputObject[];
  readonly diagnostics: Diagnostic[];
}

function positionOf(lc: LineCounter, offset: number): Position {
  const p = lc.linePos(offset);
  return { line: p.line, column: p.col };
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** The key position when the path ends on a map entry, else the node; the deepest found node on a miss. */
function makeLocator(doc: Document, lc: LineCounter): Locator {
  return (path: readonly PathSegment[]): Position | undefined => {
    let node: unknown = doc.contents;
    let best: number | undefined = (doc.contents as YamlNode | null)?.range?.[0];
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
        if (pair === undefined) break;
        const keyNode = pair.key as YamlNode | null;
        if (keyNode?.range) best = keyNode.range[0];
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as YamlNode | undefined;
        if (item === undefined) break;
        if (item.range) best = item.range[0];
        node = item;
      } else {
        break;
      }
    }
    return best === undefined ? undefined : positionOf(lc, best);
  };
}

export function parseYamlText(text: string, file: string | undefined): ParsedText {
  const lc = new LineCounter();
  const inputs: InputObject[] = [];
  const diagnostics: Diagnostic[] = [];
  // YAML 1.2 core schema, so `64512:100` stays a string (YAML 1.1 would read a base-60
  // number); merge keys (`<<`) on, as kubectl accepts them.
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, merge: true });
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, i) => {
    const document = i + 1;
    const baseSource = { file, document, base: [] as PathSegment[], locate: undefined };
    for (const e of [...doc.errors, ...doc.warnings]) {
      const pos = positionOf(lc, e.pos[0]);
      const warning = e.name === 'YAMLWarning';
      diagnostics.push({
        ...makeDiagnostic({
          code: warning ? 'YamlWarning' : 'YamlSyntax',
          severity: warning ? 'warning' : 'error',
          message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
          source: baseSource,
        }),
        line: pos.line,
        column: pos.column,
      });
    }
    if (doc.errors.length > 0) return;
    const contents = doc.contents;
    // Empty documents (only comments, or a stray `---`) are skipped.
    if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === undefined))) return;
    inputs.push({ value: doc.toJS({ maxAliasCount: 100 }) as unknown, source: { file, document, base: [], locate: makeLocator(doc, lc) } });
  });
  return { inputs, diagnostics };
}
