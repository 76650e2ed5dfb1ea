import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Finding } from '../../src/detect/finding.js';
import { createLogAnalysis, LOG_RULES, LOG_RULES_WITH_CASES, type LogAnalysisOptions, type LogInput } from '../../src/detect/logs/index.js';
import { CASE_MTIME } from '../../src/detect/logs/rule-meta.js';
import { PROJECT } from '../helpers.js';

const FIXTURES = path.join(PROJECT, 'test/fixtures/detect-logs');
const fixture = (rel: string) => path.join(FIXTURES, rel);

type Source = { path: string; category: string; mtime: string | null } & ({ file: string } | { text: string | Buffer });

async function* bytes(b: Buffer, step = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += step) yield b.subarray(i, i + step);
}

function input(s: Source): LogInput {
  const chunks = 'file' in s ? createReadStream(fixture(s.file)) : bytes(Buffer.isBuffer(s.text) ? s.text : Buffer.from(s.text));
  return { path: s.path, category: s.category, mtime: s.mtime === null ? null : new Date(s.mtime), chunks };
}

/** Runs an analysis over the sources in order; every finding must satisfy the findings.jsonl contract. */
async function analyse(sources: Source[], opts: Partial<LogAnalysisOptions> = {}): Promise<Finding[]> {
  const a = createLogAnalysis(opts);
  for (const s of sources) await a.add(input(s));
  const findings = a.finish();
  for (const f of findings) Finding.parse(f);
  return findings;
}

/** A UTC time (the journald fixtures are dated by when make-journal-fixtures.sh ran). */
const UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const byRule = (fs: Finding[], id: string) => fs.filter((f) => f.id === id);
const one = (fs: Finding[], id: string, source: string, field = 'address') => {
  const found = fs.filter((f) => f.id === id && f.evidence[field] === source);
  assert.equal(found.length, 1, `one ${id} for ${source}, got ${JSON.stringify(fs.map((f) => [f.id, f.evidence[field]]))}`);
  return found[0]!;
};

const DEBIAN: Source[] = [
  // newest first, as the logs collector lists them
  { path: '/var/log/auth.log', category: 'auth', mtime: '2026-11-23T12:00:00Z', file: 'debian/auth.log' },
  { path: '/var/log/auth.log.1', category: 'auth', mtime: '2026-11-16T06:25:01Z', file: 'debian/auth.log.1' },
  { path: '/var/log/auth.log.2.gz', category: 'auth', mtime: '2026-11-09T06:25:01Z', file: 'debian/auth.log.2.gz' },
];

for (const rule of LOG_RULES_WITH_CASES) {
  test(`rule ${rule.id}: its positive and negative cases`, async () => {
    const run = (text: string) => analyse([{ path: '/var/log/case', category: rule.cases.category, mtime: CASE_MTIME.toISOString(), text }]);
    assert.ok(rule.cases.fires.length > 0 && rule.cases.quiet.length > 0, 'a rule needs both kinds of case');
    for (const text of rule.cases.fires) assert.ok(byRule(await run(text), rule.id).length > 0, `should fire on ${JSON.stringify(text.slice(0, 300))}`);
    for (const text of rule.cases.quiet) assert.deepEqual(byRule(await run(text), rule.id), [], `should stay quiet on ${JSON.stringify(text.slice(0, 300))}`);
  });
}

test('rule metadata: unique ids, one-paragraph descriptions, what LOG_RULES lists is what findings use', async () => {
  assert.equal(new Set(LOG_RULES.map((r) => r.id)).size, LOG_RULES.length);
  for (const r of LOG_RULES) {
    assert.ok(!('cases' in r), `${r.id}: LOG_RULES is metadata only`);
    assert.ok(r.description.length > 150 && !r.description.includes('\n'), `${r.id}: a paragraph`);
    assert.ok(r.falsepositives.length > 0, r.id);
    for (const a of r.attack) assert.match(a, /^T\d{4}(\.\d{3})?$/);
  }
  const findings = [
    ...(await analyse(DEBIAN)),
    ...(await analyse([{ path: '/var/log/nginx/access.log', category: 'web', mtime: null, file: 'web/access.log' }])),
  ];
  for (const f of findings) {
    const meta = LOG_RULES.find((r) => r.id === f.id)!;
    assert.ok(meta, f.id);
    assert.deepEqual([f.severity, f.title, f.attack, f.collector], [meta.severity, meta.title, [...meta.attack], 'logs']);
  }
});

test('Debian auth.log generations: windows and successes span rotation and gzip, in any order', async () => {
  const fs = await analyse(DEBIAN);

  // 6 failures at the end of auth.log.2.gz and 5 at the start of auth.log.1: only together do they reach 10 in 10 minutes
  const brute = one(fs, 'logs.auth.ssh-brute-force', '203.0.113.99');
  assert.equal(brute.evidence.count, 11);
  assert.deepEqual(brute.evidence.files, ['/var/log/auth.log.1', '/var/log/auth.log.2.gz']);
  assert.equal(brute.evidence.path, '/var/log/auth.log.2.gz');
  assert.equal(brute.evidence.line, 12);
  assert.equal(brute.evidence.text, 'Nov  9 06:18:02 web01 sshd[1301]: Failed password for root from 203.0.113.99 port 38110 ssh2');
  assert.equal(brute.evidence.firstTime, '2026-11-09T06:18:02.000', 'the year comes from the mtime; the time stays local');
  assert.equal(brute.evidence.timesLocal, true);
  assert.equal(brute.ts, null, 'no zone known: no UTC time to give');
  const alone = await analyse([DEBIAN[1]!]);
  assert.deepEqual(byRule(alone, 'logs.auth.ssh-brute-force'), []);

  // "message repeated 40 times" counts 40 more
  assert.equal(one(fs, 'logs.auth.ssh-brute-force', '203.0.113.120').evidence.count, 41);

  // failures at the end of auth.log.1, the login at the start of auth.log
  const success = one(fs, 'logs.auth.ssh-success-after-failures', '198.51.100.77');
  assert.equal(success.severity, 'critical');
  assert.deepEqual([success.evidence.path, success.evidence.line, success.evidence.failuresBefore], ['/var/log/auth.log', 3, 5]);
  assert.deepEqual(success.evidence.users, ['deploy']);
  assert.deepEqual(byRule(await analyse([DEBIAN[0]!]), 'logs.auth.ssh-success-after-failures'), []);

  // one guess at each of 12 accounts over two hours: spraying, not brute force
  const spray = one(fs, 'logs.auth.ssh-password-spraying', '192.0.2.77');
  assert.equal(spray.evidence.distinctUsers, 12);
  assert.ok(!fs.some((f) => f.id === 'logs.auth.ssh-brute-force' && f.evidence.address === '192.0.2.77'));

  // a user name carrying a fake " from 10.9.9.9 port 1": the address is the one sshd wrote last
  const invalid = one(fs, 'logs.auth.ssh-invalid-user', '203.0.113.150');
  assert.deepEqual(invalid.evidence.users, ['x from 10.9.9.9 port 1']);
  assert.ok(!fs.some((f) => f.evidence.address === '10.9.9.9'));
  assert.deepEqual(one(fs, 'logs.auth.ssh-invalid-user', '198.51.100.23').evidence.users, ['admin', 'ubnt']);

  // an sshd line without a pid is flagged and kept out of the login rules
  const noPid = one(fs, 'logs.auth.sshd-line-without-pid', 'web01', 'host');
  assert.equal(noPid.evidence.line, 15);
  assert.ok(!fs.some((f) => f.evidence.address === '203.0.113.200'));

  assert.deepEqual(one(fs, 'logs.account.privileged-change', 'sysadm', 'account').evidence.groups, ['sudo']);
  assert.deepEqual(one(fs, 'logs.account.user-created', 'sysadm', 'account').evidence.uids, ['1005']);
  assert.deepEqual(one(fs, 'logs.auth.sudo-root', 'deploy', 'user').evidence.commands, ['/usr/bin/bash']);
  assert.deepEqual(one(fs, 'logs.auth.sudo-root', 'alice', 'user').evidence.path, '/var/log/auth.log.2.gz');
  assert.ok(!fs.some((f) => f.evidence.address === '192.0.2.10'), 'the administrator\'s own logins raise nothing');

  // findings come most severe first and do not depend on the order the generations are added in
  assert.deepEqual(fs.map((f) => f.severity), [...fs.map((f) => f.severity)].sort((a, b) => ['info', 'low', 'medium', 'high', 'critical'].indexOf(b) - ['info', 'low', 'medium', 'high', 'critical'].indexOf(a)));
  const reversed = await analyse([...DEBIAN].reverse());
  const key = (f: Finding) => `${f.id} ${JSON.stringify({ ...f.evidence, files: undefined })}`;
  assert.deepEqual(reversed.map(key).sort(), fs.map(key).sort());
});

test('RHEL secure: rotated with dateext and CRLF endings, su -l, gpasswd, sudo refused', async () => {
  const fs = await analyse([
    { path: '/var/log/secure', category: 'auth', mtime: '2026-11-23T12:00:00Z', file: 'rhel/secure' },
    { path: '/var/log/secure-20261116', category: 'auth', mtime: '2026-11-16T03:10:00Z', file: 'rhel/secure-20261116' },
  ]);
  assert.ok(readFileSync(fixture('rhel/secure-20261116'), 'latin1').includes('\r\n'));
  const success = one(fs, 'logs.auth.ssh-success-after-failures', '192.0.2.201');
  assert.equal(success.evidence.failuresBefore, 5);
  assert.equal(success.evidence.text, 'Nov 16 00:01:30 rhel9 sshd[20170]: Accepted password for ops from 192.0.2.201 port 40140 ssh2');
  const invalid = one(fs, 'logs.auth.ssh-invalid-user', '192.0.2.200');
  assert.equal(invalid.evidence.text, 'Nov 15 03:12:44 rhel9 sshd[20111]: Invalid user test from 192.0.2.200 port 43210', 'CR dropped');
  assert.deepEqual(one(fs, 'logs.account.privileged-change', 'svc', 'account').evidence.groups, ['wheel']);
  assert.deepEqual(one(fs, 'logs.auth.sudo-denied', 'svc', 'user').evidence.reasons, ['user NOT in sudoers']);
  const root = one(fs, 'logs.auth.sudo-root', 'ops', 'user');
  assert.deepEqual([root.evidence.count, root.evidence.commands], [2, ['/bin/systemctl restart httpd', 'su']]);
});

const JOURNAL: Source = { path: 'journalctl -o export --no-pager --since=-7d', category: 'journal-export', mtime: null, file: 'journal.export' };
const AUTH_FROM_JOURNAL: Source = { path: '/var/log/auth.log', category: 'auth', mtime: '2026-11-23T17:00:00Z', file: 'auth-journal.log' };

// journal.export, auth-journal.log, auth-iso.log and rfc5424.log come from a real journald: see make-journal-fixtures.sh
test('journal export made by journald: forged sshd entries, real useradd/usermod/gpasswd/sudo', async () => {
  const fs = await analyse([JOURNAL]);
  const forged = one(fs, 'logs.auth.forged-sshd', 'uid=65534 comm=logger', 'writer');
  assert.equal(forged.evidence.count, 2, 'the plain one and the one exported as a binary field');
  assert.equal(forged.evidence.text, 'Accepted password for root from 203.0.113.50 port 51000 ssh2');
  assert.equal(forged.evidence.path, JOURNAL.path);
  const lines = readFileSync(fixture('journal.export'), 'latin1').split('\n');
  assert.equal(lines[(forged.evidence.line as number) - 1], `MESSAGE=${forged.evidence.text}`, 'line numbers point into the export');
  assert.ok(!fs.some((f) => f.evidence.address === '203.0.113.50' || f.evidence.address === '198.51.100.99'), 'forged entries are kept out of the login rules');

  const brute = one(fs, 'logs.auth.ssh-brute-force', '203.0.113.7');
  assert.equal(brute.evidence.count, 12);
  assert.match(brute.ts!, UTC, 'journal times are UTC');
  assert.equal(one(fs, 'logs.auth.ssh-success-after-failures', '203.0.113.7').evidence.failuresBefore, 12);
  assert.deepEqual(one(fs, 'logs.auth.ssh-invalid-user', '198.51.100.23').evidence.users, ['admin', 'oracle']);
  assert.deepEqual(one(fs, 'logs.account.privileged-change', 'backup2', 'account').evidence.groups, ['sudo']);
  assert.deepEqual(one(fs, 'logs.account.changed', 'backup2', 'account').evidence.groups, ['backup2', 'adm']);
  assert.deepEqual(byRule(fs, 'logs.account.user-created').map((f) => f.evidence.account), ['backup2', 'alice2']);
  assert.deepEqual(one(fs, 'logs.auth.sudo-root', 'alice2', 'user').evidence.commands, ['/usr/bin/id']);
});

test('the same events in auth.log and the journal are counted once, whichever comes first', async () => {
  const journalOnly = await analyse([JOURNAL]);
  for (const order of [[AUTH_FROM_JOURNAL, JOURNAL], [JOURNAL, AUTH_FROM_JOURNAL]]) {
    const fs = await analyse(order);
    assert.equal(one(fs, 'logs.auth.ssh-brute-force', '203.0.113.7').evidence.count, 12);
    assert.equal(one(fs, 'logs.auth.ssh-invalid-user', '198.51.100.23').evidence.count, 2);
    assert.equal(one(fs, 'logs.auth.sudo-root', 'alice2', 'user').evidence.count, 1);
    assert.equal(byRule(fs, 'logs.account.user-created').length, byRule(journalOnly, 'logs.account.user-created').length);
  }
});

test('a forged line copied into auth.log is dropped when the journal comes first', async () => {
  const failures = Array.from({ length: 5 }, (_, i) => `Nov 23 10:00:0${i} web01 sshd[90${i}]: Failed password for root from 198.51.100.9 port 4100${i} ssh2\n`).join('');
  const file: Source = { path: '/var/log/auth.log', category: 'auth', mtime: '2026-11-23T12:00:00Z', text: `${failures}Nov 23 10:01:00 web01 sshd[4242]: Accepted password for root from 198.51.100.9 port 51000 ssh2\n` };
  const journal: Source = {
    path: 'journalctl -o export',
    category: 'journal-export',
    mtime: null,
    text: '__CURSOR=s=1;i=9\n__REALTIME_TIMESTAMP=1795428060000000\n_UID=1000\n_COMM=logger\nSYSLOG_IDENTIFIER=sshd\nSYSLOG_PID=4242\nMESSAGE=Accepted password for root from 198.51.100.9 port 51000 ssh2\n\n',
  };
  const journalFirst = await analyse([journal, file]);
  assert.equal(byRule(journalFirst, 'logs.auth.forged-sshd').length, 1);
  assert.deepEqual(byRule(journalFirst, 'logs.auth.ssh-success-after-failures'), []);
  // read after the file, the journal can still name the forgery, but the copy was already counted
  const fileFirst = await analyse([file, journal]);
  assert.equal(byRule(fileFirst, 'logs.auth.forged-sshd').length, 1);
  assert.equal(byRule(fileFirst, 'logs.auth.ssh-success-after-failures').length, 1);
});

test('RFC 5424 with structured data and RFC 3339 auth.log: times carry their zone', async () => {
  const fs = await analyse([{ path: '/var/log/syslog', category: 'syslog', mtime: '2026-11-23T17:00:00Z', file: 'rfc5424.log' }]);
  const brute = one(fs, 'logs.auth.ssh-brute-force', '2001:db8::66');
  assert.equal(brute.evidence.count, 12);
  assert.match(brute.ts!, UTC);
  assert.deepEqual(one(fs, 'logs.auth.ssh-success-after-failures', '2001:db8::66').evidence.users, ['test']);

  const iso = await analyse([{ path: '/var/log/auth.log', category: 'auth', mtime: '2026-11-23T17:00:00Z', file: 'auth-iso.log' }]);
  const success = one(iso, 'logs.auth.ssh-success-after-failures', '203.0.113.7');
  assert.match(success.ts!, UTC);
  assert.equal(success.evidence.timesLocal, undefined);
});

test('the host time zone puts classic syslog times on UTC; an unknown zone leaves them local', async () => {
  const berlin = await analyse(DEBIAN, { timeZone: 'Europe/Berlin' });
  const b = one(berlin, 'logs.auth.ssh-brute-force', '203.0.113.99');
  assert.equal(b.ts, '2026-11-09T05:18:02.000Z');
  assert.equal(b.evidence.timesLocal, undefined);
  const bogus = one(await analyse(DEBIAN, { timeZone: '../../etc/passwd' }), 'logs.auth.ssh-brute-force', '203.0.113.99');
  assert.deepEqual([bogus.ts, bogus.evidence.firstTime], [null, '2026-11-09T06:18:02.000']);
});

test('a brute force across the new year: the year is inferred from the mtime', async () => {
  const text =
    Array.from({ length: 6 }, (_, i) => `Dec 31 23:58:1${i} web01 sshd[10${i}]: Failed password for root from 203.0.113.5 port 500${i} ssh2\n`).join('') +
    Array.from({ length: 6 }, (_, i) => `Jan  1 00:01:1${i} web01 sshd[20${i}]: Failed password for root from 203.0.113.5 port 600${i} ssh2\n`).join('');
  const fs = await analyse([{ path: '/var/log/auth.log', category: 'auth', mtime: '2027-01-02T00:00:00Z', text }]);
  const b = one(fs, 'logs.auth.ssh-brute-force', '203.0.113.5');
  assert.deepEqual([b.evidence.firstTime, b.evidence.lastTime], ['2026-12-31T23:58:10.000', '2027-01-01T00:01:15.000']);
});

test('spraying across more accounts than are remembered is still spraying', async () => {
  const text = Array.from({ length: 200 }, (_, i) => `Nov 23 1${Math.floor(i / 60) % 10}:${String(i % 60).padStart(2, '0')}:00 web01 sshd[${5000 + i}]: Failed password for invalid user u${i} from 192.0.2.99 port ${30000 + i} ssh2\n`).join('');
  const spray = one(await analyse([{ path: '/var/log/auth.log', category: 'auth', mtime: '2026-11-24T00:00:00Z', text }]), 'logs.auth.ssh-password-spraying', '192.0.2.99');
  assert.deepEqual([spray.evidence.count, spray.evidence.distinctUsers, spray.evidence.distinctUsersAtLeast], [200, 64, true]);
});

test('threshold and window are options', async () => {
  const text = Array.from({ length: 3 }, (_, i) => `Nov 23 10:0${i}:00 web01 sshd[30${i}]: Failed password for root from 203.0.113.9 port 700${i} ssh2\n`).join('');
  const src: Source[] = [{ path: '/var/log/auth.log', category: 'auth', mtime: '2026-11-24T00:00:00Z', text }];
  assert.deepEqual(byRule(await analyse(src), 'logs.auth.ssh-brute-force'), []);
  assert.equal(byRule(await analyse(src, { bruteForceThreshold: 3, bruteForceWindowMs: 180_000 }), 'logs.auth.ssh-brute-force').length, 1);
  assert.deepEqual(byRule(await analyse(src, { bruteForceThreshold: 3, bruteForceWindowMs: 60_000 }), 'logs.auth.ssh-brute-force'), []);
  assert.throws(() => createLogAnalysis({ bruteForceThreshold: 0 }), /^Error: log analysis option bruteForceThreshold: /);
});

test('web access logs: nginx generations (gzip) and Apache vhost_combined', async () => {
  const fs = await analyse([
    { path: '/var/log/nginx/access.log', category: 'web', mtime: '2026-11-23T12:00:00Z', file: 'web/access.log' },
    { path: '/var/log/nginx/access.log.1.gz', category: 'web', mtime: '2026-11-23T00:00:00Z', file: 'web/access.log.1.gz' },
    { path: '/var/log/apache2/other_vhosts_access.log', category: 'web', mtime: '2026-11-23T12:00:00Z', file: 'web/other_vhosts_access.log' },
  ]);
  const shell = one(fs, 'logs.web.webshell-command', '198.51.100.14');
  assert.deepEqual(shell.evidence.commands, ['cmd=id', 'cmd=uname -a']);
  assert.equal(shell.evidence.postedBefore, true, 'the upload POST is in the older, gzipped generation');
  assert.equal(shell.ts, '2026-11-23T00:02:13.000Z');
  assert.deepEqual(one(fs, 'logs.web.webshell', '198.51.100.14').evidence.methods, ['POST']);
  assert.equal(one(fs, 'logs.web.webshell-command', '203.0.113.60').evidence.path, '/var/log/apache2/other_vhosts_access.log');

  const sqli = one(fs, 'logs.web.sqli', '203.0.113.45');
  assert.deepEqual([sqli.evidence.count, sqli.evidence.statuses, sqli.evidence.line], [3, ['200', '500'], 6]);
  assert.deepEqual(one(fs, 'logs.web.scanner', '203.0.113.45').evidence.agents, ['sqlmap/1.7.2#stable (https://sqlmap.org)']);
  assert.equal(one(fs, 'logs.web.path-traversal', '203.0.113.46').evidence.count, 2, 'double-encoded ..%252f and .%2e');
  one(fs, 'logs.web.shellshock', '203.0.113.46');
  one(fs, 'logs.web.xss', '203.0.113.46');
  one(fs, 'logs.web.xss', '203.0.113.50');
  one(fs, 'logs.web.log4shell', '203.0.113.47');
  one(fs, 'logs.web.command-injection', '203.0.113.48');
  assert.ok(!fs.some((f) => f.evidence.address === '192.0.2.10'), 'the benign visitor raises nothing');
  assert.ok(!fs.some((f) => f.evidence.address === '203.0.113.49'), 'a TLS handshake on port 80 is not an attack pattern');
});

test('aggregation: 50,000 scanner lines make one finding per rule, sources past the cap fold into one', async () => {
  let text = '';
  for (let i = 0; i < 50_000; i++) text += `203.0.113.45 - - [23/Nov/2026:02:10:01 +0000] "GET /item.php?id=${i}%27%20OR%20%271%27%3D%271 HTTP/1.1" 200 1312 "-" "sqlmap/1.7.2#stable (https://sqlmap.org)"\n`;
  const fs = await analyse([{ path: '/var/log/nginx/access.log', category: 'web', mtime: null, text }]);
  assert.deepEqual(fs.map((f) => [f.id, f.evidence.count]).sort(), [['logs.web.scanner', 50_000], ['logs.web.sqli', 50_000]]);

  let many = '';
  for (let i = 0; i < 500; i++) many += `198.51.${i >> 8}.${i & 255} - - [23/Nov/2026:02:10:01 +0000] "GET /?q=%3Cscript%3E HTTP/1.1" 404 0 "-" "nikto"\n`;
  const capped = await analyse([{ path: '/var/log/nginx/access.log', category: 'web', mtime: null, text: many }], { maxSourcesPerRule: 100 });
  const xss = byRule(capped, 'logs.web.xss');
  assert.equal(xss.length, 101);
  const rest = xss.find((f) => f.evidence.address === null)!;
  assert.deepEqual([rest.evidence.otherSources, rest.evidence.count], [400, 400]);
});

test('login sources past the cap fold into one finding that adds their counts; finish() can be asked twice', async () => {
  let text = '';
  for (let a = 0; a < 30; a++) for (let i = 0; i < 10 + a; i++) text += `Nov 23 10:${String(a).padStart(2, '0')}:${String(i).padStart(2, '0')} web01 sshd[${a * 100 + i}]: Failed password for root from 203.0.113.${a} port ${40000 + i} ssh2\n`;
  const a = createLogAnalysis({ maxSourcesPerRule: 5 });
  await a.add(input({ path: '/var/log/auth.log', category: 'auth', mtime: '2026-11-24T00:00:00Z', text }));
  const fs = a.finish();
  const brute = byRule(fs, 'logs.auth.ssh-brute-force');
  assert.deepEqual(brute.map((f) => f.evidence.address), ['203.0.113.29', '203.0.113.28', '203.0.113.27', '203.0.113.26', '203.0.113.25', null], 'the loudest sources keep their own finding');
  // 25 sources with 10…34 failures each
  assert.deepEqual([brute[5]!.evidence.count, brute[5]!.evidence.otherSources], [550, 25]);
  assert.deepEqual(a.finish(), fs);
});

test('what cannot be read is reported, never thrown: xz, torn gzip, read errors, caps', async () => {
  const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(100)]);
  const gz = gzipSync(Buffer.from('Nov 23 10:00:00 web01 sshd[1]: Invalid user a from 203.0.113.1 port 1\n'.repeat(2000)));
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('Nov 23 10:00:00 web01 sshd[1]: Invalid user a from 203.0.113.1 port 1\n');
    throw new Error('EIO: i/o error, read');
  }
  async function* unreadable(): AsyncGenerator<Uint8Array> {
    throw new Error('EACCES: permission denied, read');
  }
  const a = createLogAnalysis({ maxBytesPerInput: 1000 });
  await a.add({ path: '/var/log/auth.log.3.xz', category: 'auth', mtime: null, chunks: bytes(xz) });
  await a.add({ path: '/var/log/auth.log.2.gz', category: 'auth', mtime: null, chunks: bytes(gz.subarray(0, gz.length - 30)) });
  await a.add({ path: '/var/log/auth.log.1', category: 'auth', mtime: null, chunks: failing() });
  await a.add({ path: '/var/log/auth.log', category: 'auth', mtime: null, chunks: bytes(Buffer.alloc(5000, 0x41)) });
  await a.add({ path: '/var/log/nginx/access.log', category: 'web', mtime: null, chunks: unreadable() });
  const problems = Object.fromEntries(byRule(a.finish(), 'logs.analysis.incomplete').map((f) => [f.evidence.path, (f.evidence.problems as string[]).join('; ')]));
  assert.match(problems['/var/log/auth.log.3.xz']!, /^xz compressed: not read/);
  assert.match(problems['/var/log/auth.log.2.gz']!, /read the first 1000 bytes only|decompression failed/);
  assert.match(problems['/var/log/auth.log.1']!, /^reading failed after \d+ bytes: EIO/);
  assert.match(problems['/var/log/auth.log']!, /read the first 1000 bytes only/);
  assert.match(problems['/var/log/nginx/access.log']!, /^reading failed after 0 bytes: EACCES/);

  const torn = createLogAnalysis();
  await torn.add({ path: '/var/log/auth.log.2.gz', category: 'auth', mtime: null, chunks: bytes(gz.subarray(0, gz.length - 30)) });
  const fs = torn.finish();
  assert.match(String((byRule(fs, 'logs.analysis.incomplete')[0]!.evidence.problems as string[])[0]), /^decompression failed after \d+ bytes: unexpected end of file/);
  assert.ok(one(fs, 'logs.auth.ssh-invalid-user', '203.0.113.1').evidence.count as number > 1000, 'what was decompressed is still analysed');
});

test('hostile bytes are kept as they were (escapes, NUL), and a huge line is cut in evidence', async () => {
  const user = `\x1b[2J\0${'A'.repeat(60_000)}`;
  const fs = await analyse([{ path: '/var/log/auth.log', category: 'auth', mtime: '2026-11-24T00:00:00Z', text: `Nov 23 10:00:00 web01 sshd[1]: Invalid user ${user} from 203.0.113.77 port 1\n` }]);
  const f = one(fs, 'logs.auth.ssh-invalid-user', '203.0.113.77');
  const text = f.evidence.text as string;
  assert.ok(text.startsWith('Nov 23 10:00:00 web01 sshd[1]: Invalid user \x1b[2J\0AAA'));
  assert.deepEqual([text.length, text.endsWith('…')], [2049, true]);
  assert.ok((f.evidence.users as string[])[0]!.startsWith('\x1b[2J\0'));
});

test('categories these rules do not read are not even opened', async () => {
  const a = createLogAnalysis();
  const untouchable: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      throw new Error('read a cron log');
    },
  };
  for (const category of ['cron', 'audit', 'journal', 'kernel', 'web-error']) await a.add({ path: `/var/log/${category}`, category, mtime: null, chunks: untouchable });
  assert.deepEqual(a.finish(), []);
});
