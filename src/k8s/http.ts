// A minimal JSON client for the API server: the credentials, CA and proxy come from
// the KubeConfig (in-cluster service account or KUBECONFIG) exactly as the library's
// own watch uses them; requests go through node:http(s) so list pages, status patches
// and events need no generated client (and no model (de)serialisation).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export class ApiError extends Error {
  readonly statusCode: number;
  /** The Status object's reason (`Expired`, `NotFound`, `Conflict`…) when the server sent one. */
  readonly reason: string | undefined;
  constructor(statusCode: number, message: string, reason: string | undefined) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.reason = reason;
  }
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** For PATCH: default application/merge-patch+json. */
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

export type ApiRequest = (path: string, options?: RequestOptions) => Promise<unknown>;

/** Binds a KubeConfig into a request function (JSON in, JSON out, ApiError on non-2xx). */
export function apiRequester(kc: KubeConfig): ApiRequest {
  return async (path, options = {}) => {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: https.RequestOptions = { method: options.method ?? 'GET', headers: {} };
    await kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string>), accept: 'application/json' };
    let payload: Buffer | undefined;
    if (options.body !== undefined) {
      payload = Buffer.from(JSON.stringify(options.body));
      headers['content-type'] = options.contentType ?? (options.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      headers['content-length'] = String(payload.length);
    }
    const mod = url.protocol === 'http:' ? http : https;
    return new Promise<unknown>((resolve, reject) => {
      const req = mod.request(url, { ...opts, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(body);
          const st = (body ?? {}) as { message?: unknown; reason?: unknown };
          const message = typeof st.message === 'string' ? st.message : `${status} ${res.statusMessage ?? ''}`.trim();
          reject(new ApiError(status, `${opts.method} ${url.pathname}: ${message}`, typeof st.reason === 'string' ? st.reason : undefined));
        });
      });
      req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`${opts.method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  };
}
