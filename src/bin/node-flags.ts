// V8 flags tsbgpd runs with. A 4 MiB semi-space (default 16 MiB on 64-bit) keeps the young
// generation small: with a full table it saved 15–20 MB of peak RSS (1M prefixes: 223–231
// vs 242–244 MB, same run, RIB and FIB times within noise). V8 reads them only at start,
// so they are on the command line: the tsbgpd shebang, the Dockerfile and the bench
// repeat them, and a test checks they agree with this list.
export const TSBGPD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
