#!/usr/bin/env node
// tsbgpd: the BGP daemon. Wiring only: options → Daemon, API server, metrics, signals.
//   tsbgpd --config PATH [--config PATH…] [--node-name NAME] [--api-socket PATH]
//          [--metrics-address ADDR] [--log-level LEVEL] [--log-format json|text] [--fib kernel|memory]
import { hostname } from 'node:os';
import { watch, type FSWatcher } from 'node:fs';
import { Command, Option } from 'commander';
import { Daemon } from '../daemon/daemon.js';
import { DaemonApiView } from '../daemon/view.js';
import { ApiServer } from '../api/server.js';
import { DEFAULT_SOCKET_PATH } from '../api/types.js';
import { Metrics, startMetricsServer, type MetricsServer } from '../observability/metrics.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, subsystemLogger, type LogFormat, type LogLevel } from '../observability/log.js';
import { netlinkUnavailable } from '../fib/kernel.js';

interface Opts {
  config: string[];
  nodeName: string;
  apiSocket: string;
  metricsAddress?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  fib: 'kernel' | 'memory';
  watch: boolean;
}

const program = new Command('tsbgpd')
  .description('BGP control plane for Linux and Kubernetes nodes: advertises, learns, installs routes')
  .requiredOption('-c, --config <path>', 'configuration file or directory (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
  .option('--node-name <name>', 'which Node object is this node', hostname())
  .option('--api-socket <path>', 'management socket for the tsbgp CLI', DEFAULT_SOCKET_PATH)
  .option('--metrics-address <addr>', 'serve /metrics, /healthz, /readyz on HOST:PORT')
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .addOption(new Option('--log-format <format>', 'log format').choices(LOG_FORMATS).default(process.stderr.isTTY ? 'text' : 'json'))
  .addOption(new Option('--fib <backend>', 'kernel: write routes over rtnetlink; memory: dry run').choices(['kernel', 'memory']).default('kernel'))
  .option('--no-watch', 'do not reload when configuration files change (SIGHUP still reloads)');

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Opts>();
  const log = createLogger({ level: o.logLevel, format: o.logFormat });
  const dlog = subsystemLogger(log, 'daemon');
  if (o.fib === 'kernel') {
    const why = netlinkUnavailable();
    if (why) {
      dlog.fatal({ reason: why }, 'cannot program the kernel FIB; run as root with CAP_NET_ADMIN, or use --fib memory for a dry run');
      process.exit(1);
    }
  }
  const daemon = new Daemon({ configPaths: o.config, nodeName: o.nodeName, fib: o.fib, log: dlog });
  if (!(await daemon.start())) {
    dlog.fatal('the configuration is invalid; fix it (tsbgp config check FILE) and start again');
    process.exit(1);
  }
  const view = new DaemonApiView(daemon);
  const api = new ApiServer(view, { socketPath: o.apiSocket, log: subsystemLogger(log, 'api') });
  await api.listen();
  let metricsServer: MetricsServer | undefined;
  if (o.metricsAddress !== undefined) {
    metricsServer = await startMetricsServer({
      address: o.metricsAddress,
      metrics: new Metrics(view),
      health: () => ({ live: true, ready: daemon.config !== undefined }),
    });
  }
  dlog.info({ node: o.nodeName, instances: daemon.instances.size, socket: o.apiSocket, fib: o.fib }, 'tsbgpd started');

  let watcher: FSWatcher[] = [];
  let debounce: NodeJS.Timeout | undefined;
  const reload = (trigger: string) => void daemon.reload(trigger);
  if (o.watch) {
    watcher = o.config.map((p) =>
      watch(p, () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => reload('file-change'), 300);
      }),
    );
  }
  process.on('SIGHUP', () => reload('SIGHUP'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    dlog.info({ signal }, 'stopping: sessions closed with Cease, our kernel routes removed');
    for (const w of watcher) w.close();
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
