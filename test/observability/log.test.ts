import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretValue } from '../../src/config/model.js';
import { createLogger, formatTextRecord, redactPlain, subsystemLogger } from '../../src/observability/log.js';
import { redactSecrets } from '../../src/observability/redact.js';

function capture(): { lines: string[]; write(s: string): void } {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s) };
}

test('JSON records: level name, ISO time, subsystem, fields; levels filter', () => {
  const dest = capture();
  const log = createLogger({ level: 'info', format: 'json', destination: dest, base: { node: 'n1' } });
  const session = subsystemLogger(log, 'session', { instance: 'vr-65001' });
  session.info({ neighbor: '10.0.0.1', holdTime: 90 }, 'established');
  session.debug('not shown at info');
  assert.equal(dest.lines.length, 1);
  const r = JSON.parse(dest.lines[0]!) as Record<string, unknown>;
  assert.equal(r['level'], 'info');
  assert.match(String(r['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(r['subsystem'], 'session');
  assert.equal(r['instance'], 'vr-65001');
  assert.equal(r['node'], 'n1');
  assert.equal(r['neighbor'], '10.0.0.1');
  assert.equal(r['msg'], 'established');
});

test('secrets are redacted at any depth, in fields and bindings; errors keep their message', () => {
  const dest = capture();
  const log = createLogger({ level: 'debug', format: 'json', destination: dest });
  const child = log.child({ peer: { address: '10.0.0.1', md5Password: 'bind-secret' } });
  child.info({ options: { neighbors: [{ address: '10.0.0.2', md5Password: 'field-secret', auth: { password: 'deep-secret' } }] }, secret: new SecretValue('class-secret') }, 'configured');
  child.error({ err: new Error('boom') }, 'failed');
  const all = dest.lines.join('');
  for (const s of ['bind-secret', 'field-secret', 'deep-secret', 'class-secret']) assert.ok(!all.includes(s), `${s} leaked`);
  const r = JSON.parse(dest.lines[0]!) as { peer: { md5Password: string }; options: { neighbors: { md5Password: string; auth: { password: string }; address: string }[] }; secret: string };
  assert.equal(r.peer.md5Password, '<redacted>');
  assert.equal(r.options.neighbors[0]!.md5Password, '<redacted>');
  assert.equal(r.options.neighbors[0]!.auth.password, '<redacted>');
  assert.equal(r.options.neighbors[0]!.address, '10.0.0.2');
  assert.equal(r.secret, '<redacted>');
  const e = JSON.parse(dest.lines[1]!) as { err: { message: string; stack: string } };
  assert.equal(e.err.message, 'boom');
  assert.match(e.err.stack, /^Error: boom\n/);
});

test('redactPlain copies only what it changes; redactSecrets follows JSON semantics', () => {
  const inner = { a: 1 };
  const obj = { inner, list: [inner] };
  assert.equal(redactPlain(obj), obj, 'nothing secret: same object');
  const withSecret = { inner, password: 'x' };
  const out = redactPlain(withSecret) as typeof withSecret;
  assert.notEqual(out, withSecret);
  assert.equal(withSecret.password, 'x', 'input untouched');
  assert.equal(out.password, '<redacted>');
  assert.equal(out.inner, inner);
  assert.deepEqual(redactSecrets({ when: new Date(0), pw: new SecretValue('z'), m: new Map([['md5Password', 'q']]), none: null, password: null }), {
    when: '1970-01-01T00:00:00.000Z',
    pw: '<redacted>',
    m: { md5Password: '<redacted>' },
    none: null,
    password: null,
  });
  const cyc: Record<string, unknown> = {};
  cyc['self'] = cyc;
  assert.deepEqual(redactSecrets(cyc), { self: '[circular]' });
});

test('text format: one readable line per record', () => {
  assert.equal(
    formatTextRecord({ level: 'warn', time: '2024-05-01T10:00:00.000Z', pid: 1, subsystem: 'fib', msg: 'route owned by another protocol', prefix: '10.0.0.0/8', owner: 'bird (12)', n: 3 }),
    '2024-05-01T10:00:00.000Z WARN  [fib] route owned by another protocol prefix=10.0.0.0/8 owner="bird (12)" n=3\n',
  );
  assert.equal(
    formatTextRecord({ level: 50, time: 0, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at f (x.js:1:1)' } }),
    '1970-01-01T00:00:00.000Z ERROR failed err=boom\n    at f (x.js:1:1)\n',
  );
  const dest = capture();
  const log = createLogger({ level: 'info', format: 'text', destination: dest });
  subsystemLogger(log, 'api').info({ socket: '/run/tsbgp/tsbgpd.sock', md5Password: 'nope' }, 'listening');
  assert.match(dest.lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}\[api\] listening socket=\/run\/tsbgp\/tsbgpd\.sock md5Password=<redacted>\n$/);
});
