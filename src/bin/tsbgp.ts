#!/usr/bin/env node
// tsbgp: the CLI of tsbgpd (see src/cli/commands.ts).
import { processIo, runCli } from '../cli/commands.js';

const abort = new AbortController();
// First Ctrl-C stops `monitor` cleanly; a second one exits at once.
process.once('SIGINT', () => {
  abort.abort();
  process.once('SIGINT', () => process.exit(130));
});

runCli(process.argv.slice(2), processIo(abort.signal)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tsbgp: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
