// Import-policy throughput: N IPv4 prefixes (default 1M) against a 10-rule policy
// (prefix lists with ge/le, communities, large communities, AS path conditions) with
// guards, spread over a pool of interned attribute sets as a full table has
// (~1 set per 5 prefixes). Reports ns/prefix, cold (first touch of each set) and warm.
//   npx tsc -p tsconfig.json && node dist/bench/policy.js [prefixes]
import type { ImportPolicy, ImportRule, PrefixMatch } from '../src/config/model.js';
import { ImportGuards } from '../src/policy/guards.js';
import { compileImportPolicy } from '../src/policy/import.js';
import { emptyAttributes, type PathAttributes } from '../src/wire/attrs/types.js';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const SETS = Math.max(1, Math.floor(TOTAL / 5));

function pm(cidr: string, length: number, ge: number, le: number): PrefixMatch {
  return { cidr, afi: 'ipv4', length, ge, le };
}

function rule(name: string, action: 'Accept' | 'Reject', match: Partial<ImportRule['match']>, localPreference?: number): ImportRule {
  return {
    name,
    action,
    match: { prefixes: undefined, communities: undefined, largeCommunities: undefined, asPathContains: undefined, asPathOriginatedBy: undefined, ...match },
    set: { localPreference, addCommunities: [], addLargeCommunities: [] },
  };
}

const policy: ImportPolicy = {
  defaultAction: 'Accept',
  allowDefaultRoute: false,
  rules: [
    rule('bogons-10', 'Reject', { prefixes: [pm('10.0.0.0/8', 8, 8, 32)] }),
    rule('bogons-172', 'Reject', { prefixes: [pm('172.16.0.0/12', 12, 12, 32)] }),
    rule('bogons-192', 'Reject', { prefixes: [pm('192.168.0.0/16', 16, 16, 32), pm('100.64.0.0/10', 10, 10, 32)] }),
    rule('too-long', 'Reject', { prefixes: [pm('0.0.0.0/0', 0, 25, 32)] }),
    rule('blackhole', 'Reject', { communities: [0xffff029a] }),
    rule('no-transit', 'Reject', { asPathContains: [174, 701] }),
    rule('prefer-cust', 'Accept', { communities: [(65000 << 16) | 100] }, 200),
    rule('large-tag', 'Accept', { largeCommunities: [[65000, 1, 1]] }, 150),
    rule('from-google', 'Accept', { asPathOriginatedBy: [15169], prefixes: [pm('8.0.0.0/7', 7, 7, 24)] }, 120),
    rule('short', 'Reject', { prefixes: [pm('0.0.0.0/0', 0, 0, 7)] }),
  ],
};

const guards = new ImportGuards(['10.244.0.0/16', '203.0.113.0/28'], ['192.0.2.0/24']);
const filter = compileImportPolicy(policy, guards);

let x = 0x2545f491;
const rnd = (): number => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);

const sets: PathAttributes[] = [];
for (let i = 0; i < SETS; i++) {
  const r = rnd();
  sets.push({
    ...emptyAttributes(),
    origin: 0,
    asPath: [{ type: 2, asns: [65001, 3356, 1000 + (r % 5000), r % 97 === 0 ? 15169 : 64512 + (r % 1000)] }],
    communities: Uint32Array.of((65001 << 16) | (r & 0xffff), r % 50 === 0 ? (65000 << 16) | 100 : 0xffff0001),
    largeCommunities: r % 30 === 0 ? Uint32Array.of(65000, 1, 1) : undefined,
  });
}

const addrs = new Uint32Array(TOTAL);
const lens = new Uint8Array(TOTAL);
const ids = new Int32Array(TOTAL);
for (let i = 0; i < TOTAL; i++) {
  const r = rnd();
  lens[i] = 16 + (r % 9);
  addrs[i] = (rnd() & (0xffffffff << (32 - lens[i]!))) >>> 0;
  ids[i] = i % SETS;
}

function pass(): { ns: number; accepted: number } {
  let accepted = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < TOTAL; i++) {
    const id = ids[i]!;
    const v = filter.evaluate(1, addrs[i]!, 0, 0, 0, lens[i]!, sets[id]!, id);
    if (v.accepted) accepted++;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns, accepted };
}

const cold = pass();
const warm = pass();
const warm2 = pass();
const best = Math.min(warm.ns, warm2.ns);
console.log(`policy: ${TOTAL} IPv4 prefixes, ${SETS} attribute sets, ${policy.rules.length} rules`);
console.log(`  cold (attribute masks computed): ${(cold.ns / TOTAL).toFixed(1)} ns/prefix, ${(cold.ns / 1e6).toFixed(0)} ms`);
console.log(`  warm (masks cached):             ${(best / TOTAL).toFixed(1)} ns/prefix, ${(best / 1e6).toFixed(0)} ms`);
console.log(`  accepted ${warm.accepted} of ${TOTAL}; cached sets ${filter.cachedSets}`);
