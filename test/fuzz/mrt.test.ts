// The fuzzer's MRT record walker (RFC 6396 §4.4, §3 for the _ET timestamp), on records
// built by hand, and the seed files that come from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bgp4mpMessages, readMrtFile } from '../../fuzz/mrt.js';
import { mrtMessages, streamSeeds, updateSeeds } from '../../fuzz/seeds.js';
import { updateShape } from '../../fuzz/extract-seeds.js';

const MARKER = 'ff'.repeat(16);
const KEEPALIVE = `${MARKER}001304`;
const EMPTY_UPDATE = `${MARKER}00170200000000`;

/** Common header: timestamp, type, subtype, length of what follows. */
function record(type: number, subtype: number, body: string): string {
  const len = body.length / 2;
  return `5e0f1a00${type.toString(16).padStart(4, '0')}${subtype.toString(16).padStart(4, '0')}${len.toString(16).padStart(8, '0')}${body}`;
}

const FILE = Buffer.from(
  [
    // BGP4MP_ET / MESSAGE_AS4: µs, peer AS 4200000001, local AS 65010, ifindex 0, AFI 1, 2 × IPv4, message
    record(17, 4, `000f4240fa56ea010000fdf20000` + `0001` + `c0000201c0000202` + KEEPALIVE),
    // BGP4MP / STATE_CHANGE: no message, skipped
    record(16, 0, `fde9fdf200000001c0000201c00002020001` + `0006`),
    // BGP4MP / MESSAGE (2-octet ASes), IPv6 addresses
    record(16, 1, `fde9fdf20000` + `0002` + '20010db8' + '00'.repeat(12) + 'fe80' + '00'.repeat(14) + EMPTY_UPDATE),
    // TABLE_DUMP_V2: skipped
    record(13, 1, '00000000'),
    // truncated: the length runs past the end
    record(16, 4, KEEPALIVE).slice(0, 40),
  ].join(''),
  'hex',
);

test('the MRT walker yields the BGP messages of BGP4MP and BGP4MP_ET records only', () => {
  const got = [...bgp4mpMessages(FILE)];
  assert.deepEqual(
    got.map((m) => [m.subtype, m.asSize, m.addPath, m.message.toString('hex')]),
    [
      [4, 4, false, KEEPALIVE],
      [1, 2, false, EMPTY_UPDATE],
    ],
  );
  assert.equal(got[0]!.timestamp, 0x5e0f1a00);
});

test('readMrtFile inflates gzip files and passes plain ones through', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-mrt-'));
  writeFileSync(join(dir, 'a.gz'), gzipSync(FILE));
  writeFileSync(join(dir, 'a.mrt'), FILE);
  assert.ok(readMrtFile(join(dir, 'a.gz')).equals(FILE));
  assert.ok(readMrtFile(join(dir, 'a.mrt')).equals(FILE));
});

test('updateShape describes attribute types, MP families and empty fields', () => {
  // withdrawn empty; ORIGIN, AS_PATH [SEQ 1 ASN], MP_REACH IPv6 nh 16; no NLRI
  const mp = `800e1500020110${'20010db8'}${'00'.repeat(12)}00`;
  const body = `0000${(4 + 9 + mp.length / 2).toString(16).padStart(4, '0')}40010100400206020100000001${mp}`;
  const shape = updateShape(Buffer.from(`${MARKER}${(19 + body.length / 2).toString(16).padStart(4, '0')}02${body}`, 'hex'));
  assert.equal(shape, 'w0 n0 s5 1 2:2 14:2/1/nh16');
});

test('the committed seed corpus is real and small', () => {
  const msgs = mrtMessages();
  assert.ok(msgs.length >= 100, `${msgs.length} MRT messages`);
  for (const m of msgs) assert.equal(m.subarray(0, 16).toString('hex'), MARKER);
  const bytes = msgs.reduce((n, m) => n + m.length, 0);
  assert.ok(bytes < 512 * 1024, `${bytes} bytes of seeds`);
  // Both fuzz targets get encoder-built seeds on top.
  assert.ok(updateSeeds().length > msgs.length);
  assert.ok(streamSeeds().length > 20);
});
