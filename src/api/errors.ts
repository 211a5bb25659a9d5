// Stable error codes of the management API (scripts match on `code`, people read `message`).

export const ErrorCode = {
  /** The line is not JSON. */
  PARSE: 'EPARSE',
  /** JSON, but not `{id, method, params?}`. */
  INVALID_REQUEST: 'EINVALID_REQUEST',
  UNKNOWN_METHOD: 'EUNKNOWN_METHOD',
  INVALID_PARAMS: 'EINVALID_PARAMS',
  /** The request line exceeds the server's limit. */
  TOO_LARGE: 'ETOO_LARGE',
  /** An id already in flight on this connection. */
  DUPLICATE_ID: 'EDUPLICATE_ID',
  /** Too many requests in flight on this connection, or too many clients. */
  BUSY: 'EBUSY',
  NO_NEIGHBOR: 'ENOENT_NEIGHBOR',
  NO_INSTANCE: 'ENOENT_INSTANCE',
  /** The address names neighbours in several instances: say which. */
  AMBIGUOUS_NEIGHBOR: 'EAMBIGUOUS_NEIGHBOR',
  /** The daemon refused the action in the neighbour's current state. */
  NOT_POSSIBLE: 'ENOT_POSSIBLE',
  /** The server is shutting down. */
  SHUTTING_DOWN: 'ESHUTDOWN',
  INTERNAL: 'EINTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A refusal with a stable code; thrown by the server's validation and by the daemon. */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}
