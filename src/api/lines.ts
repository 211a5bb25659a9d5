// NDJSON framing: bytes → lines, with a bound on the length of one line. A line over
// the bound is reported once and skipped up to its newline, so the stream resyncs on
// the next line instead of buffering without limit.

const NL = 0x0a;

export interface LineHandlers {
  line(text: string): void;
  /** The current line passed `maxBytes`; its remaining bytes are dropped. */
  oversize(): void;
}

export class LineSplitter {
  private readonly maxBytes: number;
  private readonly handlers: LineHandlers;
  private parts: Buffer[] = [];
  private length = 0;
  private skipping = false;

  constructor(maxBytes: number, handlers: LineHandlers) {
    this.maxBytes = maxBytes;
    this.handlers = handlers;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.skipping) {
        if (this.length + (end - start) > this.maxBytes) {
          this.parts = [];
          this.length = 0;
          this.skipping = true;
          this.handlers.oversize();
        } else if (end > start) {
          this.parts.push(chunk.subarray(start, end));
          this.length += end - start;
        }
      }
      if (nl === -1) return;
      if (this.skipping) {
        this.skipping = false;
      } else {
        const text = this.parts.length === 1 ? this.parts[0]!.toString('utf8') : Buffer.concat(this.parts, this.length).toString('utf8');
        this.parts = [];
        this.length = 0;
        // Blank lines (and a lone \r from CRLF senders) are ignored.
        if (text.length > 0 && text !== '\r') this.handlers.line(text);
      }
      start = nl + 1;
    }
  }

  /** Bytes of an unfinished line (for tests and diagnostics). */
  get pending(): number {
    return this.length;
  }
}
