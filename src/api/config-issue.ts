// config/ Diagnostic → the API's ConfigIssue (nulls instead of undefined, for JSON).
import type { Diagnostic } from '../config/diagnostics.js';
import type { ConfigIssue } from './types.js';

export function toConfigIssue(d: Diagnostic): ConfigIssue {
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    file: d.file ?? null,
    document: d.document ?? null,
    object: d.object ?? null,
    path: d.path ?? null,
    line: d.line ?? null,
    column: d.column ?? null,
  };
}
