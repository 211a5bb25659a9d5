// The line protocol between the harness and its feeder child (which runs inside the
// feeder namespace): one JSON object per line each way. Requests carry an `id` that the
// answer repeats; events (session up, table sent, session lost) carry `event` instead.
import type { FeedSource, PhaseResult, RxGaps } from '../feeder/feeder.js';

export interface BuildRequest {
  readonly cmd: 'build';
  readonly sources: readonly FeedSource[];
  readonly localAs: number;
  /** The receivers' AS: synthetic paths avoid it, and it is what they will check. */
  readonly peerAs: number;
  readonly nextHop4: string;
  readonly nextHop6: string;
  /** Where to write the prefix files for the kernel floor. */
  readonly prefixFile4: string;
  readonly prefixFile6: string;
}

export interface BuildAnswer {
  readonly tables: readonly string[];
  /** The announce feed (End-of-RIB not counted). */
  readonly messages: number;
  readonly prefixes: number;
  readonly bytes: number;
  /** Prefixes a receiver must end up with, per family (the feed replayed). */
  readonly expected4: number;
  readonly expected6: number;
  /** UPDATEs whose routes count as withdrawn (RFC 7606/7607) and UPDATEs the codec refused. */
  readonly treatAsWithdraw: number;
  /** UPDATEs whose AS_PATH holds the receivers' AS (loop detection drops them). */
  readonly loops: number;
  readonly broken: number;
  /** The withdraw-all feed. */
  readonly withdrawMessages: number;
  readonly withdrawPrefixes: number;
  /** Attribute sets of the synthetic tables (0 for MRT). */
  readonly sets: number;
  readonly buildMs: number;
}

export interface SessionRequest {
  readonly cmd: 'session';
  /** The receiver's address: the feeder listens and accepts only this peer. */
  readonly peer: string;
  readonly localAddress: string;
  readonly localAs: number;
  readonly peerAs: number;
  readonly holdTime: number;
  readonly timeoutMs: number;
}

export type Request =
  | BuildRequest
  | SessionRequest
  | { readonly cmd: 'withdraw' }
  | { readonly cmd: 'gaps'; readonly reset: boolean }
  | { readonly cmd: 'fetch'; readonly url: string; readonly timeoutMs: number }
  | { readonly cmd: 'close' }
  | { readonly cmd: 'exit' };

export interface GapsAnswer extends RxGaps {
  /** Why the session ended; null while it is up. */
  readonly closed: string | null;
  readonly keepalivesReceived: number;
}

export type Answer =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

export type FeederEvent =
  | { readonly event: 'established'; readonly at: number; readonly holdTime: number; readonly peerAs: number; readonly families: readonly string[] }
  | { readonly event: 'announced'; readonly phase: PhaseResult }
  | { readonly event: 'session-error'; readonly message: string }
  | { readonly event: 'closed'; readonly reason: string };

export type { PhaseResult };
