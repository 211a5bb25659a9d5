// A small column formatter: pad cells to the widest in their column, left or right
// aligned, with a configurable gap before each column. StreamingTable sizes its columns
// from the first rows only, so a million-row listing starts printing at once.

export interface Column {
  readonly header: string;
  /** Default left. */
  readonly align?: 'left' | 'right';
  /** Text between this column and the previous one; default two spaces. */
  readonly gap?: string;
}

/** Display width: code points (tables hold addresses, numbers and ASCII names). */
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, w: number, align: 'left' | 'right'): string {
  const fill = w - width(s);
  if (fill <= 0) return s;
  return align === 'right' ? ' '.repeat(fill) + s : s + ' '.repeat(fill);
}

export function columnWidths(columns: readonly Column[], rows: readonly (readonly string[])[]): number[] {
  const widths = columns.map((c) => width(c.header));
  for (const row of rows) {
    for (let i = 0; i < columns.length; i++) widths[i] = Math.max(widths[i]!, width(row[i] ?? ''));
  }
  return widths;
}

/** One line (with its newline); the last column is not padded, trailing spaces trimmed. */
export function formatRow(columns: readonly Column[], widths: readonly number[], cells: readonly string[]): string {
  let out = '';
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    const cell = cells[i] ?? '';
    if (i > 0) out += c.gap ?? '  ';
    const last = i === columns.length - 1;
    out += last && c.align !== 'right' ? cell : pad(cell, widths[i]!, c.align ?? 'left');
  }
  return `${out.trimEnd()}\n`;
}

export function formatHeader(columns: readonly Column[], widths: readonly number[]): string {
  return formatRow(columns, widths, columns.map((c) => c.header));
}

/** Header and rows, sized to fit everything. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(columns, rows);
  let out = formatHeader(columns, widths);
  for (const r of rows) out += formatRow(columns, widths, r);
  return out;
}

/**
 * Rows in, text out, without holding more than `sample` rows: the first `sample` rows
 * decide the widths (a longer cell later just pushes its row to the right).
 */
export class StreamingTable {
  private readonly columns: readonly Column[];
  private readonly sample: number;
  private buffered: (readonly string[])[] = [];
  private widths: number[] | undefined;
  private rowCount = 0;

  constructor(columns: readonly Column[], sample = 500) {
    this.columns = columns;
    this.sample = sample;
  }

  get rows(): number {
    return this.rowCount;
  }

  /** Text to print now ('' while still sampling). */
  push(cells: readonly string[]): string {
    this.rowCount++;
    if (this.widths !== undefined) return formatRow(this.columns, this.widths, cells);
    this.buffered.push(cells);
    return this.buffered.length >= this.sample ? this.flush() : '';
  }

  /** Whatever is still buffered (header included); '' when there were no rows. */
  end(): string {
    return this.widths === undefined && this.buffered.length > 0 ? this.flush() : '';
  }

  private flush(): string {
    this.widths = columnWidths(this.columns, this.buffered);
    let out = formatHeader(this.columns, this.widths);
    for (const r of this.buffered) out += formatRow(this.columns, this.widths, r);
    this.buffered = [];
    return out;
  }
}
