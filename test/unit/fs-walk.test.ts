import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { isLocalFsType, isoNs, modeString, walk, type WalkEntry, type WalkOptions } from '../../src/host/fs-walk.js';
import { Host } from '../../src/host/host.js';
import { walkTree, type FoundEntry, type WalkJob } from '../../src/host/walk-tree.js';
import { PROJECT, bundleForOtherUser, tempDir } from '../helpers.js';

async function collect(host: Host, opts: Partial<WalkOptions> & { roots: string[] }) {
  const errors: [string, string][] = [];
  const entries: WalkEntry[] = [];
  for await (const e of walk(host, { signal: new AbortController().signal, onError: (p, code) => errors.push([p.toString(), code]), ...opts })) entries.push(e);
  return { entries, errors, paths: entries.map((e) => e.hostPath.toString('latin1')) };
}

/** The traversal itself, on this thread: deterministic for tests that change the tree between two entries. */
function job(root: string, over: Partial<WalkJob> = {}): WalkJob {
  return { roots: [{ host: Buffer.from(root), real: Buffer.from(root) }], rootPrefix: null, skipMounts: [], maxDepth: 512, bigDirBytes: 1024 * 1024, rules: null, sniff: false, ...over };
}

function* entriesOf(gen: Generator<FoundEntry | null>): Generator<FoundEntry & { hostPath: Buffer }> {
  for (const e of gen) if (e) yield { ...e, hostPath: Buffer.from(e.hostPath) };
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

test('entries that vanish mid-walk are skipped silently; a directory replaced by a file is recorded', (t) => {
  const tree = hostileTree(tempDir(t));
  const errors: [string, string][] = [];
  const seen: string[] = [];
  for (const e of entriesOf(walkTree(job(tree), (p, code) => errors.push([p.toString(), code])))) {
    seen.push(e.hostPath.subarray(e.hostPath.lastIndexOf(0x2f) + 1).toString());
    if (e.depth === 0) {
      for (const n of ['plain', 'new\nline', '\u001b[31mred']) rmSync(path.join(tree, n), { force: true });
    }
    if (seen.at(-1) === 'deeper') {
      rmSync(path.join(tree, 'sub/deeper'), { recursive: true });
      writeFileSync(path.join(tree, 'sub/deeper'), 'now a file');
    }
  }
  assert.ok(seen.includes('fifo') && seen.includes('deeper'));
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
  assert.equal(n, 1);
});

test('select: an entry is yielded when one rule holds whole; directories are entered regardless; times keep nanoseconds', async (t) => {
  const tree = hostileTree(tempDir(t));
  mkdirSync(path.join(tree, 'sys/lib'), { recursive: true });
  writeFileSync(path.join(tree, 'sys/lib/new.so'), 'x');
  writeFileSync(path.join(tree, 'sys/old'), 'x');
  utimesSync(path.join(tree, 'sys/old'), 1_000_000_000, 1_000_000_000);
  writeFileSync(path.join(tree, 'sub/deeper/suid'), 'x');
  chmodSync(path.join(tree, 'sub/deeper/suid'), 0o4755);
  writeFileSync(path.join(tree, 'sub/ww'), 'x');
  chmodSync(path.join(tree, 'sub/ww'), 0o666);
  writeFileSync(path.join(tree, 'sys/ww'), 'x');
  chmodSync(path.join(tree, 'sys/ww'), 0o666);
  const host = await Host.open();
  const since = Date.now() - 3_600_000;
  const { entries } = await collect(host, {
    roots: [tree],
    select: [
      { types: ['file'], modeAny: 0o6000 },
      { types: ['file', 'dir'], modeAny: 0o002, notInside: [Buffer.from(path.join(tree, 'sys'))] },
      { inside: [Buffer.from(path.join(tree, 'sys'))], changedSinceMs: since },
    ],
  });
  const rel = entries.map((e) => e.hostPath.toString().slice(tree.length)).sort();
  // sys/old was backdated, but its ctime is now; sys/ww is left out by the second rule and taken by the third.
  assert.deepEqual(rel, ['/sub/deeper/suid', '/sub/ww', '/sys/lib', '/sys/lib/new.so', '/sys/old', '/sys/ww']);
  const none = await collect(host, { roots: [tree], select: [{ inside: [Buffer.from(path.join(tree, 'sys'))], changedSinceMs: Date.now() + 3_600_000 }] });
  assert.deepEqual(none.entries, []);
  const suid = entries.find((e) => e.name.toString() === 'suid')!;
  assert.equal(suid.depth, 3);
  assert.equal(typeof suid.stat!.mtimeNs, 'bigint');
  assert.equal(suid.stat!.mode & 0o7777, 0o4755);
  const all = await collect(host, { roots: [path.join(tree, 'sys')] });
  assert.equal(isoNs(all.entries.find((e) => e.name.toString() === 'old')!.stat!.mtimeNs), '2001-09-09T01:46:40.000000000Z');
});

test('off the thread, the walk yields exactly what the traversal yields, in order, across many batches', async (t) => {
  const dir = tempDir(t);
  for (let d = 0; d < 30; d++) {
    mkdirSync(path.join(dir, `d${d}`));
    for (let f = 0; f < 100; f++) writeFileSync(path.join(dir, `d${d}`, `f${f}`), '');
  }
  const host = await Host.open();
  const here = [...entriesOf(walkTree(job(dir), () => undefined))].map((e) => e.hostPath.toString());
  const { paths, errors } = await collect(host, { roots: [dir] });
  assert.equal(here.length, 1 + 30 * 101);
  assert.deepEqual(paths, here);
  assert.deepEqual(errors, []);
});

test('property: hostile names come back byte for byte, once each, also below a directory whose own name is not UTF-8', async (t) => {
  const host = await Host.open();
  const base = tempDir(t);
  let round = 0;
  const name = fc.uint8Array({ minLength: 1, maxLength: 24 }).filter((b) => !b.includes(0) && !b.includes(0x2f) && !(b.length <= 2 && b.every((c) => c === 0x2e)));
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(name, { maxLength: 12, selector: (b) => Buffer.from(b).toString('latin1') }), fc.option(name), async (names, dirName) => {
      const dir = Buffer.from(path.join(base, `r${round++}`));
      mkdirSync(dir);
      const parent = dirName ? Buffer.concat([dir, Buffer.from('/'), dirName]) : dir;
      if (dirName) mkdirSync(parent);
      for (const n of names) writeFileSync(Buffer.concat([parent, Buffer.from('/'), n]), 'x');
      const { entries } = await collect(host, { roots: [dir.toString()] });
      const files = entries.filter((e) => e.type === 'file');
      assert.deepEqual(files.map((e) => e.name.toString('latin1')).sort(), names.map((n) => Buffer.from(n).toString('latin1')).sort());
      for (const f of files) assert.ok(f.hostPath.equals(Buffer.concat([parent, Buffer.from('/'), f.name])));
    }),
    { numRuns: 40, examples: [[[new Uint8Array([0x61])], new Uint8Array([0xff, 0xfe])]] },
  );
});

test('a reader that stops mid-walk and never comes back (a collector past its time limit) leaves no thread running', (t) => {
  const dir = tempDir(t);
  for (let d = 0; d < 20; d++) {
    mkdirSync(path.join(dir, `d${d}`));
    for (let f = 0; f < 200; f++) writeFileSync(path.join(dir, `d${d}`, `f${f}`), '');
  }
  const script = `
    import { walk } from ${JSON.stringify(path.join(PROJECT, 'src/host/fs-walk.ts'))};
    import { Host } from ${JSON.stringify(path.join(PROJECT, 'src/host/host.ts'))};
    const host = await Host.open();
    const ac = new AbortController();
    const it = walk(host, { roots: [${JSON.stringify(dir)}], signal: ac.signal, onError: () => undefined });
    await it.next();
    ac.abort();
    console.log('abandoned');`;
  // The child must end by itself: a walk thread still waiting for its reader would keep it alive.
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT, timeout: 60_000 });
  assert.equal(r.signal, null, 'the process did not exit by itself');
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString().trim(), 'abandoned');
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

test('a file that vanishes between readdir and lstat is not reported', (t) => {
  const dir = tempDir(t);
  for (let i = 0; i < 50; i++) writeFileSync(path.join(dir, `f${i}`), '');
  const errors: string[] = [];
  const seen: string[] = [];
  for (const e of entriesOf(walkTree(job(dir), (_p, c) => errors.push(c)))) {
    const name = path.basename(e.hostPath.toString());
    seen.push(name);
    if (e.depth === 1 && seen.length === 2) {
      for (let i = 0; i < 50; i++) if (`f${i}` !== name) unlinkSync(path.join(dir, `f${i}`));
    }
  }
  assert.deepEqual(errors, []);
  assert.equal(seen.length, 2);
});

test('an unreadable directory is recorded and the walk goes on (run as nobody)', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'a/secret'), { recursive: true });
  writeFileSync(path.join(dir, 'a/secret/key'), 'x');
  writeFileSync(path.join(dir, 'a/open'), 'x');
  chmodSync(path.join(dir, 'a'), 0o755);
  chmodSync(path.join(dir, 'a/secret'), 0o700);
  // nobody cannot read a checkout under /root (0700) or tsx's cache: it runs a bundle of the script instead
  const entry = path.join(dir, 'walk-as-nobody.ts');
  writeFileSync(
    entry,
    `import { walk } from ${JSON.stringify(path.join(PROJECT, 'src/host/fs-walk.ts'))};
    import { Host } from ${JSON.stringify(path.join(PROJECT, 'src/host/host.ts'))};
    const host = await Host.open();
    const seen: string[] = [], errors: [string, string][] = [];
    for await (const e of walk(host, { roots: [process.argv[2]!], signal: new AbortController().signal, onError: (p, c) => errors.push([p.toString(), c]) })) seen.push(e.name.toString());
    console.log(JSON.stringify({ seen, errors }));`,
  );
  const bundle = bundleForOtherUser(entry, dir);
  const r = spawnSync(process.execPath, [bundle, path.join(dir, 'a')], { uid: 65534, gid: 65534, cwd: dir });
  assert.equal(r.status, 0, r.stderr.toString());
  const { seen, errors } = JSON.parse(r.stdout.toString()) as { seen: string[]; errors: [string, string][] };
  assert.deepEqual(seen.sort(), ['a', 'open', 'secret']);
  assert.deepEqual(errors, [[path.join(dir, 'a/secret'), 'EACCES']]);
});
