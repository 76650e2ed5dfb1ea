/**
 * goldhour memory through the real CLI (bin/run.js → lib/): a synthetic
 * kcore-format file to a LiME image in a bundle that verify accepts, the same
 * as a tar on stdout, the preflight refusals, and process dumps, including a
 * frozen process that must be resumed when goldhour is interrupted twice.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
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

test('memory --tool PATH: an external acquirer is run and recorded, its image read back as LiME and hashed into the bundle, the staged copy removed', async (t) => {
  const dir = tempDir(t);
  const truth = path.join(dir, 'truth.lime');
  writeFileSync(truth, expectedImage('lime'));
  // stands in for avml: writes the image to the path it is given, as avml does
  const avml = path.join(dir, 'avml');
  writeFileSync(avml, `#!/bin/sh\ncat '${truth}' > "$1"\necho 'wrote image' >&2\n`);
  chmodSync(avml, 0o755);
  const out = path.join(dir, 'case');
  const r = await runCli(['memory', '--tool', avml, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readFileSync(path.join(out, 'acquired/memory.avml.lime')).equals(expectedImage('lime')));
  const sidecar = JSON.parse(readFileSync(path.join(out, 'acquired/memory.avml.lime.json'), 'utf8'));
  assert.equal(sidecar.schema, 'goldhour.memory-tool/1');
  assert.equal(sidecar.image.format, 'lime');
  assert.equal(sidecar.tool.sha256, createHash('sha256').update(readFileSync(avml)).digest('hex'));
  const recordBytes = (sidecar.records as { bytes: number }[]).reduce((n, r) => n + r.bytes + 32, 0);
  assert.ok(sidecar.records.length > 1 && recordBytes === expectedImage('lime').length, 'every LiME record is read back');
  assert.equal(sidecar.runs[0].stderr, 'wrote image\n');
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(m.status, 'complete');
  const run = m.tools.find((x: { path: string }) => x.path === avml);
  assert.ok(run && run.exitCode === 0 && /\.goldhour-staging-[^/]+\/memory\.lime$/.test(run.args[0]), JSON.stringify(m.tools));
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.goldhour-staging-')), [], 'the staged image is removed');
  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0, v.stdout.toString());

  // a tool that fails without an image: a partial bundle that says why, exit 3
  writeFileSync(avml, "#!/bin/sh\necho 'cannot open /dev/crash' >&2\nexit 1\n");
  const failed = await runCli(['memory', '--tool', avml, '--out', path.join(dir, 'failed')]);
  assert.equal(failed.code, 3, failed.stderr);
  const fm = JSON.parse(readFileSync(path.join(dir, 'failed/manifest.json'), 'utf8'));
  assert.equal(fm.status, 'partial');
  assert.match(fm.statusReason, /avml wrote no image \(avml exited 1: cannot open \/dev\/crash\)/);

  for (const [args, pattern] of [
    [['--tool', path.join(dir, 'nothing-here')], /not an executable file/],
    [['--tool', 'lime'], /needs the module built for this kernel/],
    [['--tool', avml, '--stdout'], /cannot also be provided when using --tool|--tool=.* cannot also be provided/],
  ] as [string[], RegExp][]) {
    const bad = await runCli(['memory', ...args, '--out', path.join(dir, 'bad')]);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, pattern);
    assert.equal(existsSync(path.join(dir, 'bad')), false);
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
