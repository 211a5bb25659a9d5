// Where the configuration comes from, behind one interface: files (this directory)
// or the Kubernetes API server (src/k8s/). Both produce the same LoadResult from the
// same objects, so the daemon does not know which one it runs on.
import type { LoadResult } from './config.js';

export interface ConfigSource {
  /** `file` or `kubernetes`, for logs and `tsbgp config`. */
  readonly kind: string;
  /** What the configuration is read from: file paths, or `kubernetes:<server>` entries. */
  describe(): readonly string[];
  /** A fresh LoadResult from the current inputs (a config is withheld when there is any error). */
  load(): Promise<LoadResult>;
  /**
   * Starts change notification: `onChange(trigger)` runs (debounced) after the inputs
   * may have changed; the caller then calls load(). Idempotent.
   */
  watch(onChange: (trigger: string) => void): void;
  /** Stops watching and releases connections; load() keeps answering from the last inputs. */
  close(): Promise<void>;
}
