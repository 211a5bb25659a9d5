import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/api/errors.js';
import { parseRequest, validateParams } from '../../src/api/protocol.js';

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError);
    return { code: e.code, message: e.message };
  }
  assert.fail('expected an ApiError');
}

test('parseRequest: valid requests; params default to {}', () => {
  assert.deepEqual(parseRequest('{"id":1,"method":"global"}'), { ok: true, request: { id: 1, method: 'global', params: {} } });
  assert.deepEqual(parseRequest('{"id":"a","method":"rib","params":{"afi":"ipv4"}}'), { ok: true, request: { id: 'a', method: 'rib', params: { afi: 'ipv4' } } });
  assert.deepEqual(parseRequest('{"id":2,"method":"global","params":null}'), { ok: true, request: { id: 2, method: 'global', params: {} } });
});

test('parseRequest: each malformed shape has its code, and the id when it is known', () => {
  const cases: [string, string, unknown][] = [
    ['nope', 'EPARSE', null],
    ['"str"', 'EINVALID_REQUEST', null],
    ['{"id":1.5,"method":"global"}', 'EINVALID_REQUEST', null],
    ['{"id":"","method":"global"}', 'EINVALID_REQUEST', null],
    ['{"id":{},"method":"global"}', 'EINVALID_REQUEST', null],
    ['{"id":1}', 'EINVALID_REQUEST', 1],
    ['{"id":1,"method":7}', 'EINVALID_REQUEST', 1],
    ['{"id":1,"method":"global","extra":1}', 'EINVALID_REQUEST', 1],
    ['{"id":1,"method":"toString"}', 'EUNKNOWN_METHOD', 1],
    ['{"id":1,"method":"rib","params":"x"}', 'EINVALID_PARAMS', 1],
  ];
  for (const [text, code, id] of cases) {
    const r = parseRequest(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.equal(r.error.code, code, text);
      assert.equal(r.id, id, text);
    }
  }
});

test('validateParams: normalised values', () => {
  assert.deepEqual(validateParams('neighbors', {}), { instance: null, address: null });
  assert.deepEqual(validateParams('neighbors', { address: 'FE80::0:1' }), { instance: null, address: 'fe80::1' });
  assert.deepEqual(validateParams('rib', { prefix: '192.168.1.77/24', limit: 10 }), { instance: null, afi: 'ipv4', prefix: '192.168.1.0/24', match: 'exact', limit: 10 });
  assert.deepEqual(validateParams('rib', { prefix: '192.168.1.0/24', match: 'longest' }), { instance: null, afi: 'ipv4', prefix: '192.168.1.0/24', match: 'longest', limit: null });
  assert.deepEqual(validateParams('rib', { prefix: '::1', match: 'exact' }), { instance: null, afi: 'ipv6', prefix: '::1/128', match: 'exact', limit: null });
  assert.deepEqual(validateParams('softReset', { address: '10.0.0.1' }), { address: '10.0.0.1', instance: null, direction: 'both' });
  assert.deepEqual(validateParams('shutdown', { address: '10.0.0.1', message: 'x'.repeat(255) }).message?.length, 255);
  const m = validateParams('monitor', { types: ['fib', 'admin'] });
  assert.deepEqual([...(m.types ?? [])], ['fib', 'admin']);
  assert.deepEqual(validateParams('cancel', { id: 'abc' }), { id: 'abc' });
  assert.deepEqual(validateParams('fib', {}), { instance: null, afi: null, status: null, limit: null, kernel: false });
  assert.deepEqual(validateParams('fib', { kernel: true, status: 'stale' }), { instance: null, afi: null, status: 'stale', limit: null, kernel: true });
});

test('validateParams: precise refusals', () => {
  assert.deepEqual(refusal(() => validateParams('rib', { match: 'exact' })), { code: 'EINVALID_PARAMS', message: 'rib: "match" needs a "prefix"' });
  assert.deepEqual(refusal(() => validateParams('rib', { prefix: '10.0.0.0/33' })), { code: 'EINVALID_PARAMS', message: 'rib: "prefix" must be a CIDR or an address, got "10.0.0.0/33"' });
  assert.deepEqual(refusal(() => validateParams('rib', { limit: 1.5 })).message, 'rib: "limit" must be an integer from 1 to 100000000, got 1.5');
  assert.deepEqual(refusal(() => validateParams('rib', { instance: '' })).message, 'rib: "instance" must be a non-empty string of at most 256 characters, got ""');
  assert.deepEqual(refusal(() => validateParams('monitor', { types: ['peer-state', 'bogus'] })).message, 'monitor: "types" must be a list of peer-state, prefix-limit, fib, config-reload, admin, events-lost, got a list');
  assert.deepEqual(refusal(() => validateParams('reset', { address: '10.0.0.1', force: true })).message, 'reset: unknown parameter "force" (known: address, instance)');
  assert.deepEqual(refusal(() => validateParams('enable', {})).message, 'enable: missing required parameter "address"');
  assert.deepEqual(refusal(() => validateParams('cancel', { id: [] })).message, 'cancel: "id" must be a request id (integer or string), got a list');
  assert.match(refusal(() => validateParams('shutdown', { address: '10.0.0.1', message: 'x'.repeat(256) })).message, /256 bytes of UTF-8; RFC 9003 allows at most 255/);
});
