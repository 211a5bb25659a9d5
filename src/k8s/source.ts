// The API-server configuration source: one informer per watched resource (resources.ts),
// the caches turned into the same input objects the file source reads (project.ts),
// and the same validate+resolve pipeline. A change is only announced when this
// node's result (config and diagnostics) differs, so Service churn elsewhere in the
// cluster or a Node heartbeat does not make the daemon reload.
//
// During an API outage the informers retry with backoff and load() keeps answering
// from the last caches: BGP sessions keep running on the last good configuration.
import type { KubeConfig } from '@kubernetes/client-node';
import { resolveInputs } from '../config/config.js';
import type { LoadResult } from '../config/config.js';
import { NO_SOURCE } from '../config/diagnostics.js';
import { toPlainJSON } from '../config/model.js';
import type { ConfigSource } from '../config/source.js';
import type { InputObject } from '../config/validate.js';
import type { ApiRequest } from './http.js';
import { apiRequester } from './http.js';
import { ResourceInformer } from './informer.js';
import type { InformerOptions } from './informer.js';
import { projectObject } from './project.js';
import { watchedResources } from './resources.js';
import type { CiliumV2Version, ResourceDef } from './resources.js';

export interface KubernetesSourceOptions extends InformerOptions {
  readonly nodeName: string;
  readonly secretNamespace: string;
  readonly ciliumV2Version?: CiliumV2Version;
  readonly extensions?: boolean;
  /** Only Services matching this label selector are watched (see ResourceScope). */
  readonly serviceLabelSelector?: string;
  /** Quiet time after the last watch event before the result is recomputed (default 250 ms). */
  readonly debounceMs?: number;
  /** Called on list/watch failures (the informer retries by itself). */
  readonly onError?: (resource: string, err: unknown, retryInMs: number) => void;
  /** Injected for tests; default: requests built from the KubeConfig. */
  readonly request?: ApiRequest;
}

/** A stable fingerprint of a LoadResult (secrets stay redacted: a password change shows via authSecretRef only). */
function fingerprint(r: LoadResult, secretsVersion: string): string {
  return JSON.stringify([r.config === undefined ? null : toPlainJSON(r.config), r.errors, r.warnings, secretsVersion]);
}

export class KubernetesSource implements ConfigSource {
  readonly kind = 'kubernetes';
  readonly informers: readonly ResourceInformer[];
  readonly #kc: KubeConfig;
  readonly #options: KubernetesSourceOptions;
  #onChange: ((trigger: string) => void) | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;
  #last: { result: LoadResult; fingerprint: string } | undefined;
  #dirty = true;

  constructor(kc: KubeConfig, options: KubernetesSourceOptions) {
    this.#kc = kc;
    this.#options = options;
    const request = options.request ?? apiRequester(kc);
    const defs = watchedResources({
      nodeName: options.nodeName,
      secretNamespace: options.secretNamespace,
      ciliumV2Version: options.ciliumV2Version ?? 'v2',
      ...(options.extensions !== undefined ? { extensions: options.extensions } : {}),
      serviceLabelSelector: options.serviceLabelSelector,
    });
    this.informers = defs.map(
      (d) =>
        new ResourceInformer(kc, request, d, { change: (def) => this.#changed(def), error: (def, err, ms) => options.onError?.(def.kind, err, ms) }, options),
    );
  }

  describe(): readonly string[] {
    const server = this.#kc.getCurrentCluster()?.server ?? '?';
    return this.informers.map((i) => {
      const q = [i.def.fieldSelector !== undefined ? `fieldSelector=${i.def.fieldSelector}` : '', i.def.labelSelector !== undefined ? `labelSelector=${i.def.labelSelector}` : ''].filter((x) => x !== '');
      return `kubernetes:${server}${i.def.path}${q.length > 0 ? `?${q.join('&')}` : ''}`;
    });
  }

  /** Starts the informers (once); resolves when every resource has been listed. */
  async start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      for (const i of this.informers) i.start();
    }
    await Promise.all(this.informers.map((i) => i.waitSynced()));
  }

  /** This node's Node uid (owner of the status object), once listed. */
  nodeUid(): string | undefined {
    const n = this.informers.find((i) => i.def.kind === 'Node')?.objects()[0];
    return n?.metadata?.uid;
  }

  get synced(): boolean {
    return this.informers.every((i) => i.synced);
  }

  /** The current input objects, as the file source would have read them. */
  inputs(): InputObject[] {
    const out: InputObject[] = [];
    for (const inf of this.informers) for (const o of inf.objects()) out.push({ value: projectObject(o), source: NO_SOURCE });
    return out;
  }

  async load(): Promise<LoadResult> {
    await this.start();
    return this.#compute().result;
  }

  watch(onChange: (trigger: string) => void): void {
    if (this.#onChange !== undefined) return;
    this.#onChange = onChange;
    void this.start();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#debounce);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  #secretsVersion(): string {
    // Password values are redacted in the fingerprint: compare the Secrets' versions instead.
    const s = this.informers.find((i) => i.def.kind === 'Secret');
    return (s?.objects() ?? []).map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort().join(',');
  }

  #compute(): { result: LoadResult; fingerprint: string } {
    if (!this.#dirty && this.#last !== undefined) return this.#last;
    const o = this.#options;
    const result = resolveInputs(this.inputs(), o.nodeName, { secretNamespace: o.secretNamespace });
    this.#last = { result, fingerprint: fingerprint(result, this.#secretsVersion()) };
    this.#dirty = false;
    return this.#last;
  }

  #changed(_def: ResourceDef): void {
    this.#dirty = true;
    if (this.#closed || this.#onChange === undefined) return;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      if (!this.synced) return; // the initial load() reports once everything is listed
      const before = this.#last?.fingerprint;
      const now = this.#compute();
      if (now.fingerprint !== before) this.#onChange?.('kubernetes');
    }, this.#options.debounceMs ?? 250);
  }
}
