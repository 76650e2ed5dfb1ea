import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import type { Hit } from '../../src/detect/rule.js';
import { loadYaraRules, yaraTargets, type YaraProblem, type YaraTarget } from '../../src/detect/yara/index.js';
import { Host } from '../../src/host/host.js';
import { PROJECT } from '../helpers.js';
import { row } from './detect-cases.js';

const FIXTURES = path.join(PROJECT, 'test/fixtures/yara');
const RULES = path.join(FIXTURES, 'rules');
/** The reference engine: Debian's yara 4.2 (scripts/install-test-deps.sh installs it). */
const YARA = '/usr/bin/yara';
/** Built at run time so that no file of the project holds it as text (marker.yar matches it as hex). */
const MARKER = ['GOLDHOUR', 'YARA', 'MARKER', '731'].join('-');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'goldhour-yara-test-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

async function scan(host: Host, targets: YaraTarget[]): Promise<{ hits: Hit[]; problems: YaraProblem[] }> {
  const { scanner } = await loadYaraRules(RULES);
  const hits: Hit[] = [];
  const problems: YaraProblem[] = [];
  for await (const h of scanner.scan(host, targets, { onProblem: (p) => problems.push(p) })) hits.push(h);
  return { hits, problems };
}

/** (file, rule) pairs the yara program reports for one rules file over a directory. */
function reference(rulesFile: string, dir: string): string[] {
  const out = execFileSync(YARA, ['-w', '-r', rulesFile, dir], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => {
    const [rule, file] = l.split(' ');
    return `${path.relative(dir, file!)} ${rule}`;
  });
}

function startWithMarker(marker: string | null): Promise<ChildProcess> {
  const code = `globalThis.keep = Buffer.from(${marker === null ? '"nothing to see"' : `[${marker.split('-').map((p) => JSON.stringify(p)).join(',')}].join("-")`}); process.stdout.write("ready\\n"); setInterval(() => {}, 1e6);`;
  const c = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  return new Promise((resolve, reject) => {
    c.once('error', reject);
    c.stdout!.once('data', () => resolve(c));
  });
}

test('rules load from every *.yar and *.yara below the directory; files that clash are compiled apart', async () => {
  const { files, ruleCount, problems, scanner } = await loadYaraRules(RULES);
  assert.deepEqual(files, ['marker.yar', 'miner.yar', 'same-name.yar', 'web/webshell.yara']);
  assert.equal(ruleCount, 5);
  assert.deepEqual(problems, []);
  assert.equal(scanner.compiled.groups.length, 2, 'same-name.yar repeats a rule name of miner.yar');
});

test('a rule file that does not compile is one line naming the file and line; the others still load', async () => {
  const { files, problems } = await loadYaraRules(path.join(FIXTURES, 'broken'));
  assert.deepEqual(files, ['ok.yar']);
  assert.deepEqual(problems, ['broken.yar:6: unknown pattern `$b`: this pattern is not declared in the `strings` section (E025)', 'syntax.yara:2: syntax error: unclosed literal string (E001)']);
  for (const p of problems) assert.ok(!p.includes('\n'));
  const onlyBad = path.join(tmp, 'only-bad');
  mkdirSync(onlyBad);
  copyFileSync(path.join(FIXTURES, 'broken/broken.yar'), path.join(onlyBad, 'broken.yar'));
  await assert.rejects(loadYaraRules(onlyBad), /^UserError: --yara .*only-bad: no rule file compiled \(first: broken\.yar:6: unknown pattern/);
  await assert.rejects(loadYaraRules(path.join(tmp, 'missing')), /--yara .*missing: does not exist/);
  await assert.rejects(loadYaraRules(path.join(FIXTURES, 'samples')), /no \*\.yar or \*\.yara files/);
});

test('any bytes in a rule file give at most one problem line for it, never a throw, and the good file still loads', async () => {
  const dir = path.join(tmp, 'fuzz');
  mkdirSync(dir);
  copyFileSync(path.join(FIXTURES, 'broken/ok.yar'), path.join(dir, 'a-ok.yar'));
  const pieces = fc.constantFrom('rule ', 'x', ' { ', '}', 'strings: ', '$a = ', '"s"', '{ 41 ?? }', '/re/', 'condition: ', '$a', ' and ', 'import "pe"', 'include "a-ok.yar"', '\n', '\0', '\x1b[2J', '\xff');
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.array(pieces, { maxLength: 30 }).map((p) => Buffer.from(p.join(''), 'latin1')), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a))), async (bytes) => {
      writeFileSync(path.join(dir, 'b-fuzz.yar'), bytes);
      const { files, problems } = await loadYaraRules(dir);
      assert.ok(files.includes('a-ok.yar'));
      assert.ok(problems.length <= 1 && problems.every((p) => p.startsWith('b-fuzz.yar') && !/[\n\r\x1b]/.test(p)), problems.join(' | '));
    }),
    { numRuns: 60 },
  );
});

test('files: the same rules match the same files as the yara program, with tags, rule files and offsets', async () => {
  const host = await Host.open({ root: FIXTURES });
  const names = ['config.json', 'upload.php', 'blog.php', 'notes.txt'];
  const { hits, problems } = await scan(host, names.map((n) => ({ kind: 'file', path: `/samples/${n}` })));
  assert.deepEqual(problems, []);
  const ours = hits.map((h) => `${String(h.evidence.path).slice('/samples/'.length)} ${h.evidence.rule}`).sort();
  const theirs = ['miner.yar', 'same-name.yar', 'web/webshell.yara', 'marker.yar'].flatMap((r) => reference(path.join(RULES, r), path.join(FIXTURES, 'samples'))).sort();
  assert.deepEqual(ours, theirs);
  assert.deepEqual(ours, ['config.json linux_xmrig_config', 'notes.txt linux_xmrig_config', 'upload.php php_eval_base64_webshell']);
  const php = hits.find((h) => h.evidence.rule === 'php_eval_base64_webshell')!;
  assert.deepEqual(php.evidence, { path: '/samples/upload.php', target: 'file', rule: 'php_eval_base64_webshell', ruleFile: 'web/webshell.yara', tags: ['webshell', 'php'], strings: ['$php@0x0', '$eval@0x20', '$req@0x10', '$req@0x33'] });
  assert.equal(hits.find((h) => h.evidence.path === '/samples/notes.txt')!.evidence.ruleFile, 'same-name.yar');
});

test('files are opened through the Host: no FIFO is opened, no symlink leads out of --root, and each failure is a problem', async () => {
  const root = path.join(tmp, 'root');
  mkdirSync(path.join(root, 'tmp'), { recursive: true });
  const outside = path.join(tmp, 'outside.json');
  copyFileSync(path.join(FIXTURES, 'samples/config.json'), outside);
  symlinkSync(outside, path.join(root, 'tmp/escape.json'));
  symlinkSync('/etc/hostname', path.join(root, 'tmp/abs.json'));
  execFileSync('mkfifo', [path.join(root, 'tmp/pipe')]);
  writeFileSync(path.join(root, 'tmp/empty'), '');
  const host = await Host.open({ root });
  const { hits, problems } = await scan(host, ['/tmp/escape.json', '/tmp/abs.json', '/tmp/pipe', '/tmp/empty'].map((p) => ({ kind: 'file', path: p })));
  assert.deepEqual(hits, [], 'the matching file outside the root was not read');
  assert.deepEqual(problems.map((p) => [p.path, p.code]), [
    ['/tmp/escape.json', 'ENOENT'],
    ['/tmp/abs.json', 'ENOENT'],
    ['/tmp/pipe', 'ENOTREG'],
  ]);
});

test('identical content is scanned once and reported for each path', async () => {
  const host = await Host.open({ root: FIXTURES });
  const sha = createHash('sha256').update(readFileSync(path.join(FIXTURES, 'samples/config.json'))).digest('hex');
  const { hits } = await scan(host, [
    { kind: 'file', path: '/samples/config.json', sha256: sha },
    { kind: 'file', path: '/samples/blog.php', sha256: sha },
  ]);
  assert.deepEqual(hits.map((h) => h.evidence.path), ['/samples/config.json', '/samples/blog.php'], 'the second path is judged by the first one\'s scan: same hash, same bytes');
});

test('process memory (--pid): a marker in a live child is found at its virtual address, as the yara program finds it', async () => {
  const child = await startWithMarker(MARKER);
  const clean = await startWithMarker(null);
  const host = await Host.open();
  const { hits, problems } = await scan(host, [
    { kind: 'memory', pid: child.pid!, exe: process.execPath },
    { kind: 'memory', pid: clean.pid!, exe: process.execPath },
  ]);
  assert.deepEqual(problems, []);
  assert.equal(hits.length, 1, 'the child without the marker gives nothing');
  const [h] = hits;
  assert.deepEqual([h!.pid, h!.evidence.target, h!.evidence.rule, h!.collector], [child.pid, 'memory', 'goldhour_test_marker', 'processes']);
  assert.ok((h!.evidence.bytesScanned as number) > 1024 * 1024);
  const addresses = (h!.evidence.strings as string[]).map((s) => s.replace('$m@', ''));
  const out = execFileSync(YARA, ['-w', '-s', path.join(RULES, 'marker.yar'), String(child.pid)], { encoding: 'utf8' });
  assert.match(out, new RegExp(`^goldhour_test_marker ${child.pid}$`, 'm'));
  const theirs = [...out.matchAll(/^0x([0-9a-f]+):\$m:/gm)].map((m) => `0x${m[1]}`);
  assert.ok(addresses.some((a) => theirs.includes(a)), `ours ${addresses.join(' ')} / yara ${theirs.join(' ')}`);
  const buf = Buffer.alloc(MARKER.length);
  const fh = await import('node:fs/promises').then((fsp) => fsp.open(`/proc/${child.pid}/mem`, 'r'));
  await fh.read(buf, 0, buf.length, Number(addresses[0]));
  await fh.close();
  assert.equal(buf.toString(), MARKER, 'the reported address holds the marker');
});

test('running executables are read through /proc/PID/exe, even once deleted; processes sharing one are one finding', async () => {
  const exe = path.join(tmp, 'sleeper');
  writeFileSync(exe, Buffer.concat([readFileSync('/usr/bin/sleep'), Buffer.from(`\n${MARKER}\n`)]), { mode: 0o755 });
  const sha = createHash('sha256').update(readFileSync(exe)).digest('hex');
  const a = spawn(exe, ['300'], { stdio: 'ignore' });
  const b = spawn(exe, ['300'], { stdio: 'ignore' });
  children.push(a, b);
  await new Promise((r) => setTimeout(r, 200));
  rmSync(exe);
  const host = await Host.open();
  const { hits, problems } = await scan(host, [
    { kind: 'exe', pid: a.pid!, exe, sha256: sha },
    { kind: 'exe', pid: b.pid!, exe, sha256: sha },
    { kind: 'exe', pid: process.pid, exe: process.execPath, sha256: null },
  ]);
  assert.deepEqual(problems, []);
  assert.equal(hits.length, 1);
  assert.deepEqual([hits[0]!.pid, hits[0]!.evidence.target, hits[0]!.evidence.path, hits[0]!.evidence.pids], [a.pid, 'exe', exe, [a.pid, b.pid]]);
});

test('targets come from the rows: temp files, every process executable, memory only for the pids asked', () => {
  const memory = new Set([42]);
  assert.deepEqual(yaraTargets(row('temp-files', { path: '/tmp/x', type: 'file', sha256: 'ab' }), memory), [{ kind: 'file', path: '/tmp/x', sha256: 'ab', collector: 'temp-files' }]);
  assert.deepEqual(yaraTargets(row('temp-files', { path: '/tmp/d', type: 'dir' }), memory), []);
  assert.deepEqual(yaraTargets(row('processes', { pid: 42, exe: '/usr/bin/x', exeSha256: 'cd', kernelThread: false }), memory), [
    { kind: 'exe', pid: 42, exe: '/usr/bin/x', sha256: 'cd' },
    { kind: 'memory', pid: 42, exe: '/usr/bin/x' },
  ]);
  assert.deepEqual(yaraTargets(row('processes', { pid: 2, exe: null, kernelThread: true }), memory), []);
});

test('on --root, process memory and running executables are not scanned, and that is said', async () => {
  const host = await Host.open({ root: FIXTURES });
  const { hits, problems } = await scan(host, [
    { kind: 'memory', pid: 1, exe: '/sbin/init' },
    { kind: 'exe', pid: 1, exe: '/sbin/init' },
  ]);
  assert.deepEqual(hits, []);
  assert.deepEqual(problems.map((p) => p.code), ['NOTLIVE', 'NOTLIVE']);
});
