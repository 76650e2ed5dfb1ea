import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isLocalFsType, isoNs, modeString, walk, type WalkEntry, type WalkOptions } from '../../src/host/fs-walk.js';
import { Host } from '../../src/host/host.js';
import { PROJECT, tempDir } from '../helpers.js';

async function collect(host: Host, opts: Partial<WalkOptions> & { roots: string[] }) {
  const errors: [string, string][] = [];
  const entries: WalkEntry[] = [];
  for await (const e of walk(host, { signal: new AbortController().signal, onError: (p, code) => errors.push([p.toString(), code]), ...opts })) entries.push(e);
  return { entries, errors, paths: entries.map((e) => e.hostPath.toString('latin1')) };
}

/** A tree holding what intruders and accidents leave in /tmp. */
function hostileTree(dir: string): string {
  const t = path.join(dir, 'tree');
  mkdirSync(path.join(t, 'sub/deeper'), { recursive: true });
  writeFileSync(path.join(t, 'plain'), 'x');
  writeFileSync(path.join(t, 'new\nline'), 'x');
  writeFileSync(path.join(t, '\u001b[31mred'), 'x');
  writeFileSync(Buffer.concat([Buffer.from(`${t}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('-utf8')]), 'x');
  writeFileSync(path.join(t, 'sub/deeper/file'), 'x');
  symlinkSync('loop-b', path.join(t, 'loop-a'));
  symlinkSync('loop-a', path.join(t, 'loop-b'));
  symlinkSync('..', path.join(t, 'sub/up'));
  symlinkSync('/etc', path.join(t, 'etc-link'));
  spawnSync('mkfifo', [path.join(t, 'fifo')]);
  return t;
}

test('walks names with newlines, escapes and invalid UTF-8 byte-faithfully; never follows links; FIFOs are listed, not opened', async (t) => {
  const tree = hostileTree(tempDir(t));
  const host = await Host.open();
  const { entries, errors, paths } = await collect(host, { roots: [tree] });
  assert.deepEqual(errors, []);
  const rel = paths.map((p) => p.slice(tree.length)).sort();
  assert.deepEqual(rel, [
    '', '/\u001b[31mred', '/bad-\xff\xfe-utf8', '/etc-link', '/fifo', '/loop-a', '/loop-b', '/new\nline', '/plain', '/sub', '/sub/deeper', '/sub/deeper/file', '/sub/up',
  ]);
  const bad = entries.find((e) => e.hostPath.includes(Buffer.from([0xff, 0xfe])))!;
  assert.deepEqual([...bad.name.subarray(4, 6)], [0xff, 0xfe]);
  assert.equal(entries.find((e) => e.name.toString() === 'fifo')!.type, 'fifo');
  assert.equal(entries.find((e) => e.name.toString() === 'loop-a')!.type, 'symlink');
  assert.equal(entries.find((e) => e.name.toString() === 'up')!.type, 'symlink');
  assert.deepEqual(entries.map((e) => e.depth).sort().at(-1), 3);
});

test('streams a big directory with opendir and gives the same entries', async (t) => {
  const tree = hostileTree(tempDir(t));
  const host = await Host.open();
  const whole = await collect(host, { roots: [tree] });
  const streamed = await collect(host, { roots: [tree], bigDirBytes: 1 });
  assert.deepEqual(streamed.paths.sort(), whole.paths.sort());
});

test('under --root, host paths carry no prefix and an absolute link cannot lead out', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'tmp/x'), { recursive: true });
  writeFileSync(path.join(root, 'tmp/x/f'), 'x');
  symlinkSync('/etc', path.join(root, 'tmp/etc'));
  symlinkSync('tmp', path.join(root, 'var-tmp'));
  const host = await Host.open({ root });
  const { paths } = await collect(host, { roots: ['/tmp', '/var-tmp', '/missing'] });
  assert.deepEqual(paths.sort(), ['/tmp', '/tmp/etc', '/tmp/x', '/tmp/x/f'], 'a root that is a link to another root is walked once');
});

test('goldhour\'s own output is skipped', async (t) => {
  const tree = hostileTree(tempDir(t));
  const host = await Host.open();
  host.exclude(path.join(tree, 'sub'));
  const { paths } = await collect(host, { roots: [tree] });
  assert.ok(!paths.some((p) => p.includes('/sub')));
});

test('entries that vanish mid-walk are skipped silently; a directory replaced by a file is recorded', async (t) => {
  const tree = hostileTree(tempDir(t));
  const host = await Host.open();
  const errors: [string, string][] = [];
  const seen: string[] = [];
  for await (const e of walk(host, { roots: [tree], signal: new AbortController().signal, onError: (p, code) => errors.push([p.toString(), code]) })) {
    seen.push(e.name.toString());
    if (e.depth === 0) {
      for (const n of ['plain', 'new\nline', '\u001b[31mred']) rmSync(path.join(tree, n), { force: true });
    }
    if (e.name.toString() === 'deeper') {
      rmSync(path.join(tree, 'sub/deeper'), { recursive: true });
      writeFileSync(path.join(tree, 'sub/deeper'), 'now a file');
    }
  }
  assert.ok(!seen.includes('plain'));
  assert.deepEqual(errors, [[path.join(tree, 'sub/deeper'), 'ENOTDIR']]);
});

test('stops when the signal aborts', async (t) => {
  const tree = hostileTree(tempDir(t));
  const host = await Host.open();
  const ac = new AbortController();
  let n = 0;
  for await (const _ of walk(host, { roots: [tree], signal: ac.signal, onError: () => undefined })) {
    n++;
    ac.abort();
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(n <= 2);
});

test('select filters without stopping the descent; stat only what is asked; bigint times', async (t) => {
  const tree = hostileTree(tempDir(t));
  utimesSync(path.join(tree, 'sub/deeper/file'), 1_000_000_000, 1_000_000_000);
  const host = await Host.open();
  const { entries } = await collect(host, { roots: [tree], bigint: true, stat: (type) => type === 'file', select: (e) => e.type === 'file' || e.type === 'fifo' });
  assert.ok(entries.some((e) => e.name.toString() === 'file' && e.depth === 3));
  assert.equal(entries.find((e) => e.type === 'fifo')!.stat, null, 'FIFOs were not even stat-ed');
  const f = entries.find((e) => e.name.toString() === 'file')!;
  assert.equal(typeof f.stat!.mtimeMs, 'bigint');
  assert.equal(isoNs((f.stat as { mtimeNs: bigint }).mtimeNs), '2001-09-09T01:46:40.000000000Z');
});

test('mode strings as ls prints them', () => {
  assert.equal(modeString(0o104755), '-rwsr-xr-x');
  assert.equal(modeString(0o102755), '-rwxr-sr-x');
  assert.equal(modeString(0o104644), '-rwSr--r--');
  assert.equal(modeString(0o041777), 'drwxrwxrwt');
  assert.equal(modeString(0o041776), 'drwxrwxrwT');
  assert.equal(modeString(0o120777), 'lrwxrwxrwx');
  assert.equal(modeString(0o010644), 'prw-r--r--');
  assert.equal(modeString(0o020620), 'crw--w----');
});

test('timestamps keep nanoseconds, also before 1970', () => {
  assert.equal(isoNs(1_795_440_219_302_692_755n), '2026-11-23T13:23:39.302692755Z');
  assert.equal(isoNs(0n), '1970-01-01T00:00:00.000000000Z');
  assert.equal(isoNs(-1n), '1969-12-31T23:59:59.999999999Z');
  fc.assert(fc.property(fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }), (ns) => void isoNs(ns)));
});

test('filesystem types: pseudo, network and FUSE mounts are not walked', () => {
  assert.deepEqual(['ext4', 'xfs', 'btrfs', 'tmpfs', 'proc', 'nfs4', 'fuse.sshfs', 'overlay', 'cgroup2'].map(isLocalFsType), [true, true, true, true, false, false, false, false, false]);
});

test('a file that vanishes between readdir and lstat is not reported', async (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 50; i++) writeFileSync(path.join(dir, `f${i}`), '');
  const host = await Host.open();
  const errors: string[] = [];
  let first = true;
  for await (const e of walk(host, { roots: [dir], signal: new AbortController().signal, onError: (_p, c) => errors.push(c) })) {
    if (e.depth === 1 && first) {
      first = false;
      for (let i = 0; i < 50; i++) if (`f${i}` !== e.name.toString()) unlinkSync(path.join(dir, `f${i}`));
    }
  }
  assert.deepEqual(errors, []);
});

test('an unreadable directory is recorded and the walk goes on (run as nobody)', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'a/secret'), { recursive: true });
  writeFileSync(path.join(dir, 'a/secret/key'), 'x');
  writeFileSync(path.join(dir, 'a/open'), 'x');
  chmodSync(path.join(dir, 'a'), 0o755);
  chmodSync(path.join(dir, 'a/secret'), 0o700);
  const script = `
    import { walk } from ${JSON.stringify(path.join(PROJECT, 'src/host/fs-walk.ts'))};
    import { Host } from ${JSON.stringify(path.join(PROJECT, 'src/host/host.ts'))};
    const host = await Host.open();
    const seen = [], errors = [];
    for await (const e of walk(host, { roots: [${JSON.stringify(path.join(dir, 'a'))}], signal: new AbortController().signal, onError: (p, c) => errors.push([p.toString(), c]) })) seen.push(e.name.toString());
    console.log(JSON.stringify({ seen, errors }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { uid: 65534, gid: 65534, cwd: PROJECT });
  if (r.status !== 0) return t.skip(`could not run as nobody: ${r.stderr.toString().slice(0, 200)}`);
  const { seen, errors } = JSON.parse(r.stdout.toString()) as { seen: string[]; errors: [string, string][] };
  assert.deepEqual(seen.sort(), ['a', 'open', 'secret']);
  assert.deepEqual(errors, [[path.join(dir, 'a/secret'), 'EACCES']]);
});
