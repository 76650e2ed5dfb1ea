import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { COLLECTORS } from '../../src/collectors/index.js';
import { buildRoot } from '../fixture-root.js';
import { RUN_JS, runCli, tempDir } from '../helpers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return lstatSync(p).isDirectory() ? [p, ...walk(p)] : [p];
  });
}

test('a live triage into a directory: modes, manifest, custody, summary, verify', async (t) => {
  const out = path.join(tempDir(t), 'case');
  const res = await runCli(['triage', '--out', out, '--case', 'IR-2026-0042', '--examiner', 'A. Responder']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(statSync(out).mode & 0o777, 0o700);
  for (const p of walk(out)) {
    const st = lstatSync(p);
    assert.ok(!st.isSymbolicLink(), p);
    assert.equal(st.mode & 0o777, st.isDirectory() ? 0o700 : 0o600, p);
  }
  const manifestBytes = readFileSync(path.join(out, 'manifest.json'));
  const m = JSON.parse(manifestBytes.toString());
  assert.equal(m.status, 'complete');
  assert.deepEqual(m.case, { id: 'IR-2026-0042', examiner: 'A. Responder' });
  assert.equal(m.host.live, true);
  assert.match(m.host.bootId, /^[0-9a-f-]{36}$/);
  assert.match(m.tool.sha256, /^[0-9a-f]{64}$/);
  assert.equal(m.tool.sha256, sha256(readFileSync(process.execPath)));
  assert.ok(m.commandLine.includes('--examiner'));
  assert.ok(typeof m.clock.uptimeSeconds === 'number');
  // Collectors marked `alongside` may finish after later ones: compare the sets.
  assert.deepEqual(m.collectors.map((c: { name: string }) => c.name).sort(), COLLECTORS.map((c) => c.name).sort());
  for (const c of m.collectors) assert.equal(c.status, 'ok', `${c.name}: ${JSON.stringify(m.errors.filter((e: { collector: string }) => e.collector === c.name))}`);
  for (const a of m.artifacts) assert.equal(a.sha256, sha256(readFileSync(path.join(out, a.path))), a.path);
  const listed = new Set(m.artifacts.map((a: { path: string }) => a.path));
  for (const p of walk(out).filter((p) => lstatSync(p).isFile())) {
    const rel = path.relative(out, p);
    if (rel !== 'manifest.json') assert.ok(listed.has(rel), `${rel} listed`);
  }
  assert.ok(listed.has('files/etc/os-release') && listed.has('collectors/system.jsonl'));
  const custody = readFileSync(path.join(out, 'custody.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(custody[0].event, 'case-opened');
  assert.equal(custody[0].examiner, 'A. Responder');
  assert.equal(custody.at(-1).event, 'sealed');
  assert.ok(res.stderr.includes(`manifest.json SHA-256: ${sha256(manifestBytes)}`), res.stderr);
  const system = JSON.parse(readFileSync(path.join(out, 'collectors/system.jsonl'), 'utf8'));
  assert.equal(system.bootId, m.host.bootId);
  const v = await runCli(['verify', out, '--expect', sha256(manifestBytes)]);
  assert.equal(v.code, 0, v.stdout.toString());
  assert.match(v.stdout.toString(), /^INTACT/);
});

test('--json prints exactly one JSON document on stdout; --archive-hash adds the SHA-256 of the archive file', async (t) => {
  const dir = tempDir(t);
  const hashed = path.join(dir, 'hashed.tgz');
  const res = await runCli(['triage', '--format', 'tgz', '--out', hashed, '--json', '--archive-hash', '--only', 'system']);
  assert.equal(res.code, 0, res.stderr);
  const doc = JSON.parse(res.stdout.toString());
  assert.equal(doc.format, 'tgz');
  assert.equal(doc.status, 'complete');
  assert.deepEqual(doc.findings, []);
  assert.match(doc.manifestSha256, /^[0-9a-f]{64}$/);
  assert.equal(doc.archiveSha256, sha256(readFileSync(hashed)));
  const plain = await runCli(['triage', '--format', 'tar', '--out', path.join(dir, 'plain.tar'), '--json', '--only', 'system']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(JSON.parse(plain.stdout.toString()).archiveSha256, null);
  assert.doesNotMatch(plain.stderr, /archive SHA-256/);
});

test('every format verifies, and --stdout writes nothing but the stream', async (t) => {
  const dir = tempDir(t);
  for (const f of ['tar', 'tgz', 'zip']) {
    const out = path.join(dir, `case.${f}`);
    const res = await runCli(['triage', '-q', '--format', f, '--out', out, '--skip', 'mounts']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const v = await runCli(['verify', out]);
    assert.equal(v.code, 0, v.stdout.toString());
    assert.match(v.stdout.toString(), new RegExp(`^INTACT  ${f}`));
  }
  const cwd = path.join(dir, 'cwd');
  mkdirSync(cwd);
  const s = await runCli(['triage', '-q', '--stdout', '--only', 'system'], { cwd });
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(readdirSync(cwd), []);
  execFileSync('tar', ['-tf', '-'], { input: s.stdout });
  const v = await runCli(['verify', '-'], { stdin: s.stdout });
  assert.equal(v.code, 0, v.stdout.toString());
});

test('refuses an existing output, a planted symlink, and bad flags, in one line each', async (t) => {
  const dir = tempDir(t);
  const busy = path.join(dir, 'busy');
  mkdirSync(busy);
  writeFileSync(path.join(busy, 'evidence-from-before'), 'keep me');
  const target = path.join(dir, 'victim');
  writeFileSync(target, 'do not overwrite');
  symlinkSync(target, path.join(dir, 'planted.tar'));
  symlinkSync(dir, path.join(dir, 'planted-dir'));
  const cases: [string[], RegExp][] = [
    [['triage', '--out', busy], /exists and is not empty/],
    [['triage', '--format', 'tar', '--out', path.join(dir, 'planted.tar')], /already exists|symbolic link/],
    [['triage', '--out', path.join(dir, 'planted-dir')], /symbolic link/],
    [['triage', '--format', 'tar', '--out', target], /already exists/],
    [['triage', '--root', '/nonexistent/image', '--out', path.join(dir, 'x')], /--root \/nonexistent\/image: does not exist/],
    [['triage', '--only', 'nosuch', '--out', path.join(dir, 'y')], /unknown collector 'nosuch'/],
    [['triage', '--format', 'rar'], /Expected --format=rar to be one of/],
    [['triage', '--encrypt-to', 'not-a-key', '--out', path.join(dir, 'z')], /not an age recipient/],
    [['triage', '--archive-hash', '--out', path.join(dir, 'w')], /--archive-hash hashes an archive; use --format tar/],
    [['memory', '--archive-hash', '--out', path.join(dir, 'm')], /--archive-hash hashes an archive; use --bundle tar/],
    [['verify', path.join(dir, 'nothing-here')], /does not exist/],
  ];
  for (const [args, msg] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  }
  assert.equal(readFileSync(target, 'utf8'), 'do not overwrite');
  assert.equal(readFileSync(path.join(busy, 'evidence-from-before'), 'utf8'), 'keep me');
  assert.ok(!existsSync(path.join(dir, 'x')) && !existsSync(path.join(dir, 'y')));
});

test('a hostile image: escapes never reach the terminal, bad files are recorded, the run completes', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir, { hostile: true });
  const out = path.join(dir, 'case');
  const res = await runCli(['triage', '--root', root, '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  assert.doesNotMatch(res.stderr, /\u001b/);
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(m.host.live, false);
  assert.equal(m.host.hostname, 'web01\u001b]0;pwned\u0007\u001b[2J');
  assert.equal(m.clock.timezone, 'Etc/UTC');
  const system = JSON.parse(readFileSync(path.join(out, 'collectors/system.jsonl'), 'utf8'));
  assert.equal(system.osId, 'debian');
  assert.equal(system.kernelRelease, null);
  const mounts = readFileSync(path.join(out, 'collectors/mounts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(mounts.map((r) => r.mountPoint), ['/', '/tmp']);
  assert.ok(existsSync(path.join(out, 'files/etc/hostname')));
  assert.equal(readFileSync(path.join(out, 'files/etc/hostname'), 'utf8'), readFileSync(path.join(root, 'etc/hostname'), 'utf8'));
  const v = await runCli(['verify', out]);
  assert.equal(v.code, 0);
  assert.doesNotMatch(v.stdout.toString(), /\u001b/);
});

test('a FIFO planted where a file is expected is recorded, never blocks', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  execFileSync('mkfifo', [path.join(root, 'run/utmp')]);
  rmSync(path.join(root, 'etc/machine-id'));
  execFileSync('mkfifo', [path.join(root, 'etc/machine-id')]);
  const out = path.join(dir, 'case');
  const res = await runCli(['triage', '--root', root, '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const fifoErrors = m.errors.filter((e: { code: string }) => e.code === 'ENOTREG').map((e: { path: string }) => e.path);
  assert.ok(fifoErrors.includes('/run/utmp'), JSON.stringify(m.errors));
  assert.ok(fifoErrors.includes('/etc/machine-id'), JSON.stringify(m.errors));
});

/**
 * SIGTERM, SIGINT and SIGHUP while the stream to stdout is stalled (the reader
 * stopped reading, as when an SSH link hangs): once the reader drains again the
 * bundle must finish as partial, with the reason in custody, and verify as partial.
 */
for (const [sig, exit] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
  test(`${sig} during a stalled --stdout stream seals a partial bundle`, async (t) => {
    const dir = tempDir(t);
    const root = buildRoot(dir, { utmpBytes: 32 * 1024 * 1024 });
    const child = spawn(process.execPath, [RUN_JS, 'triage', '--root', root, '--stdout'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.pause();
    await waitFor(() => stderr.includes('sessions …'), 10_000, () => stderr);
    await new Promise((r) => setTimeout(r, 300));
    child.kill(sig);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, exit, stderr);
    const bundle = Buffer.concat(chunks);
    const v = await runCli(['verify', '-', '--json'], { stdin: bundle });
    const report = JSON.parse(v.stdout.toString());
    assert.equal(report.status, 'partial', v.stdout.toString());
    assert.equal(v.code, 0);
    assert.equal(report.manifest.statusReason, `interrupted by ${sig}`);
    const custody = execFileSync('tar', ['-xOf', '-', 'custody.jsonl'], { input: bundle }).toString().trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(custody.some((e) => e.event === 'interrupted' && e.signal === sig));
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', '-', 'manifest.json'], { input: bundle }).toString());
    assert.ok(manifest.collectors.some((c: { status: string }) => c.status === 'skipped'));
  });
}

test('a full output device ends the run with a verifiable partial bundle', async (t) => {
  const mnt = mkdtempSync(path.join(os.tmpdir(), 'goldhour-small-'));
  // 8 MiB reserve + 512 KiB: the 900 KiB utmp copy hits ENOSPC, the reserve is released, and the seal still fits.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8704k', 'goldhour-test', mnt]);
  t.after(() => {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true });
  });
  const dir = tempDir(t);
  const root = buildRoot(dir, { utmpBytes: 900 * 1024 });
  const out = path.join(mnt, 'case');
  const res = await runCli(['triage', '--root', root, '--out', out]);
  assert.equal(res.code, 3, res.stderr);
  assert.match(res.stderr, /partial: the output device filled up/);
  const v = await runCli(['verify', out, '--json']);
  const report = JSON.parse(v.stdout.toString());
  assert.equal(report.status, 'partial', v.stdout.toString());
  assert.equal(v.code, 0);
  assert.ok(!existsSync(path.join(out, '.goldhour-reserve')));
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.ok(m.errors.some((e: { code: string }) => e.code === 'ENOSPC'), JSON.stringify(m.errors));
});

test('--sign writes manifest.sig that goldhour and openssl both check; a wrong key fails', async (t) => {
  const dir = tempDir(t);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519').publicKey;
  writeFileSync(path.join(dir, 'ir.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(path.join(dir, 'ir.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(path.join(dir, 'other.pub.pem'), other.export({ type: 'spki', format: 'pem' }));
  const out = path.join(dir, 'case');
  const res = await runCli(['triage', '-q', '--only', 'system', '--sign', path.join(dir, 'ir.pem'), '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(dir, 'ir.pub.pem'), '-rawin', '-in', path.join(out, 'manifest.json'), '-sigfile', path.join(out, 'manifest.sig')]);
  const good = await runCli(['verify', out, '--pubkey', path.join(dir, 'ir.pub.pem')]);
  assert.equal(good.code, 0, good.stdout.toString());
  assert.match(good.stdout.toString(), /signature: valid/);
  const bad = await runCli(['verify', out, '--pubkey', path.join(dir, 'other.pub.pem')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout.toString(), /signature: invalid/);
  const notEd = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  writeFileSync(path.join(dir, 'ec.pem'), notEd.export({ type: 'pkcs8', format: 'pem' }));
  const wrongType = await runCli(['triage', '--sign', path.join(dir, 'ec.pem'), '--out', path.join(dir, 'case2')]);
  assert.equal(wrongType.code, 2);
  assert.match(wrongType.stderr, /an Ed25519 key is needed/);
});

test('--encrypt-to: the age CLI decrypts it, verify --identity checks it, nothing readable without the key', async (t) => {
  const dir = tempDir(t);
  const key = path.join(dir, 'ir.agekey');
  execFileSync('age-keygen', ['-o', key], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', key], { encoding: 'utf8' }).trim();
  const out = path.join(dir, 'case.tgz.age');
  const res = await runCli(['triage', '-q', '--only', 'system', '--encrypt-to', recipient, '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  const bytes = readFileSync(out);
  assert.ok(bytes.subarray(0, 22).toString() === 'age-encryption.org/v1\n');
  assert.ok(!bytes.includes(Buffer.from('manifest.json')));
  const plain = execFileSync('age', ['-d', '-i', key, out]);
  assert.match(execFileSync('tar', ['-tzf', '-'], { input: plain }).toString(), /manifest\.json/);
  const v = await runCli(['verify', out, '--identity', key]);
  assert.equal(v.code, 0, v.stdout.toString() + v.stderr);
  assert.match(v.stdout.toString(), /^INTACT  tgz \(age-encrypted\)/);
  const viaStdin = await runCli(['verify', '-', '--identity', key], { stdin: bytes });
  assert.equal(viaStdin.code, 0);
  const noKey = await runCli(['verify', out]);
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /give --identity/);
});

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting; saw: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('--stdout redirected to a file: written behind the hashing through a second descriptor, appended after what the shell wrote', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const file = path.join(dir, 'case.tar');
  writeFileSync(file, 'x'.repeat(512));
  const fd = openSync(file, 'a');
  const child = spawn(process.execPath, [RUN_JS, 'triage', '--root', root, '--only', 'system,mounts', '--stdout', '--archive-hash'], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  closeSync(fd);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(0, 512).toString(), 'x'.repeat(512), 'what was there before is kept');
  const archive = bytes.subarray(512);
  assert.match(err, new RegExp(`archive SHA-256: +${sha256(archive)}`));
  const tarOnly = path.join(dir, 'only.tar');
  writeFileSync(tarOnly, archive);
  const v = await runCli(['verify', tarOnly]);
  assert.equal(v.code, 0, v.stdout.toString());
});
