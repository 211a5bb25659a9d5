// The file source: --config paths (files or directories) read by load.ts, and a
// watcher that survives editors and ConfigMap updates that replace files by rename.
//
// fs.watch on a file follows its inode: after `write temp + rename over` the old inode
// is gone and the watcher goes silent. So each path is watched through its parent
// directory, filtered by name (plus the directory itself for directory paths); a
// directory entry swap is a `rename` event on the directory, which never goes stale.
// Kubernetes ConfigMap volumes swap a `..data` symlink: those names count as changes.
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import type { LoadResult } from './config.js';
import { loadConfig } from './load.js';
import type { ResolveOptions } from './resolve.js';
import type { ConfigSource } from './source.js';

const CONFIG_EXTENSIONS = ['.yaml', '.yml', '.json'];

export interface FileSourceOptions extends ResolveOptions {
  /** Quiet time after the last file event before onChange runs (default 300 ms). */
  readonly debounceMs?: number;
  /** Retry delay for a directory that cannot be watched yet (default 1000 ms). */
  readonly rearmMs?: number;
}

/** One watched directory and the entry names in it that matter (undefined = any config file). */
interface DirWatch {
  readonly dir: string;
  names: Set<string> | undefined;
  watcher: FSWatcher | undefined;
  retry: NodeJS.Timeout | undefined;
}

/** Does a change of `name` inside a watched directory concern the configuration? */
export function isRelevantEntry(name: string | null, names: ReadonlySet<string> | undefined): boolean {
  if (name === null) return true; // some platforms do not say which entry changed
  if (name.startsWith('..')) return true; // ConfigMap atomic writer (..data, ..2024_…)
  if (names === undefined) return !name.startsWith('.') && CONFIG_EXTENSIONS.some((e) => name.endsWith(e));
  return names.has(name);
}

export class FileSource implements ConfigSource {
  readonly kind = 'file';
  readonly paths: readonly string[];
  readonly #nodeName: string;
  readonly #options: FileSourceOptions;
  readonly #dirs = new Map<string, DirWatch>();
  #onChange: ((trigger: string) => void) | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(paths: readonly string[], nodeName: string, options: FileSourceOptions = {}) {
    this.paths = paths;
    this.#nodeName = nodeName;
    this.#options = options;
  }

  describe(): readonly string[] {
    return this.paths;
  }

  load(): Promise<LoadResult> {
    const o = this.#options;
    return loadConfig(this.paths, this.#nodeName, o.secretNamespace !== undefined ? { secretNamespace: o.secretNamespace } : {});
  }

  watch(onChange: (trigger: string) => void): void {
    if (this.#onChange !== undefined || this.#closed) return;
    this.#onChange = onChange;
    void this.#arm();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#debounce);
    for (const d of this.#dirs.values()) {
      clearTimeout(d.retry);
      d.watcher?.close();
    }
    this.#dirs.clear();
  }

  async #arm(): Promise<void> {
    for (const p of this.paths) {
      const abs = resolvePath(p);
      // The parent directory, filtered by the entry name: replacement, creation, deletion.
      this.#want(dirname(abs), basename(abs));
      // A directory path: also its own entries.
      const st = await stat(abs).catch(() => undefined);
      if (st?.isDirectory() === true) this.#want(abs, undefined);
    }
    for (const d of this.#dirs.values()) this.#start(d);
  }

  #want(dir: string, name: string | undefined): void {
    let d = this.#dirs.get(dir);
    if (d === undefined) {
      d = { dir, names: name === undefined ? undefined : new Set([name]), watcher: undefined, retry: undefined };
      this.#dirs.set(dir, d);
    } else if (name === undefined) {
      d.names = undefined;
    } else {
      d.names?.add(name);
    }
  }

  #start(d: DirWatch): void {
    if (this.#closed) return;
    try {
      const w = watch(d.dir, { persistent: false }, (event, name) => {
        if (isRelevantEntry(typeof name === 'string' ? name : null, d.names)) this.#changed();
        // The directory itself removed or renamed: its watch is dead, wait for it to return.
        if (event === 'rename') {
          void stat(d.dir).then(
            (st) => (st.isDirectory() ? undefined : this.#rearm(d)),
            () => {
              this.#changed();
              this.#rearm(d);
            },
          );
        }
      });
      w.on('error', () => this.#rearm(d));
      d.watcher = w;
    } catch {
      // The directory does not exist (yet): try again later, and reload once it does.
      this.#rearm(d);
    }
  }

  /** The watched directory went away or could not be watched: retry until it is back. */
  #rearm(d: DirWatch): void {
    d.watcher?.close();
    d.watcher = undefined;
    if (this.#closed || d.retry !== undefined) return;
    d.retry = setTimeout(() => {
      d.retry = undefined;
      this.#start(d);
      if (d.watcher !== undefined) this.#changed();
    }, this.#options.rearmMs ?? 1000);
    d.retry.unref();
  }

  #changed(): void {
    if (this.#closed) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#onChange?.('file-change'), this.#options.debounceMs ?? 300);
  }
}
