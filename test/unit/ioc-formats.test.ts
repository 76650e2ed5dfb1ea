import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAddress } from '../../src/detect/ioc/address.js';
import { loadIndicators, type IndicatorSet } from '../../src/detect/ioc/index.js';
import { INDICATOR_KINDS } from '../../src/detect/ioc/indicator.js';
import { PROJECT } from '../helpers.js';

const fixture = (name: string) => loadIndicators(readFileSync(path.join(PROJECT, 'test/fixtures/ioc', name)), name);
const counts = (s: IndicatorSet) => Object.fromEntries(INDICATOR_KINDS.map((k) => [k, s.count(k)]).filter(([, n]) => n !== 0));
const addr = (s: string) => parseAddress(s)!;

test('a plain list: kinds told by shape, defanged values refanged, sha256sum lines, comments; junk reported with its line', () => {
  const { indicators: s, problems, format } = fixture('plain.txt');
  assert.equal(format, 'plain');
  assert.deepEqual(counts(s), { md5: 1, sha256: 1, ip: 3, cidr: 1, domain: 2, url: 2, filename: 3, path: 1 });
  assert.deepEqual(problems, ['plain.txt:20: not an indicator: "this line is junk"']);
  assert.equal(s.hash('5B2D8D8F2E1C4C0A9F2E6F7A8B9C0D1E2F3A4B5C6D7E8F90A1B2C3D4E5F60718')?.label, 'kdevtmpfsi');
  assert.equal(s.hash('d41d8cd98f00b204e9800998ecf8427e')?.origin, 'plain.txt:4');
  assert.equal(s.url('http://update-check.example/ldr.sh')?.origin, 'plain.txt:12', 'hxxp and [.] undone');
  assert.equal(s.url('https://mirror.example.net/x/kinsing')?.kind, 'url', 'host case, default port and trailing slash normalised');
  assert.equal(s.address(addr('45.10.88.124'))?.value, '45.10.88.124', 'an IPv4-mapped indicator is the IPv4 address');
  assert.equal(s.domain('update.sh')?.origin, 'plain.txt:18', '"domain:" makes the domain');
  assert.equal(s.file('/var/www/update.sh')?.origin, 'plain.txt:19', 'a bare name with a file extension is a file name');
  assert.equal(s.file('/etc/ld.so.preload.bak')?.kind, 'path');
  assert.equal(s.file('/tmp/ld.so.preload.bak'), undefined, 'an absolute-path indicator matches that path only');
});

test('CRLF line ends and a UTF-8 byte order mark are read as plain text', () => {
  const { indicators: s, problems } = fixture('crlf-bom.txt');
  assert.deepEqual(problems, []);
  assert.deepEqual(counts(s), { cidr: 1, domain: 1 });
  assert.ok(s.address(addr('10.66.200.1')));
  assert.ok(s.domain('bad.example'));
});

test('UTF-16 lists (a BOM says which byte order) are decoded', () => {
  for (const bom of [Buffer.from([0xff, 0xfe]), Buffer.from([0xfe, 0xff])]) {
    let body = Buffer.from('evil.example\r\n1.2.3.4\r\n', 'utf16le');
    if (bom[0] === 0xfe) body = Buffer.from(body).swap16();
    const { indicators: s, problems } = loadIndicators(Buffer.concat([bom, body]), 'utf16.txt');
    assert.deepEqual(problems, []);
    assert.deepEqual(counts(s), { ip: 1, domain: 1 });
  }
});

test('CSV with a header: type words of MISP and OTX, quoted fields, descriptions as labels; unknown types counted, bad values listed', () => {
  const { indicators: s, problems, format } = fixture('indicators.csv');
  assert.equal(format, 'csv');
  assert.deepEqual(counts(s), { md5: 1, sha256: 1, ip: 1, cidr: 1, domain: 1, url: 1, filename: 1 });
  assert.equal(s.address(addr('194.38.20.199'))?.label, 'C2, port as MISP writes it');
  assert.equal(s.url('http://update-check.example/ldr.sh?a=1')?.origin, 'indicators.csv:7');
  assert.deepEqual(problems, [
    'indicators.csv:6: not a valid hostname: "c2.example, with a comma"',
    'indicators.csv:12: not a valid FileHash-SHA256: "not-a-hash"',
    'indicators.csv: rows of type "email" skipped: goldhour matches hashes, addresses, domains, URLs and file names (2 times)',
  ]);
});

test('CSV without a header: value,type rows (CRLF)', () => {
  const { indicators: s, problems, format } = fixture('noheader.csv');
  assert.equal(format, 'csv');
  assert.deepEqual(problems, []);
  assert.deepEqual(counts(s), { ip: 1, domain: 1, filename: 1 });
});

test('CSV: a quoted field spanning lines keeps the record\'s first line number; type,value order works too', () => {
  const { indicators: s, problems } = loadIndicators(Buffer.from('type,value,comment\ndomain,a.example,"two\nlines"\nbogus-type-only\nip,"999.1.1.1"\n'), 'x.csv');
  assert.equal(s.domain('a.example')?.label, 'two\nlines');
  assert.deepEqual(problems, ['x.csv:4: no value', 'x.csv:5: not a valid ip: "999.1.1.1"']);
  const swapped = loadIndicators(Buffer.from('sha256,5b2d8d8f2e1c4c0a9f2e6f7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718\n'), 'y.csv');
  assert.equal(swapped.indicators.count('sha256'), 1);
});

test('a STIX 2.1 bundle: indicators with STIX patterns; revoked, other pattern languages and other objects skipped and said so', () => {
  const { indicators: s, problems, format } = fixture('bundle.json');
  assert.equal(format, 'stix');
  assert.deepEqual(counts(s), { md5: 1, sha256: 1, ip: 2, cidr: 1, url: 1, filename: 2 });
  const c2 = s.address(addr('185.191.32.77'));
  assert.equal(c2?.origin, 'indicator--1a2b3c4d-0000-4000-8000-000000000002');
  assert.equal(c2?.label, 'C2 servers');
  assert.ok(s.address(addr('2a01:4f8:c17:b8f:0:0:0:2')));
  assert.equal(s.domain('revoked.example'), undefined);
  // [file:name AND file:hashes.MD5]: the hash alone stands for the file
  assert.ok(s.hash('d41d8cd98f00b204e9800998ecf8427e'));
  assert.equal(s.domain('evil-pool.example'), undefined, 'a URL outranks a domain in one conjunction');
  assert.ok(s.file('/tmp/kinsing') && s.file('/tmp/kdevtmpfsi'), 'IN lists give one indicator each');
  assert.ok(problems.some((p) => p.includes('revoked indicators skipped')));
  assert.ok(problems.some((p) => p.includes('"sigma" patterns skipped')));
  assert.ok(problems.some((p) => p.includes('file:name MATCHES')));
  assert.ok(problems.some((p) => p.includes('indicator--1a2b3c4d-0000-4000-8000-000000000008: nothing in its pattern can be matched')));
});

test('a lone STIX indicator object or an array of them loads; broken JSON is one problem, never a throw', () => {
  const one = { type: 'indicator', id: 'indicator--x', pattern: "[domain-name:value = 'one.example']", pattern_type: 'stix' };
  assert.ok(loadIndicators(Buffer.from(JSON.stringify(one)), 'one.json').indicators.domain('one.example'));
  assert.ok(loadIndicators(Buffer.from(JSON.stringify([one])), 'arr.json').indicators.domain('x.one.example'));
  const broken = loadIndicators(Buffer.from('{"type": "bundle", "objects": ['), 'broken.json');
  assert.equal(broken.indicators.size, 0);
  assert.match(broken.problems[0]!, /^broken\.json: not valid JSON \(/);
  const badPattern = loadIndicators(Buffer.from(JSON.stringify({ ...one, pattern: "[domain-name:value = 'x" })), 'p.json');
  assert.match(badPattern.problems[0]!, /pattern not understood \(unterminated string\)/);
});

test('hostile bytes in a junk line are shown escaped and clipped, and problem lines are capped', () => {
  const { problems } = loadIndicators(Buffer.from(`\x1b[31mred\x1b[0m \u202eevil\n${'junk word\n'.repeat(50)}`), 'h.txt');
  assert.equal(problems[0], 'h.txt:1: not an indicator: "\\x1b[31mred\\x1b[0m \\u202eevil"');
  assert.deepEqual(problems.slice(20), ['h.txt: 31 more lines with problems not listed', 'h.txt: no indicator loaded']);
});

test('SHA-1 hashes load but the run is told no collector records them', () => {
  const { problems } = loadIndicators(Buffer.from('da39a3ee5e6b4b0d3255bfef95601890afd80709\n'), 's.txt');
  assert.match(problems[0]!, /1 SHA-1 hashes loaded, but collectors record SHA-256/);
});

test('a list with nothing usable says so', () => {
  assert.deepEqual(loadIndicators(Buffer.from('# only comments\n\n'), 'e.txt').problems, ['e.txt: no indicator loaded']);
  assert.deepEqual(loadIndicators(Buffer.alloc(0), 'empty.txt').problems, ['empty.txt: no indicator loaded']);
  assert.deepEqual(loadIndicators(Buffer.from('two words\n'), 'w.txt').problems, ['w.txt:1: not an indicator: "two words"', 'w.txt: no indicator loaded']);
});
