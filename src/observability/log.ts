/**
 * Structured logs: pino, JSON lines by default (`{"level":"info","time":"…","subsystem":"session",…}`),
 * or one readable line per record for terminals (`--log-format text`). One child logger
 * per subsystem; every field whose name ends in "password" is redacted at any depth.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { isSecretKey, REDACTED } from './redact.js';

export type Logger = PinoLogger;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Subsystem names used across the daemon, so log filters can rely on them. */
export const SUBSYSTEMS = ['daemon', 'config', 'session', 'rib', 'fib', 'api', 'metrics', 'k8s'] as const;

export interface LogOptions {
  readonly level?: LogLevel;
  /** Default: text on a terminal, JSON otherwise. */
  readonly format?: LogFormat;
  /** Default stderr (stdout stays free for command output). */
  readonly destination?: { write(line: string): unknown; isTTY?: boolean };
  /** Fields added to every record (e.g. {node: 'n1'}). */
  readonly base?: Record<string, unknown>;
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function isLogFormat(s: string): s is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(s);
}

export function createLogger(options: LogOptions = {}): Logger {
  const dest = options.destination ?? process.stderr;
  const format = options.format ?? (dest.isTTY === true ? 'text' : 'json');
  const stream: DestinationStream =
    format === 'text' ? { write: (line: string) => void dest.write(formatTextRecord(parseRecord(line))) } : { write: (line: string) => void dest.write(line) };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (b) => redactPlain(b) as Record<string, unknown>,
        log: (o) => redactPlain(o) as Record<string, unknown>,
      },
    },
    stream,
  );
  // pino applies `formatters.bindings` to the root's bindings only; children are made
  // with Object.create(parent), so this override covers every descendant.
  const child = logger.child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, opts?: object) {
    return child.call(this, redactPlain(bindings) as Record<string, unknown>, opts);
  } as Logger['child'];
  return logger;
}

/** The logger of one subsystem: every record carries `subsystem`. */
export function subsystemLogger(parent: Logger, subsystem: string, bindings: Record<string, unknown> = {}): Logger {
  return parent.child({ subsystem, ...bindings });
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Redacts secret fields inside plain objects and arrays. Class instances are left to
 * their own serialisation (an Error keeps its stack, SecretValue prints `<redacted>`).
 */
export function redactPlain(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 16) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = redactPlain(value[i], depth + 1);
      if (r !== value[i]) (copy ??= [...value])[i] = r;
    }
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redactPlain(v, depth + 1);
    if (r !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return copy ?? value;
}

function parseRecord(line: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(line);
    if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  return { msg: line.trimEnd() };
}

const OMIT = new Set(['time', 'level', 'msg', 'subsystem', 'pid', 'hostname', 'err']);

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return v.length > 0 && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/**
 * One pino record as a terminal line:
 * `2024-05-01T10:00:00.000Z INFO  [session] established neighbor=10.0.0.1 holdTime=90`
 * Errors add `err="message"` and, at error level and above, the stack on indented lines.
 */
export function formatTextRecord(r: Record<string, unknown>): string {
  const level = typeof r['level'] === 'string' ? r['level'] : typeof r['level'] === 'number' ? (pino.levels.labels[r['level']] ?? String(r['level'])) : 'info';
  const parts: string[] = [];
  if (typeof r['time'] === 'string') parts.push(r['time']);
  else if (typeof r['time'] === 'number') parts.push(new Date(r['time']).toISOString());
  parts.push(level.toUpperCase().padEnd(5));
  if (typeof r['subsystem'] === 'string') parts.push(`[${r['subsystem']}]`);
  if (r['msg'] !== undefined) parts.push(String(r['msg']));
  for (const [k, v] of Object.entries(r)) {
    if (OMIT.has(k) || v === undefined) continue;
    parts.push(`${k}=${fieldValue(v)}`);
  }
  let out = parts.join(' ');
  const err = r['err'];
  if (typeof err === 'object' && err !== null) {
    const e = err as Record<string, unknown>;
    out += ` err=${fieldValue(String(e['message'] ?? ''))}`;
    const stack = e['stack'];
    const severe = level === 'error' || level === 'fatal';
    if (severe && typeof stack === 'string') {
      out += `\n${stack.split('\n').slice(1).map((l) => `    ${l.trim()}`).join('\n')}`;
    }
  }
  return `${out}\n`;
}
