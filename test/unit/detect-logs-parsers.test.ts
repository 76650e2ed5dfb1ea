import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { authEvent, normalAddress, unrepeat } from '../../src/detect/logs/auth-events.js';
import { Clocks, InputClock, isoOf } from '../../src/detect/logs/clock.js';
import { contentOf, LineSplitter, type ContentNotes } from '../../src/detect/logs/content.js';
import { JournalExportParser, type ExportEntry } from '../../src/detect/logs/journal-export.js';
import { parseSyslogLine } from '../../src/detect/logs/syslog-line.js';
import { normalizeForMatch, parseWebLine, queryParams } from '../../src/detect/logs/web-request.js';
import { commandParam } from '../../src/detect/logs/web-rules.js';
import { parseLogTime } from '../../src/host/syslog-time.js';
import { PROJECT } from '../helpers.js';

const FIXTURES = path.join(PROJECT, 'test/fixtures/detect-logs');

test('syslog lines: Debian and RHEL classic, RFC 3339, RFC 5424 with structured data', () => {
  assert.deepEqual(parseSyslogLine('Nov  3 09:14:22 web01 sshd[1201]: Accepted publickey for alice from 192.0.2.10 port 50122 ssh2'), {
    time: 'Nov  3 09:14:22',
    host: 'web01',
    tag: 'sshd',
    pid: '1201',
    message: 'Accepted publickey for alice from 192.0.2.10 port 50122 ssh2',
  });
  assert.deepEqual(parseSyslogLine('Nov 16 00:02:10 rhel9 sudo[20250]:     ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/bin/id'), {
    time: 'Nov 16 00:02:10',
    host: 'rhel9',
    tag: 'sudo',
    pid: '20250',
    message: 'ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/bin/id',
  });
  const iso = parseSyslogLine('2026-11-23T16:03:29.758828+0000 web01 sshd-session[4570]: Failed none for x from 192.0.2.1 port 2 ssh2')!;
  assert.deepEqual([iso.time, iso.tag, iso.pid], ['2026-11-23T16:03:29.758828+0000', 'sshd-session', '4570']);
  assert.equal(parseSyslogLine('Nov 20 02:00:00 web01 sshd: Accepted password for root from 203.0.113.200 port 22 ssh2')!.pid, null);

  const sd = parseSyslogLine('<38>1 2026-11-23T16:03:55.785786+00:00 web01 sshd 5512 - [timeQuality tzKnown="1" isSynced="0"][x@1 a="q\\"]x" b=""] Failed password for root from 2001:db8::66 port 52030 ssh2')!;
  assert.deepEqual([sd.time, sd.host, sd.tag, sd.pid, sd.message], ['2026-11-23T16:03:55.785786+00:00', 'web01', 'sshd', '5512', 'Failed password for root from 2001:db8::66 port 52030 ssh2']);
  const nil = parseSyslogLine('<86>1 - web01 sudo - - - \uFEFFalice : PWD=/ ; USER=root ; COMMAND=/bin/id')!;
  assert.deepEqual([nil.time, nil.pid, nil.message], [null, null, 'alice : PWD=/ ; USER=root ; COMMAND=/bin/id']);

  for (const line of readFileSync(path.join(FIXTURES, 'rfc5424.log'), 'utf8').trim().split('\n')) assert.equal(parseSyslogLine(line)?.tag, 'sshd', line);
  for (const junk of ['', 'hello', 'Nov 23 10:00:00', '<38>1 2026-11-23T10:00:00Z host', '<38>1 a b c d e [unterminated msg', 'Foo 23 10:00:00 h t: m']) assert.equal(parseSyslogLine(junk), null, junk);
});

test('auth events: OpenSSH, sudo, su, shadow-utils, exactly as they write', () => {
  const sshd = (m: string) => authEvent('sshd', m);
  assert.deepEqual(sshd('Failed password for invalid user admin from 198.51.100.23 port 51000 ssh2'), { kind: 'failure', addr: '198.51.100.23', user: 'admin', invalid: true, method: 'password' });
  assert.deepEqual(sshd('Failed publickey for root from 192.0.2.1 port 2 ssh2: RSA SHA256:abc'), { kind: 'failure', addr: '192.0.2.1', user: 'root', invalid: false, method: 'publickey' });
  assert.deepEqual(sshd('Failed keyboard-interactive/pam for invalid user  from ::ffff:192.0.2.7 port 3 ssh2'), {
    kind: 'failure',
    addr: '192.0.2.7',
    user: '',
    invalid: true,
    method: 'keyboard-interactive/pam',
  });
  assert.deepEqual(authEvent('sshd-session', 'Accepted publickey for alice from 2001:DB8::1 port 51514 ssh2: ED25519 SHA256:x'), { kind: 'success', addr: '2001:db8::1', user: 'alice', method: 'publickey' });
  assert.deepEqual(sshd('Invalid user a b from 203.0.113.1 port 9 from 203.0.113.2 port 1'), { kind: 'invalid-user', addr: '203.0.113.2', user: 'a b from 203.0.113.1 port 9' });
  assert.deepEqual(sshd('Invalid user old from 203.0.113.3'), { kind: 'invalid-user', addr: '203.0.113.3', user: 'old' });
  assert.deepEqual(sshd('Connection closed by authenticating user root 203.0.113.7 port 40010 [preauth]'), { kind: 'preauth-close', addr: '203.0.113.7', user: 'root', invalid: false });
  assert.deepEqual(sshd('Disconnected from invalid user oracle 203.0.113.8 port 1 [preauth]'), { kind: 'preauth-close', addr: '203.0.113.8', user: 'oracle', invalid: true });
  for (const m of [
    'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root',
    'Disconnecting authenticating user ops 192.0.2.201 port 40100: Too many authentication failures [preauth]',
    'Connection closed by 203.0.113.9 port 22 [preauth]',
    'Failed password for root from not/an/address port 22 ssh2',
    'Accepted password for root from 203.0.113.7 port 99999999 ssh2',
  ]) {
    assert.equal(sshd(m), null, m);
  }
  assert.equal(authEvent('logger', 'Failed password for root from 203.0.113.7 port 1 ssh2'), null, 'only sshd speaks for sshd');

  assert.deepEqual(authEvent('sudo', 'alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow'), {
    kind: 'sudo',
    user: 'alice',
    denied: null,
    runas: 'root',
    command: '/usr/bin/cat /etc/shadow',
  });
  assert.deepEqual(authEvent('sudo', 'bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; ENV=A=1 ; COMMAND=/bin/sh'), {
    kind: 'sudo',
    user: 'bob',
    denied: '3 incorrect password attempts',
    runas: 'root',
    command: '/bin/sh',
  });
  assert.deepEqual(authEvent('su', 'pam_unix(su-l:session): session opened for user root by ops(uid=1000)'), { kind: 'su', target: 'root', targetUid: null, user: 'ops' });
  assert.deepEqual(authEvent('gpasswd', 'members of group sudo set by root to alice,evil'), {
    kind: 'account',
    action: 'group-member',
    account: 'alice,evil',
    group: 'sudo',
    uid: null,
    privileged: true,
  });
  assert.deepEqual(authEvent('usermod', "change user 'evil' UID from '1001' to '0'"), { kind: 'account', action: 'uid-changed', account: 'evil', group: null, uid: '0', privileged: true });
  assert.equal(authEvent('useradd', 'failed adding user `x\', exit status 1'), null);
});

test('message repeated N times, and addresses', () => {
  assert.deepEqual(unrepeat('message repeated 40 times: [ Failed password for x from 203.0.113.1 port 1 ssh2]'), { message: 'Failed password for x from 203.0.113.1 port 1 ssh2', times: 40 });
  assert.deepEqual(unrepeat('message repeated 2 times: [Accepted]'), { message: 'Accepted', times: 2 });
  assert.deepEqual(unrepeat('message repeated lots of times: [ x]'), { message: 'message repeated lots of times: [ x]', times: 1 });
  assert.equal(normalAddress('::FFFF:10.1.2.3'), '10.1.2.3');
  assert.equal(normalAddress('Host.Example.ORG'), 'host.example.org');
  for (const bad of ['', '-', 'a/b', '10.0.0.1;rm', '\x1b[31m']) assert.equal(normalAddress(bad), null, bad);
});

function parseExport(buf: Buffer, cut: number[]): { entries: ExportEntry[]; broken: number } {
  const entries: ExportEntry[] = [];
  const p = new JournalExportParser(new Set(['MESSAGE', '_UID', 'SYSLOG_IDENTIFIER']), 4096, (e) => entries.push(e));
  let at = 0;
  for (let i = 0; at < buf.length; i++) {
    const n = cut[i % cut.length]!;
    p.push(buf.subarray(at, at + n));
    at += n;
  }
  p.end();
  return { entries, broken: p.broken };
}

test('journal export: text and binary fields, line numbers, any chunking', () => {
  const buf = readFileSync(path.join(FIXTURES, 'journal.export'));
  const whole = parseExport(buf, [buf.length]);
  assert.equal(whole.entries.length, buf.toString('latin1').split('\n__CURSOR=').length);
  assert.equal(whole.broken, 0);
  const binary = whole.entries.find((e) => e.fields.get('MESSAGE')?.includes('\x1b[2J'))!;
  assert.equal(binary.fields.get('MESSAGE'), 'Failed password for invalid user \x1b[2Jadmin from 198.51.100.99 port 51001 ssh2');
  assert.equal(binary.fields.get('_UID'), '65534');
  assert.equal(buf.toString('latin1').split('\n')[binary.line - 1], 'MESSAGE', 'a binary field: its name alone on the line');
  for (const cut of [[1], [7, 3], [8192]]) assert.deepEqual(parseExport(buf, cut), whole, `chunks of ${cut}`);

  // a length no export can have: the framing is broken, reading goes on line by line
  const hostile = Buffer.concat([
    Buffer.from('MESSAGE\n'),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from('\nSYSLOG_IDENTIFIER=sshd\nMESSAGE=after\n'),
  ]);
  const r = parseExport(hostile, [5]);
  assert.equal(r.broken, 1);
  assert.deepEqual([...r.entries[0]!.fields], [['SYSLOG_IDENTIFIER', 'sshd'], ['MESSAGE', 'after']]);
  assert.equal(r.entries[0]!.line, 4);
});

test('lines: CRLF dropped, long lines cut without buffering, chunk boundaries anywhere', () => {
  const got: [string, number][] = [];
  const s = new LineSplitter(300, (l, n) => got.push([l.toString('latin1'), n]));
  const text = `a\r\nb\n${'x'.repeat(1000)}\nlast\r`;
  for (let i = 0; i < text.length; i += 7) s.push(Buffer.from(text.slice(i, i + 7), 'latin1'));
  s.end();
  assert.deepEqual(got, [['a', 1], ['b', 2], ['x'.repeat(300), 3], ['last', 4]]);
  assert.equal(s.cut, 1);
});

async function content(parts: Buffer[], max = 1 << 30): Promise<{ text: string; notes: ContentNotes }> {
  async function* gen() {
    yield* parts;
  }
  const notes: ContentNotes = { compression: null, bytes: 0, capped: false, error: null };
  const out: Buffer[] = [];
  for await (const c of contentOf(gen(), max, notes)) out.push(c);
  return { text: Buffer.concat(out).toString(), notes };
}

test('content: gzip told by magic bytes (even one byte at a time), several members, a cap', async () => {
  const gz = Buffer.concat([gzipSync('first\n'), gzipSync('second\n')]);
  assert.equal((await content([gz])).text, 'first\nsecond\n');
  const bytewise = await content([...gz].map((b) => Buffer.from([b])));
  assert.deepEqual([bytewise.text, bytewise.notes.compression], ['first\nsecond\n', 'gzip']);
  assert.deepEqual((await content([Buffer.from('plain'), Buffer.from(' text')])).text, 'plain text');
  const capped = await content([Buffer.from('0123456789')], 4);
  assert.deepEqual([capped.text, capped.notes.capped, capped.notes.bytes], ['0123', true, 4]);
  const exact = await content([Buffer.from('0123')], 4);
  assert.deepEqual([exact.text, exact.notes.capped], ['0123', false]);
  const zstd = await content([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3])]);
  assert.deepEqual([zstd.text, zstd.notes.compression], ['', 'zstd']);
  assert.deepEqual((await content([])).text, '');
});

test('content: a source cut short by the cap, or left unread (xz), is closed', async () => {
  for (const [first, gz] of [[Buffer.from('0123456789'), false], [gzipSync('0123456789'.repeat(1000)), true], [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 1]), false]] as const) {
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield first;
        for (;;) yield Buffer.from('more bytes\n');
      } finally {
        closed = true;
      }
    }
    const notes: ContentNotes = { compression: null, bytes: 0, capped: false, error: null };
    for await (const c of contentOf(source(), 100, notes)) assert.ok(c.length <= 100);
    assert.ok(closed, `closed (gzip ${gz})`);
    assert.ok(notes.capped || notes.compression === 'xz');
  }
});

test('request decoding: log escapes, double and triple percent-encoding, %u, overlong UTF-8, plus', () => {
  assert.equal(normalizeForMatch('/a/%252e%252e%252fetc', false), '/a/../etc');
  assert.equal(normalizeForMatch('/%25252e%25252e/', false), '/../');
  assert.equal(normalizeForMatch('/%u002e%u002e%u2215x', false), '/..\u2215x');
  assert.equal(normalizeForMatch('/..%c0%af..%c0%afetc', false), '/../../etc');
  assert.equal(normalizeForMatch('/s?q=Select+A+Theme&x=1%2B1', true), '/s?q=select a theme&x=1+1');
  assert.equal(normalizeForMatch('/p+q', true), '/p+q', 'a plus in the path is a plus');
  assert.equal(normalizeForMatch('GET \\x22x\\x22 \\"y\\" \\\\', false), 'get "x" "y" \\');
  assert.equal(normalizeForMatch('%zz%4', false), '%zz%4');
  assert.deepEqual(queryParams('/x.php?cmd=uname%20-a&c=cat+/etc/passwd&flag'), [
    { name: 'cmd', value: 'uname -a' },
    { name: 'c', value: 'cat /etc/passwd' },
    { name: 'flag', value: '' },
  ]);
  assert.equal(commandParam('/x.php?c=3'), null);
  assert.equal(commandParam('/x.php?page=2&q=ls%20-la'), 'q=ls -la');
});

test('access log lines: nginx combined, Apache vhost_combined and common, escapes, garbage', () => {
  assert.deepEqual(parseWebLine('203.0.113.5 - bob [23/Nov/2026:10:00:01 +0100] "GET /a?b=\\"c\\" HTTP/1.1" 404 12 "http://r/" "UA \\"x\\""'), {
    client: '203.0.113.5',
    time: '23/Nov/2026:10:00:01 +0100',
    method: 'GET',
    target: '/a?b=\\"c\\"',
    status: 404,
    referer: 'http://r/',
    agent: 'UA \\"x\\"',
  });
  const vhost = parseWebLine('shop.example.org:443 192.0.2.10 - - [23/Nov/2026:09:00:00 +0000] "POST /cart HTTP/2.0" 200 3001 "-" "curl/8"')!;
  assert.deepEqual([vhost.client, vhost.method, vhost.target], ['192.0.2.10', 'POST', '/cart']);
  const common = parseWebLine('192.0.2.10 - - [23/Nov/2026:09:00:00 +0000] "GET / HTTP/1.0" 200 -')!;
  assert.deepEqual([common.agent, common.status], ['', 200]);
  const tls = parseWebLine('203.0.113.49 - - [23/Nov/2026:03:06:00 +0000] "\\x16\\x03\\x01" 400 157 "-" "-"')!;
  assert.deepEqual([tls.method, tls.target], ['', '\\x16\\x03\\x01']);
  for (const junk of ['', '2026/11/23 10:00:02 [error] 77#77: *1 open() failed', '1.2.3.4 - - [x] "GET /" abc']) assert.equal(parseWebLine(junk), null, junk);
});

test('clock: a classic log across new year gets its years from the mtime; zones applied at the end', () => {
  const clock = new InputClock(new Date('2027-01-02T00:00:00Z'));
  const dec = clock.encode(parseLogTime('Dec 31 23:59:58 h x')!);
  const jan = clock.encode(parseLogTime('Jan  1 00:00:03 h x')!);
  assert.equal(jan - dec, 5000, 'differences are right while streaming');
  clock.seal();
  const utc = new Clocks(null);
  assert.deepEqual([isoOf(utc.resolve(clock, dec)), isoOf(utc.resolve(clock, jan))], ['2026-12-31T23:59:58.000', '2027-01-01T00:00:03.000']);
  const ny = new Clocks('America/New_York');
  assert.equal(isoOf(ny.resolve(clock, jan)), '2027-01-01T05:00:03.000Z');
  const summer = new InputClock(new Date('2026-07-02T00:00:00Z'));
  const t = summer.encode(parseLogTime('Jul  1 12:00:00 h x')!);
  summer.seal();
  assert.equal(isoOf(ny.resolve(summer, t)), '2026-07-01T16:00:00.000Z', 'daylight saving time');
  const zoned = clock.encode(parseLogTime('2026-11-23T10:00:00+02:00 h x')!);
  assert.equal(isoOf(ny.resolve(clock, zoned)), '2026-11-23T08:00:00.000Z', 'a stamp with a zone keeps it');
  assert.equal(isoOf(utc.resolve(clock, clock.encode(null))), null);
});
