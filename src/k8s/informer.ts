// One resource's list+watch cache, built on @kubernetes/client-node's ListWatch:
// - lists in pages (limit/continue) so a large collection is not one huge response;
// - watches with bookmarks and a server-side timeout, resuming from the last
//   resourceVersion; a 410 Gone (expired resourceVersion) makes ListWatch re-list;
// - restarts itself with exponential backoff after any other error (API outage),
//   keeping the last good objects meanwhile;
// - a missing CRD (404 on list) counts as an empty, synced collection, re-checked slowly.
import { ListWatch, Watch } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { ApiRequest } from './http.js';
import { ApiError } from './http.js';
import type { ResourceDef } from './resources.js';

export interface InformerOptions {
  /** Items per list page (default 500, as kubectl). */
  readonly pageSize?: number;
  /** Server-side watch timeout, randomised in [t, 2t) (default t = 300 s); the watch is then re-opened from the last resourceVersion. */
  readonly watchTimeoutSeconds?: number;
  /**
   * A watch still open this long after its server-side timeout is presumed hung (an API
   * server or load balancer that vanished without a FIN) and is aborted, then resumed
   * (default 30 s).
   */
  readonly watchGraceMs?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** Re-check interval for a CRD that is not installed (default 5 min, ±20 % jitter). */
  readonly absentRetryMs?: number;
}

export interface InformerCallbacks {
  /** An object was added, changed or deleted (after the first list, and by re-lists). */
  readonly change: (def: ResourceDef) => void;
  /** A list or watch failed; the informer retries by itself after `retryInMs`. */
  readonly error: (def: ResourceDef, err: unknown, retryInMs: number) => void;
}

/** Watch with bookmarks and a server-side timeout (ListWatch passes only resourceVersion and selectors). */
class BookmarkWatch extends Watch {
  readonly #timeoutSeconds: number;
  readonly #graceMs: number;
  /** Hung watches aborted by the watchdog. */
  aborted = 0;
  constructor(kc: KubeConfig, timeoutSeconds: number, graceMs: number) {
    super(kc);
    this.#timeoutSeconds = timeoutSeconds;
    this.#graceMs = graceMs;
  }
  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // Random in [t, 2t) as client-go does: spreads the re-watches of thousands of nodes.
    const timeout = Math.round(this.#timeoutSeconds * (1 + Math.random()));
    // Watchdog: the server ends the watch after `timeout`; one still open well after that
    // gets no more events, so it is aborted and ListWatch resumes from the last version.
    let watchdog: NodeJS.Timeout | undefined;
    let ended = false;
    const finished = (err: unknown): void => {
      ended = true;
      clearTimeout(watchdog);
      done(err);
    };
    const controller = await super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: timeout }, callback, finished);
    if (ended) return controller;
    watchdog = setTimeout(() => {
      this.aborted++;
      controller.abort();
    }, timeout * 1000 + this.#graceMs);
    watchdog.unref();
    return controller;
  }
}

export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiError) return err.statusCode;
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

export class ResourceInformer {
  readonly def: ResourceDef;
  /** Listed at least once (or known to be absent). */
  synced = false;
  /** The CRD is not installed: the collection is empty. */
  absent = false;
  /** Successful lists so far (re-lists after 410 included). */
  lists = 0;
  readonly #lw: ListWatch<KubernetesObject>;
  readonly #options: InformerOptions;
  readonly #callbacks: InformerCallbacks;
  readonly #request: ApiRequest;
  #backoffMs: number;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #syncWaiters: (() => void)[] = [];

  constructor(kc: KubeConfig, request: ApiRequest, def: ResourceDef, callbacks: InformerCallbacks, options: InformerOptions = {}) {
    this.def = def;
    this.#options = options;
    this.#callbacks = callbacks;
    this.#request = request;
    this.#backoffMs = options.backoffMinMs ?? 500;
    const watch = new BookmarkWatch(kc, options.watchTimeoutSeconds ?? 300, options.watchGraceMs ?? 30_000);
    this.#lw = new ListWatch(def.path, watch, () => this.#list(), false, def.labelSelector, def.fieldSelector);
    const changed = (): void => {
      this.#backoffMs = this.#options.backoffMinMs ?? 500; // a live watch: the API is back
      if (this.synced) this.#callbacks.change(this.def);
    };
    this.#lw.on('add', changed);
    this.#lw.on('update', changed);
    this.#lw.on('delete', changed);
    this.#lw.on('error', (err: unknown) => this.#failed(err));
  }

  start(): void {
    this.#stopped = false;
    void this.#lw.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#lw.stop();
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  /** Resolves once the first list completed (or the CRD is known absent), or on stop. */
  waitSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** The cached objects (each with apiVersion and kind set). */
  objects(): readonly KubernetesObject[] {
    return this.absent ? [] : this.#lw.list();
  }

  latestResourceVersion(): string {
    return this.#lw.latestResourceVersion();
  }

  async #list(): Promise<KubernetesListObject<KubernetesObject>> {
    const items: KubernetesObject[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    // The first list is served from the API server's watch cache (resourceVersion=0: no
    // etcd read, which matters when thousands of nodes start at once); re-lists (after
    // 410 Gone) ask for the latest state so the cache never goes back in time.
    const fromCache = this.lists === 0;
    do {
      const page = (await this.#request(this.def.path, {
        query: {
          limit: this.#options.pageSize ?? 500,
          continue: cont,
          resourceVersion: fromCache && cont === undefined ? '0' : undefined,
          fieldSelector: this.def.fieldSelector,
          labelSelector: this.def.labelSelector,
        },
      })) as { metadata?: { resourceVersion?: string; continue?: string }; items?: KubernetesObject[] };
      for (const it of page.items ?? []) items.push({ ...it, apiVersion: this.def.apiVersion, kind: this.def.kind });
      cont = page.metadata?.continue !== undefined && page.metadata.continue !== '' ? page.metadata.continue : undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont !== undefined);
    const wasAbsent = this.absent;
    this.absent = false;
    this.lists++;
    this.#backoffMs = this.#options.backoffMinMs ?? 500;
    // ListWatch stores the items right after this promise resolves: report after that.
    setImmediate(() => {
      const first = !this.synced;
      this.#markSynced();
      if (first || wasAbsent) this.#callbacks.change(this.def);
    });
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items };
  }

  #markSynced(): void {
    this.synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #failed(err: unknown): void {
    if (this.#stopped) return;
    let delay: number;
    if (this.def.optional && statusCodeOf(err) === 404) {
      // The CRD is not installed. Forget what we had and look again later.
      const had = this.absent === false && this.#lw.list().length > 0;
      this.absent = true;
      delay = Math.round((this.#options.absentRetryMs ?? 300_000) * (0.8 + Math.random() * 0.4));
      const first = !this.synced;
      this.#markSynced();
      if (first || had) this.#callbacks.change(this.def);
    } else {
      delay = Math.round(this.#backoffMs * (0.8 + Math.random() * 0.4));
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.backoffMaxMs ?? 30_000);
    }
    this.#callbacks.error(this.def, err, delay);
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#stopped) void this.#lw.start();
    }, delay);
  }
}
