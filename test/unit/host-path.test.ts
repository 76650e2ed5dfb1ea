import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bundlePathForHostFile, encodeHostPath } from '../../src/lib/host-path.js';

test('valid UTF-8 names stay as they are, % included', () => {
  assert.deepEqual(encodeHostPath(Buffer.from('/tmp/50% off/ü')), { text: '/tmp/50% off/ü' });
});

test('invalid bytes become %XX and the raw bytes are kept', () => {
  const raw = Buffer.from([0x2f, 0x74, 0xff, 0x25, 0x0a]);
  const enc = encodeHostPath(raw);
  assert.equal(enc.text, '/t%FF%25\n');
  assert.equal(Buffer.from(enc.base64!, 'base64').toString('hex'), raw.toString('hex'));
});

test('bundle paths never climb out of files/', () => {
  assert.equal(bundlePathForHostFile('/etc/../../x'), 'files/etc/%2E%2E/%2E%2E/x');
  assert.equal(bundlePathForHostFile('//etc/./passwd'), 'files/etc/passwd');
});

test('property: any bytes encode to a string that keeps the raw bytes recoverable', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const enc = encodeHostPath(Buffer.from(bytes));
      const back = enc.base64 === undefined ? Buffer.from(enc.text, 'utf8') : Buffer.from(enc.base64, 'base64');
      assert.deepEqual([...back], [...bytes]);
      assert.ok(!enc.text.includes('\uFFFD') || Buffer.from(bytes).toString('utf8').includes('\uFFFD'));
    }),
  );
});

test('property: bundle paths have no empty, . or .. components', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom('.', '..', '', 'a'), fc.string()), { maxLength: 10 }), (parts) => {
      const p = bundlePathForHostFile(`/${parts.join('/')}`);
      const comps = p.split('/');
      assert.equal(comps[0], 'files');
      for (const c of comps.slice(1)) assert.ok(c !== '' && c !== '.' && c !== '..', p);
    }),
  );
});
