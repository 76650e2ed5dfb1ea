/**
 * goldhour memory through the real CLI (bin/run.js → lib/): a synthetic
 * kcore-format file to a LiME image in a bundle that verify accepts, the same
 * as a tar on stdout, the preflight refusals, and process dumps, including a
 * frozen process that must be resumed when goldhour is interrupted twice.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { parseStat } from '../../src/host/proc-pid.js';
import { markerChild } from '../fixtures/memory/child.js';
import { expectedImage, syntheticKcore } from '../fixtures/memory/scenario.js';
import { runCli, tempDir } from '../helpers.js';

function oneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /^\s+at /m);
}

test('memory --source FILE --iomem FILE: a LiME image equal to the truth, in a bundle verify accepts', async (t) => {
  const dir = tempDir(t);
  const { kcore, iomem } = await syntheticKcore(dir);
  const out = path.join(dir, 'case');
  const r = await runCli(['memory', '--source', kcore, '--iomem', iomem, '--out', out, '--case', 'IR-7']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /memory: .*MB\/s.* left/, 'progress shows bytes, rate and time left');
  assert.match(r.stderr, /manifest\.json SHA-256: [0-9a-f]{64}/);
  assert.ok(readFileSync(path.join(out, 'acquired/memory.lime')).equals(expectedImage('lime')));
  const sidecar = JSON.parse(readFileSync(path.join(out, 'acquired/memory.lime.json'), 'utf8'));
  assert.equal(sidecar.source.path, kcore);
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(m.status, 'complete');
  assert.deepEqual(m.artifacts.map((a: { path: string }) => a.path).filter((p: string) => p.startsWith('acquired/')), ['acquired/memory.lime', 'acquired/memory.lime.json']);
  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0, v.stdout.toString());
  assert.match(v.stdout.toString(), /^INTACT/);
});

test('memory --stdout streams a tar that verify reads from stdin; --json prints one document', async (t) => {
  const dir = tempDir(t);
  const { kcore, iomem } = await syntheticKcore(dir);
  const r = await runCli(['memory', '--source', kcore, '--iomem', iomem, '--stdout', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const v = await runCli(['verify', '-'], { stdin: r.stdout });
  assert.equal(v.code, 0, v.stdout.toString());
  const j = await runCli(['memory', '--source', kcore, '--iomem', iomem, '--out', path.join(dir, 'j'), '--json', '--format', 'raw']);
  assert.equal(j.code, 0, j.stderr);
  const doc = JSON.parse(j.stdout.toString());
  assert.equal(doc.image.path, 'acquired/memory.raw');
  assert.equal(doc.status, 'complete');
  assert.doesNotMatch(j.stderr, /MB\/s/, 'no progress with --json');
});

test('memory refuses in one line, exit 2, and writes nothing: no --iomem, not a kcore, zeroed iomem, no live source', async (t) => {
  const dir = tempDir(t);
  const { kcore, iomem } = await syntheticKcore(dir);
  const out = path.join(dir, 'case');
  const zeroed = path.join(dir, 'iomem-zeroed');
  writeFileSync(zeroed, readFileSync(iomem, 'utf8').replace(/[0-9a-f]+-[0-9a-f]+/g, '00000000-00000000'));
  const cases: [string[], RegExp][] = [
    [['--source', kcore], /--source FILE needs --iomem FILE/],
    [['--source', iomem, '--iomem', iomem], /not a kcore-format file/],
    [['--source', kcore, '--iomem', zeroed], /shows every address as zero: .*CAP_SYS_ADMIN/],
    [['--source', kcore, '--iomem', iomem, '--max-size', 'lots'], /--max-size lots: want a positive size/],
    [['--pid', '99999999'], /no process 99999999/],
  ];
  if (!existsSync('/proc/kcore') && !existsSync('/dev/crash') && !existsSync('/dev/mem')) cases.push([[], /no physical memory source: \/proc\/kcore is absent/]);
  for (const [args, pattern] of cases) {
    const r = await runCli(['memory', ...args, '--out', out]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    oneLineError(r.stderr, pattern);
    assert.equal(existsSync(out), false, `${args.join(' ')} left a bundle`);
  }
});

test('memory --pid: an ELF core with the marker, and the process files, in a bundle verify accepts', async (t) => {
  const child = await markerChild(t);
  const out = path.join(tempDir(t), 'case');
  const r = await runCli(['memory', '--pid', String(child.pid), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const core = readFileSync(path.join(out, `acquired/${child.pid}/core`));
  assert.ok(core.includes(child.marker.repeat(4)));
  const sidecar = JSON.parse(readFileSync(path.join(out, `acquired/${child.pid}/core.json`), 'utf8'));
  assert.equal(sidecar.status, 'complete');
  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0, v.stdout.toString());
});

test('memory --pid --freeze: a second Ctrl-C leaves at once and the process still runs again', async (t) => {
  const child = await markerChild(t, 512 * 1024 * 1024);
  const out = path.join(tempDir(t), 'case');
  let cli = 0;
  const running = runCli(['memory', '--pid', String(child.pid), '--freeze', '--out', out], { onSpawn: (pid) => (cli = pid) });
  const custody = path.join(out, 'custody.jsonl');
  // The process is stopped before this custody line is written.
  for (let i = 0; i < 1000 && !(existsSync(custody) && readFileSync(custody, 'utf8').includes('process-dump-started')); i++) await sleep(10);
  assert.equal(parseStat(readFileSync(`/proc/${child.pid}/stat`))?.state, 'T', 'stopped during the dump');
  process.kill(cli, 'SIGINT');
  await sleep(50);
  process.kill(cli, 'SIGINT');
  const r = await running;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /second SIGINT, leaving without sealing/);
  assert.notEqual(parseStat(readFileSync(`/proc/${child.pid}/stat`))?.state, 'T', 'left stopped');
});
