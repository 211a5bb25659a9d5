#!/usr/bin/env -S node --max-semi-space-size=4
// tsbgpd: the BGP daemon. Wiring only: options → config source, Daemon, API server,
// metrics, (in Kubernetes mode) status and events, signals.
//   tsbgpd [--source file] --config PATH [--config PATH…] [--node-name NAME] [--secret-namespace NS]
//   tsbgpd --source kubernetes [--kubeconfig PATH] [--cilium-bgp-version v2|v2alpha1] [--no-status]
//          [--no-events] [--service-label-selector SELECTOR]
//          [--api-socket PATH] [--metrics-address ADDR] [--log-level LEVEL] [--log-format json|text] [--fib kernel|memory]
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { Daemon } from '../daemon/daemon.js';
import { DaemonApiView } from '../daemon/view.js';
import { ApiServer } from '../api/server.js';
import { DEFAULT_SOCKET_PATH } from '../api/types.js';
import { FileSource } from '../config/file-source.js';
import { DEFAULTS } from '../config/model.js';
import type { ConfigSource } from '../config/source.js';
import { Metrics, startMetricsServer, type MetricsServer } from '../observability/metrics.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, subsystemLogger, type LogFormat, type LogLevel } from '../observability/log.js';
import { netlinkUnavailable } from '../fib/kernel.js';
import type { EventRecorder } from '../k8s/events.js';
import type { KubernetesSource } from '../k8s/source.js';
import type { StatusWriter } from '../k8s/status.js';

/**
 * The Kubernetes modules load only in Kubernetes mode: the client library costs ~60 MB of
 * heap at import, which a file-configured node should not pay.
 */
async function loadKubernetesModules() {
  const [events, http, kubeconfig, source, status] = await Promise.all([
    import('../k8s/events.js'),
    import('../k8s/http.js'),
    import('../k8s/kubeconfig.js'),
    import('../k8s/source.js'),
    import('../k8s/status.js'),
  ]);
  return { ...events, ...http, ...kubeconfig, ...source, ...status };
}

interface Opts {
  source: 'file' | 'kubernetes';
  config: string[];
  nodeName: string;
  secretNamespace: string;
  kubeconfig?: string;
  ciliumBgpVersion: 'v2' | 'v2alpha1';
  status: boolean;
  events: boolean;
  serviceLabelSelector?: string;
  apiSocket: string;
  metricsAddress?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  fib: 'kernel' | 'memory';
  watch: boolean;
}

const program = new Command('tsbgpd')
  .description('BGP control plane for Linux and Kubernetes nodes: advertises, learns, installs routes')
  .addOption(new Option('--source <source>', 'file: read --config paths; kubernetes: list+watch the API server').choices(['file', 'kubernetes']).default('file'))
  .option('-c, --config <path>', 'configuration file or directory (repeatable; file source)', (v: string, acc: string[]) => [...acc, v], [])
  .option('--node-name <name>', 'which Node object is this node', process.env['NODE_NAME'] ?? hostname())
  .option('--secret-namespace <ns>', 'namespace of the Secrets named by authSecretRef', DEFAULTS.secretNamespace)
  .option('--kubeconfig <path>', 'kubeconfig file (kubernetes source; default: in-cluster, else KUBECONFIG)')
  .addOption(new Option('--cilium-bgp-version <version>', 'API version served for the BGPv2 kinds').choices(['v2', 'v2alpha1']).default('v2'))
  .option('--no-status', 'kubernetes source: do not write BGPNodeStatus or Events')
  .option('--no-events', 'kubernetes source: do not record Events (status is still written)')
  .option('--service-label-selector <selector>', 'kubernetes source: watch only Services with these labels (large clusters)')
  .option('--api-socket <path>', 'management socket for the tsbgp CLI', DEFAULT_SOCKET_PATH)
  .option('--metrics-address <addr>', 'serve /metrics, /healthz, /readyz on HOST:PORT')
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .addOption(new Option('--log-format <format>', 'log format').choices(LOG_FORMATS).default(process.stderr.isTTY ? 'text' : 'json'))
  .addOption(new Option('--fib <backend>', 'kernel: write routes over rtnetlink; memory: dry run').choices(['kernel', 'memory']).default('kernel'))
  .option('--no-watch', 'do not reload when the configuration changes (SIGHUP still reloads)');

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Opts>();
  const log = createLogger({ level: o.logLevel, format: o.logFormat });
  const dlog = subsystemLogger(log, 'daemon');
  if (o.source === 'file' && o.config.length === 0) program.error('error: --config is required with --source file');
  if (o.fib === 'kernel') {
    const why = netlinkUnavailable();
    if (why) {
      dlog.fatal({ reason: why }, 'cannot program the kernel FIB; run as root with CAP_NET_ADMIN, or use --fib memory for a dry run');
      process.exit(1);
    }
  }

  let source: ConfigSource;
  let k8s: KubernetesSource | undefined;
  const kube = o.source === 'kubernetes' ? await loadKubernetesModules() : undefined;
  let kc: ReturnType<NonNullable<typeof kube>['loadKubeConfig']> | undefined;
  if (kube !== undefined) {
    const { loadKubeConfig, KubernetesSource } = kube;
    const klog = subsystemLogger(log, 'kubernetes');
    kc = loadKubeConfig(o.kubeconfig);
    k8s = new KubernetesSource(kc, {
      nodeName: o.nodeName,
      secretNamespace: o.secretNamespace,
      ciliumV2Version: o.ciliumBgpVersion,
      ...(o.serviceLabelSelector !== undefined ? { serviceLabelSelector: o.serviceLabelSelector } : {}),
      onError: (resource, err, retryInMs) =>
        klog.warn({ resource, err: err instanceof Error ? err.message : String(err), retryInMs }, 'list/watch failed; retrying (BGP keeps running on the last configuration)'),
    });
    source = k8s;
  } else {
    source = new FileSource(o.config, o.nodeName, { secretNamespace: o.secretNamespace });
  }

  const daemon = new Daemon({ configPaths: source.describe(), source, nodeName: o.nodeName, fib: o.fib, log: dlog, secretNamespace: o.secretNamespace });
  const view = new DaemonApiView(daemon);
  // Health first: in Kubernetes mode the first load waits for the API server, and the
  // liveness probe must not kill a pod that is only waiting.
  let metricsServer: MetricsServer | undefined;
  if (o.metricsAddress !== undefined) {
    metricsServer = await startMetricsServer({
      address: o.metricsAddress,
      metrics: new Metrics(view),
      health: () => ({ live: true, ready: daemon.config !== undefined }),
    });
  }
  let status: StatusWriter | undefined;
  let events: EventRecorder | undefined;
  if (kube !== undefined && k8s !== undefined && kc !== undefined && o.status) {
    const { apiRequester, StatusWriter, EventRecorder } = kube;
    const slog = subsystemLogger(log, 'status');
    const request = apiRequester(kc);
    const nodeUid = () => k8s.nodeUid();
    status = new StatusWriter(view, request, { nodeName: o.nodeName, nodeUid, onError: (err) => slog.warn({ err: String(err) }, 'status write failed') });
    if (o.events) {
      events = new EventRecorder(request, { nodeName: o.nodeName, nodeUid, onError: (err) => slog.warn({ err: String(err) }, 'event write failed') });
      events.attach(view);
    }
  }
  if (!(await daemon.start())) {
    if (k8s === undefined) {
      dlog.fatal('the configuration is invalid; fix it (tsbgp config check FILE) and start again');
      process.exit(1);
    }
    // From the API server: wait for a fix (status condition ConfigApplied=False says why).
    dlog.error('the configuration from the API server is invalid; waiting for a corrected version');
  }
  status?.start();
  const api = new ApiServer(view, { socketPath: o.apiSocket, log: subsystemLogger(log, 'api') });
  await api.listen();
  dlog.info({ node: o.nodeName, source: source.kind, instances: daemon.instances.size, socket: o.apiSocket, fib: o.fib }, 'tsbgpd started');

  const reload = (trigger: string) => void daemon.reload(trigger);
  if (o.watch) source.watch(reload);
  process.on('SIGHUP', () => reload('SIGHUP'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const keep = [...daemon.instances.values()].some((rt) => rt.gracefulRestartEnabled);
    dlog.info(
      { signal, keepRoutes: keep },
      keep
        ? 'stopping: graceful restart, kernel routes kept, sessions closed so peers keep our routes'
        : 'stopping: sessions closed with Cease, our kernel routes removed',
    );
    status?.stop();
    events?.detach();
    await source.close();
    await api.close();
    await metricsServer?.close();
    await daemon.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`tsbgpd: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
