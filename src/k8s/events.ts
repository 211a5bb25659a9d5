// Kubernetes Events for what an operator wants to see in `kubectl describe node`:
// sessions up and down, prefix-limit teardowns, refused configurations. The Node is
// the involved object (Events of cluster-scoped objects live in "default").
//
// Spam control as client-go does it, simplified: a repeat of the same reason and
// message for the same neighbour within `dedupMs` only bumps the count of the existing
// Event (PATCH), and a token bucket (burst, refill) caps the write rate overall.
import type { ApiEvent, DaemonView } from '../api/types.js';
import type { ApiRequest } from './http.js';

export interface EventSpec {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  /** Same key + reason + message within the dedup window → one Event with a count. */
  readonly key: string;
}

/** Pure: which daemon events become Kubernetes Events. */
export function toEventSpec(e: ApiEvent): EventSpec | undefined {
  switch (e.type) {
    case 'peer-state':
      if (e.to === 'Established') {
        return { type: 'Normal', reason: 'BGPSessionEstablished', message: `instance ${e.instance} neighbor ${e.neighbor}: session established`, key: `${e.instance}/${e.neighbor}` };
      }
      if (e.from === 'Established') {
        return { type: 'Warning', reason: 'BGPSessionDown', message: `instance ${e.instance} neighbor ${e.neighbor}: session down (${e.reason ?? 'unknown reason'})`, key: `${e.instance}/${e.neighbor}` };
      }
      return undefined;
    case 'prefix-limit':
      if (e.kind !== 'overflow') return undefined;
      return {
        type: 'Warning',
        reason: 'BGPPrefixLimitExceeded',
        message: `instance ${e.instance} neighbor ${e.neighbor} ${e.afi}/${e.safi}: ${e.count} prefixes exceed the limit of ${e.max}; session torn down`,
        key: `${e.instance}/${e.neighbor}`,
      };
    case 'config-reload':
      if (e.ok) return undefined;
      return { type: 'Warning', reason: 'BGPConfigRejected', message: `configuration refused (${e.errors.length} errors); the previous configuration keeps running`, key: 'config' };
    default:
      return undefined;
  }
}

export interface EventRecorderOptions {
  readonly nodeName: string;
  readonly nodeUid?: () => string | undefined;
  /** Namespace the Events are written to (default "default", where Node events live). */
  readonly namespace?: string;
  /** Events allowed at once (default 5). */
  readonly burst?: number;
  /** One token back every refillMs (default 60 s). */
  readonly refillMs?: number;
  readonly dedupMs?: number;
  readonly onError?: (err: unknown) => void;
  readonly now?: () => number;
}

interface Recent {
  readonly name: string;
  count: number;
  at: number;
}

export class EventRecorder {
  /** Events created (POST) and repeats counted (PATCH). */
  created = 0;
  patched = 0;
  /** Dropped by the rate limit. */
  dropped = 0;
  readonly #request: ApiRequest;
  readonly #o: EventRecorderOptions;
  readonly #recent = new Map<string, Recent>();
  #tokens: number;
  #refilledAt: number;
  #unsubscribe: (() => void) | undefined;
  #seq = 0;
  #queue: Promise<void> = Promise.resolve();

  constructor(request: ApiRequest, options: EventRecorderOptions) {
    this.#request = request;
    this.#o = options;
    this.#tokens = options.burst ?? 5;
    this.#refilledAt = this.#now();
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  attach(view: Pick<DaemonView, 'subscribe'>): void {
    this.#unsubscribe = view.subscribe((e) => {
      const spec = toEventSpec(e);
      if (spec !== undefined) void this.record(spec);
    });
  }

  detach(): void {
    this.#unsubscribe?.();
  }

  /** Writes one event (serialised, so counts of repeats stay in order). */
  record(spec: EventSpec): Promise<void> {
    const run = this.#queue.then(() => this.#record(spec));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #take(): boolean {
    const now = this.#now();
    const refill = this.#o.refillMs ?? 60_000;
    const burst = this.#o.burst ?? 5;
    const gained = Math.floor((now - this.#refilledAt) / refill);
    if (gained > 0) {
      this.#tokens = Math.min(burst, this.#tokens + gained);
      this.#refilledAt += gained * refill;
    }
    if (this.#tokens <= 0) return false;
    this.#tokens--;
    return true;
  }

  async #record(spec: EventSpec): Promise<void> {
    const now = this.#now();
    const ns = this.#o.namespace ?? 'default';
    const node = this.#o.nodeName;
    const dedupKey = `${spec.key}\u0000${spec.reason}\u0000${spec.message}`;
    const recent = this.#recent.get(dedupKey);
    if (!this.#take()) {
      this.dropped++;
      return;
    }
    const stamp = new Date(now).toISOString();
    try {
      if (recent !== undefined && now - recent.at < (this.#o.dedupMs ?? 600_000)) {
        recent.count++;
        recent.at = now;
        await this.#request(`/api/v1/namespaces/${ns}/events/${recent.name}`, { method: 'PATCH', body: { count: recent.count, lastTimestamp: stamp } });
        this.patched++;
        return;
      }
      const name = `${node}.${now.toString(16)}${(this.#seq++).toString(16)}`;
      const uid = this.#o.nodeUid?.();
      await this.#request(`/api/v1/namespaces/${ns}/events`, {
        method: 'POST',
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: ns },
          involvedObject: { apiVersion: 'v1', kind: 'Node', name: node, ...(uid !== undefined ? { uid } : {}) },
          reason: spec.reason,
          message: spec.message,
          type: spec.type,
          count: 1,
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          source: { component: 'tsbgpd', host: node },
          reportingComponent: 'tsbgp.io/tsbgpd',
          reportingInstance: node,
        },
      });
      this.created++;
      this.#recent.set(dedupKey, { name, count: 1, at: now });
      if (this.#recent.size > 1000) this.#recent.delete(this.#recent.keys().next().value!);
    } catch (err) {
      this.#o.onError?.(err);
    }
  }
}
