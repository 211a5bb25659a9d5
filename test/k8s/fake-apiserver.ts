// A Kubernetes API server stand-in for tests, on 127.0.0.1 (no real API server can run
// here). It implements the parts of the list/watch protocol the informers rely on:
// - a global, increasing resourceVersion; list responses carry it in metadata;
// - paged lists (limit / continue), fieldSelector metadata.name=…;
// - watch=true streams as chunked HTTP: one JSON event per line (ADDED, MODIFIED,
//   DELETED, BOOKMARK when allowWatchBookmarks=true, ERROR), replaying the history
//   after the requested resourceVersion;
// - a compacted history answers an old resourceVersion with an ERROR event carrying
//   a 410 Status (reason Expired), as the real server does, then closes the stream;
// - outages (every request 503, open streams cut) and 404 for kinds not installed;
// - writes (POST/PUT/PATCH) are recorded and stored, for the status and event writers.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

type Obj = Record<string, unknown> & { metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown } };

interface WatchEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: Obj;
}

interface Collection {
  readonly objects: Map<string, Obj>;
  readonly events: WatchEvent[];
  compactedRv: number;
}

/** Equality-based label selectors only (`a=b,c=d`): enough for the tests. */
export function labelsMatch(selector: string | undefined, o: Obj): boolean {
  if (selector === undefined || selector === '') return true;
  const labels = (o.metadata['labels'] ?? {}) as Record<string, string>;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return k !== undefined && labels[k] === v;
  });
}

interface OpenWatch {
  readonly path: string;
  readonly res: ServerResponse;
  readonly fieldName: string | undefined;
  readonly labelSelector: string | undefined;
  readonly bookmarks: boolean;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly contentType: string | undefined;
}

export interface FakeApiServerOptions {
  /** Write every watch event in two chunks, split inside the JSON (line reassembly). */
  readonly splitEvents?: boolean;
}

const KIND_PATHS: Readonly<Record<string, (o: Obj) => string>> = {
  Node: () => '/api/v1/nodes',
  Service: () => '/api/v1/services',
  Secret: (o) => `/api/v1/namespaces/${o.metadata.namespace ?? 'default'}/secrets`,
};

/** The collection an object lives in (core kinds by table, CRDs by apiVersion and lowercase plural). */
export function collectionPath(o: Obj): string {
  const kind = String(o['kind']);
  const core = KIND_PATHS[kind];
  if (core !== undefined) return core(o);
  const plural = kind.toLowerCase().endsWith('policy') ? `${kind.toLowerCase().slice(0, -1)}ies` : `${kind.toLowerCase()}s`;
  return `/apis/${String(o['apiVersion'])}/${plural}`;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Collections that answer 404 (CRD not installed). */
  readonly missing = new Set<string>();
  readonly writes = new Map<string, unknown>();
  /** GETs under these prefixes are single objects (written by POST), not collections. */
  readonly objectPrefixes: string[] = ['/apis/tsbgp.io/v1alpha1/bgpnodestatuses/', '/api/v1/namespaces/default/events/'];
  /** Watches answered with an ERROR event carrying 410 Gone. */
  expiredServed = 0;
  #rv = 100;
  readonly #collections = new Map<string, Collection>();
  #watches: OpenWatch[] = [];
  #server: Server | undefined;
  #down = false;
  readonly #options: FakeApiServerOptions;

  constructor(options: FakeApiServerOptions = {}) {
    this.#options = options;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  async start(): Promise<number> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const w of this.#watches) w.res.destroy();
    this.#watches = [];
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  kubeConfig(): KubeConfig {
    const port = (this.#server!.address() as AddressInfo).port;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  }

  #collection(path: string): Collection {
    let c = this.#collections.get(path);
    if (c === undefined) {
      c = { objects: new Map(), events: [], compactedRv: 0 };
      this.#collections.set(path, c);
    }
    return c;
  }

  /** Creates or replaces an object (a new resourceVersion); streams ADDED/MODIFIED. */
  put(object: object): Obj {
    const o = structuredClone(object) as Obj;
    const path = collectionPath(o);
    const c = this.#collection(path);
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const type = c.objects.has(key) ? 'MODIFIED' : 'ADDED';
    o.metadata = { ...o.metadata, resourceVersion: String(++this.#rv), uid: `uid-${key}` };
    c.objects.set(key, o);
    this.#emit(path, c, { rv: this.#rv, type, object: o });
    return o;
  }

  delete(kindOrObject: object): void {
    const o = kindOrObject as Obj;
    const path = collectionPath(o);
    const c = this.#collection(path);
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const old = c.objects.get(key);
    if (old === undefined) return;
    c.objects.delete(key);
    const gone = { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.#rv) } };
    this.#emit(path, c, { rv: this.#rv, type: 'DELETED', object: gone });
  }

  /** Forgets the history: a watch from any older resourceVersion gets 410 Gone. */
  compact(): void {
    for (const c of this.#collections.values()) {
      c.compactedRv = this.#rv;
      c.events.length = 0;
    }
  }

  /** Sends a BOOKMARK (current resourceVersion) on every open watch that asked for them. */
  bookmark(): void {
    for (const w of this.#watches) {
      if (w.bookmarks) this.#write(w.res, { type: 'BOOKMARK', object: { metadata: { resourceVersion: String(this.#rv) } } });
    }
  }

  /** Ends every open watch normally (as the server does at timeoutSeconds). */
  closeWatches(): void {
    for (const w of this.#watches) w.res.end();
    this.#watches = [];
  }

  /** Outage: every request fails with 503 and open watches are cut. */
  setDown(down: boolean): void {
    this.#down = down;
    if (down) {
      for (const w of this.#watches) w.res.destroy();
      this.#watches = [];
    }
  }

  get openWatches(): number {
    return this.#watches.length;
  }

  watchRequests(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && r.query['watch'] === 'true');
  }

  listRequests(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && r.method === 'GET' && r.query['watch'] !== 'true');
  }

  #emit(path: string, c: Collection, ev: WatchEvent): void {
    c.events.push(ev);
    for (const w of this.#watches) {
      if (w.path !== path) continue;
      if (w.fieldName !== undefined && ev.object.metadata.name !== w.fieldName) continue;
      if (!labelsMatch(w.labelSelector, ev.object)) continue;
      this.#write(w.res, { type: ev.type, object: ev.object });
    }
  }

  #write(res: ServerResponse, event: unknown): void {
    const line = `${JSON.stringify(event)}\n`;
    if (this.#options.splitEvents === true) {
      const half = Math.floor(line.length / 2);
      res.write(line.slice(0, half));
      setTimeout(() => {
        if (!res.destroyed) res.write(line.slice(half));
      }, 5);
    } else {
      res.write(line);
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query, body, contentType: req.headers['content-type'] });
    const status = (code: number, reason: string, message: string) =>
      res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message }));
    if (this.#down) return status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    if (req.headers.authorization !== 'Bearer test-token') return status(401, 'Unauthorized', 'Unauthorized');
    if (method !== 'GET') return this.#writeRequest(method, url.pathname, body, req.headers['content-type'], res);
    if (this.missing.has(url.pathname)) return status(404, 'NotFound', 'the server could not find the requested resource');
    const fieldSelector = query['fieldSelector'];
    const fieldName = fieldSelector?.startsWith('metadata.name=') === true ? fieldSelector.slice('metadata.name='.length) : undefined;
    if (this.writes.has(url.pathname)) {
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.writes.get(url.pathname)));
    }
    if (this.objectPrefixes.some((p) => url.pathname.startsWith(p))) return status(404, 'NotFound', 'not found');
    const c = this.#collection(url.pathname);
    if (query['watch'] === 'true') return this.#watch(url.pathname, c, query, fieldName, res);
    // List, in pages.
    const all = [...c.objects.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, o]) => o).filter((o) => (fieldName === undefined || o.metadata.name === fieldName) && labelsMatch(query['labelSelector'], o));
    const limit = query['limit'] !== undefined ? Number(query['limit']) : all.length;
    const start = query['continue'] !== undefined ? (JSON.parse(Buffer.from(query['continue'], 'base64').toString()) as { offset: number; rv: number }) : { offset: 0, rv: this.#rv };
    const page = all.slice(start.offset, start.offset + limit);
    const next = start.offset + limit < all.length ? Buffer.from(JSON.stringify({ offset: start.offset + limit, rv: start.rv })).toString('base64') : undefined;
    // Core list items come without apiVersion/kind, as from the real server.
    const core = url.pathname.startsWith('/api/');
    const items = page.map((o) => {
      if (!core) return o;
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(start.rv), ...(next !== undefined ? { continue: next } : {}) }, items }),
    );
  }

  #watch(path: string, c: Collection, query: Record<string, string>, fieldName: string | undefined, res: ServerResponse): void {
    const from = Number(query['resourceVersion'] ?? '0');
    // No content-length: Node sends the body with chunked transfer encoding.
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (from !== 0 && from < c.compactedRv) {
      this.expiredServed++;
      this.#write(res, { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: `too old resource version: ${from} (${c.compactedRv})` } });
      setTimeout(() => res.end(), 20);
      return;
    }
    for (const ev of c.events) {
      if (ev.rv <= from) continue;
      if (fieldName !== undefined && ev.object.metadata.name !== fieldName) continue;
      if (!labelsMatch(query['labelSelector'], ev.object)) continue;
      this.#write(res, { type: ev.type, object: ev.object });
    }
    const w: OpenWatch = { path, res, fieldName, labelSelector: query['labelSelector'], bookmarks: query['allowWatchBookmarks'] === 'true' };
    this.#watches.push(w);
    res.on('close', () => {
      this.#watches = this.#watches.filter((x) => x !== w);
    });
  }

  #writeRequest(method: string, path: string, body: unknown, contentType: string | undefined, res: ServerResponse): void {
    const reply = (code: number, obj: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(obj ?? {}));
    const fail = (code: number, reason: string) => reply(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: reason });
    if (method === 'POST') {
      // Create in a collection: stored under <collection>/<name>.
      const name = (body as { metadata?: { name?: string } } | undefined)?.metadata?.name;
      if (name === undefined) return void fail(422, 'Invalid');
      const key = `${path}/${name}`;
      if (this.writes.has(key)) return void fail(409, 'AlreadyExists');
      this.writes.set(key, body);
      return void reply(201, body);
    }
    // PATCH/PUT of an object or of its status subresource.
    const key = path.endsWith('/status') ? path.slice(0, -'/status'.length) : path;
    const prev = this.writes.get(key);
    if (prev === undefined) return void fail(404, 'NotFound');
    const next = method === 'PATCH' ? mergePatch(prev, body) : body;
    this.writes.set(key, next);
    reply(200, next);
  }

  /** A single-object path (…/<plural>/<name>): its stored object, or 404. */
  object(path: string): unknown {
    return this.writes.get(path);
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
