import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatAddress, parseAddress, parseCidr } from '../../src/detect/ioc/address.js';
import { loadIndicators } from '../../src/detect/ioc/index.js';
import { classify } from '../../src/detect/ioc/indicator.js';
import { matchText } from '../../src/detect/ioc/match.js';
import { PatternError, parsePattern } from '../../src/detect/ioc/stix-pattern.js';

/** Pieces of real indicator files, glued with hostile bytes, so random input reaches every branch of the readers. */
const PIECES = [
  '{"type":"bundle","objects":[',
  '{"type":"indicator","pattern":"[file:hashes.MD5 = \'d41d8cd98f00b204e9800998ecf8427e\']"}',
  '"type","value"\n',
  'ip-dst,1.2.3.4|80\n',
  '"a,""b"\n',
  'hxxp://evil[.]example/x\n',
  '::ffff:1.2.3.4\n',
  '10.0.0.0/8\n',
  '# comment\n',
  '\r\n',
  '\ufeff',
  '\0',
  '\x1b[2J',
  ']',
  ',',
  '"',
];
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 12 })), { maxLength: 30 }).map((parts) => Buffer.from(parts.join(''))),
);

test('loadIndicators never throws on any bytes, under any file name, and every problem is one line', () => {
  fc.assert(
    fc.property(bytes, fc.constantFrom('x.txt', 'x.csv', 'x.json'), (b, name) => {
      const { problems, indicators } = loadIndicators(b, name);
      for (const p of problems) assert.ok(!/[\n\r\x1b]/.test(p), p);
      assert.ok(indicators.size >= 0);
    }),
    { numRuns: 2000 },
  );
});

test('STIX patterns: any text either parses or fails with a PatternError', () => {
  const pattern = fc.array(
    fc.oneof(fc.constantFrom('[', ']', '(', ')', "'x'", 'file:name', 'ipv4-addr:value', '=', 'IN', 'AND', 'OR', 'NOT', 'WITHIN', '5', 'SECONDS', ',', "hashes.'SHA-256'", '.', ':', 'h\'00\''), fc.string({ maxLength: 5 })),
    { maxLength: 25 },
  );
  fc.assert(
    fc.property(pattern, (parts) => {
      try {
        const r = parsePattern(parts.join(' '));
        assert.ok(Array.isArray(r.terms));
      } catch (err) {
        assert.ok(err instanceof PatternError, String(err));
      }
    }),
    { numRuns: 3000 },
  );
});

test('addresses round-trip: any IPv4 or IPv6 value formats and parses back to itself', () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (s) => {
      const a = parseAddress(s);
      assert.ok(a, s);
      assert.deepEqual(parseAddress(formatAddress(a)), a);
      assert.ok(parseCidr(`${s}/${a.v === 4 ? 24 : 64}`));
    }),
  );
});

test('classify and matchText never throw on arbitrary text, and matchText finds what the set holds in it', () => {
  const { indicators } = loadIndicators(Buffer.from('evil.example\n10.0.0.0/8\nhttp://evil.example/a\nkinsing\n'), 'l.txt');
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (before, after) => {
      classify(before);
      matchText(indicators, before + after);
      const found = matchText(indicators, `${before} x.evil.example ${after}`).map((m) => m.indicator.value);
      assert.ok(found.includes('evil.example') || found.includes('http://evil.example/a'), `${before}|${after}`);
    }),
    { numRuns: 2000 },
  );
});
