import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { hiddenProcessesCollector, processesCollector } from '../../src/collectors/processes.js';
import { runCollector } from '../collector-harness.js';
import { buildRoot } from '../fixture-root.js';
import { PROJECT, bundleForOtherUser, tempDir } from '../helpers.js';

type Row = Record<string, any>;
const SAVED = path.join(PROJECT, 'test/fixtures/proc/saved');
const isRoot = process.getuid?.() === 0;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Starts a process that the test kills (by its own pid) when it ends. */
function start(t: { after(fn: () => void): void }, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; stdout?: boolean } = {}): ChildProcess {
  const child = spawn(cmd, args, { env: opts.env ?? { PATH: '/usr/bin:/bin' }, stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'ignore'] });
  t.after(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  });
  return child;
}

/** Polls until `check` holds (a wait for the processes to get ready, not a timing assertion). */
async function until<T>(check: () => T | undefined | null | false): Promise<T> {
  for (let i = 0; i < 600; i++) {
    try {
      const v = check();
      if (v) return v;
    } catch {
      // not there yet
    }
    await sleep(25);
  }
  throw new Error('the test processes did not get ready');
}

const statOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'latin1');
const stateOf = (pid: number) => statOf(pid).slice(statOf(pid).lastIndexOf(')') + 2)[0];

/** The inode of a listening TCP socket on 127.0.0.1:port, from /proc/net/tcp (independent of the fd links). */
function listeningInode(port: number): number | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === `0100007F:${hex}` && f[3] === '0A') return Number(f[9]);
  }
  return undefined;
}

test('live: deleted executable hashed and copied, hostile argv and comm, LD_PRELOAD, zombie, tree, sockets, CPU', async (t) => {
  const dir = tempDir(t);
  const sleepBytes = readFileSync('/bin/sleep');

  // 1. a copy of sleep, started, then deleted; with LD_PRELOAD (the already loaded libc: harmless) and LD_LIBRARY_PATH
  const libc = ['/usr/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/aarch64-linux-gnu/libc.so.6'].find((p) => existsSync(p)) ?? '';
  const sleepy = path.join(dir, 'sleepy');
  copyFileSync('/bin/sleep', sleepy);
  chmodSync(sleepy, 0o755);
  const deleted = start(t, sleepy, ['300'], { env: { PATH: '/usr/bin:/bin', LD_PRELOAD: libc, LD_LIBRARY_PATH: '/opt/goldhour-test/lib' } });
  await until(() => readlinkSync(`/proc/${deleted.pid}/exe`) === sleepy);
  unlinkSync(sleepy);

  // 2. argv with a newline and invalid UTF-8; comm planted with ") R 1 (" and a newline (the executable's name)
  const weirdExe = path.join(dir, 's) R 1 (\nx');
  copyFileSync('/bin/sleep', weirdExe);
  chmodSync(weirdExe, 0o755);
  const weird = start(t, '/bin/bash', ['-c', `exec -a $'we\\nird\\xff\\xfe' "$0" 300`, weirdExe]);
  await until(() => readlinkSync(`/proc/${weird.pid}/exe`) === weirdExe);

  // 3. a zombie: bash starts a subshell, then becomes `sleep 300`, which never reaps it; the subshell
  //    exits only once that exec has happened (else bash itself might reap it first)
  const zparent = start(t, '/bin/bash', ['-c', '( while [ "$(readlink /proc/$$/exe)" != "$(readlink -f /bin/sleep)" ]; do sleep 0.05; done ) & exec /bin/sleep 300']);
  const zombie = await until(() => {
    const kid = Number(readFileSync(`/proc/${zparent.pid}/task/${zparent.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    return kid > 0 && readlinkSync(`/proc/${zparent.pid}/exe`) === realpathSync('/bin/sleep') && stateOf(kid) === 'Z' ? kid : undefined;
  });

  // 4. a listening loopback TCP socket
  const server = start(t, process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port));setInterval(()=>{},1e6)"], { stdout: true });
  const port = await new Promise<number>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const inode = await until(() => listeningInode(port));

  // 5. a busy process that has already used some CPU
  const busy = start(t, process.execPath, ['-e', 'for(;;){}']);
  await until(() => {
    const f = statOf(busy.pid!).slice(statOf(busy.pid!).lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) > 0;
  });

  const { rows, manifest, bundle } = await runCollector<Row>(processesCollector, path.join(dir, 'out'), { settings: { copyDeleted: true } });
  const byPid = new Map(rows.map((r) => [r.pid as number, r]));
  assert.ok(!manifest.errors.some((e) => e.code === 'EROW' || e.code === 'EPROC'), JSON.stringify(manifest.errors));

  const d = byPid.get(deleted.pid!)!;
  assert.equal(d.exe, sleepy);
  assert.equal(d.exeDeleted, true);
  assert.equal(d.exeSha256, sha256(sleepBytes));
  assert.equal(d.exeHashSource, 'proc-exe');
  assert.deepEqual(d.ldPreload, [libc]);
  assert.deepEqual(d.ldLibraryPath, ['/opt/goldhour-test/lib']);
  assert.equal(d.ppid, process.pid);
  assert.equal(d.ancestry[0], process.pid);
  assert.equal(d.depth, d.ancestry.length);
  assert.equal(d.listed, true);
  assert.equal(d.kernelThread, false);
  assert.equal(d.euid, process.geteuid!());
  // --copy-deleted: the binary is in the bundle, byte for byte, and in the manifest with its hash
  assert.equal(d.exeCopy, `files/proc/${deleted.pid}/exe`);
  assert.equal(sha256(readFileSync(path.join(bundle, d.exeCopy))), sha256(sleepBytes));
  assert.equal(manifest.artifacts.find((a) => a.path === d.exeCopy)?.sha256, sha256(sleepBytes));

  const w = byPid.get(weird.pid!)!;
  assert.equal(w.comm, 's) R 1 (\nx');
  assert.equal(w.state, 'S');
  assert.deepEqual(w.argv, ['we\nird%FF%FE', '300']);
  assert.deepEqual(Buffer.from(w.cmdlineBase64, 'base64'), Buffer.from('we\nird\xff\xfe\x00300\x00', 'latin1'));
  assert.equal(w.exe, weirdExe);
  assert.equal(w.exeDeleted, false);
  assert.equal(w.exeSha256, sha256(sleepBytes));
  assert.deepEqual(w.ldPreload, []);

  const z = byPid.get(zombie)!;
  assert.equal(z.state, 'Z');
  assert.equal(z.ppid, zparent.pid);
  assert.deepEqual(z.ancestry.slice(0, 2), [zparent.pid, process.pid]);
  assert.equal(z.exe, null);
  assert.deepEqual(z.argv, []);
  assert.equal(byPid.get(zparent.pid!)!.exe, realpathSync('/bin/sleep'));

  assert.ok(byPid.get(server.pid!)!.socketInodes.includes(inode), `socket inode ${inode}`);
  assert.ok(byPid.get(server.pid!)!.fdCount >= 1);
  const b = byPid.get(busy.pid!)!;
  assert.ok(b.cpuSeconds > 0);
  assert.equal(typeof b.cpuPercent, 'number');

  // goldhour's own process: its threads answer /proc/TID but are not processes, hidden or otherwise
  const self = byPid.get(process.pid)!;
  assert.ok(self.threads > 1);
  for (const tid of readdirSync('/proc/self/task').map(Number)) if (tid !== process.pid) assert.equal(byPid.has(tid), false);
  assert.deepEqual(self.foundBy, ['listing', 'children']);
  const kthreadd = byPid.get(2);
  if (kthreadd?.comm === 'kthreadd') {
    assert.equal(kthreadd.kernelThread, true);
    assert.equal(kthreadd.exe, null);
  }
  assert.ok(rows.every((r) => typeof r.startTime === 'string' || r.startTime === null));
});

test('live: hidden-processes reports what it checked and goldhour\'s own libraries', async (t) => {
  const dir = tempDir(t);
  const { rows, manifest } = await runCollector<Row>(hiddenProcessesCollector, path.join(dir, 'out'));
  assert.deepEqual(manifest.errors, []);
  const check = rows.find((r) => r.kind === 'check')!;
  assert.ok(check.processesListed > 5);
  assert.equal(check.probeComplete, true);
  assert.ok(check.probedUpTo >= 1 && check.probedFrom >= 1);
  assert.ok(check.tasksSeen > 0 && check.kernelTasks > 0);
  assert.ok(rows.some((r) => r.kind === 'goldhour-library' && /\/libc\.so/.test(r.path)));
  if (!existsSync('/etc/ld.so.preload') || readFileSync('/etc/ld.so.preload', 'utf8').trim() === '') assert.ok(!rows.some((r) => r.kind === 'ld-so-preload'));
});

test('live: a /proc/PID covered by a bind mount (in a private mount namespace)', { skip: !isRoot || !existsSync('/usr/bin/unshare') }, async (t) => {
  const dir = tempDir(t);
  const decoy = start(t, '/bin/sleep', ['301']);
  const target = start(t, '/bin/sleep', ['302']);
  await until(() => readlinkSync(`/proc/${target.pid}/exe`) && readlinkSync(`/proc/${decoy.pid}/exe`));
  const script = path.join(dir, 'in-namespace.mts');
  writeFileSync(
    script,
    `import { hiddenProcessesCollector, processesCollector } from ${JSON.stringify(path.join(PROJECT, 'src/collectors/processes.ts'))};
import { runCollector } from ${JSON.stringify(path.join(PROJECT, 'test/collector-harness.ts'))};
const p = await runCollector(processesCollector, process.argv[2] + '/p');
const h = await runCollector(hiddenProcessesCollector, process.argv[2] + '/h');
console.log(JSON.stringify({ p: p.rows.filter((r) => r.pid === ${target.pid}), h: h.rows.filter((r) => r.kind === 'proc-mount') }));
`,
  );
  // the mount exists only in the child's own mount namespace: nothing on the machine changes
  const child = spawn('/usr/bin/unshare', ['-m', '--propagation', 'private', '/bin/sh', '-c', `mount --bind /proc/${decoy.pid} /proc/${target.pid} && exec "$0" --import tsx "$1" "$2"`, process.execPath, script, dir], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  const { p, h } = JSON.parse(out.trim().split('\n').pop()!) as { p: Row[]; h: Row[] };
  const mount = h.find((r) => r.pid === target.pid)!;
  assert.equal(mount.path, `/proc/${target.pid}`);
  assert.equal(mount.mountRoot, `/${decoy.pid}`);
  assert.equal(mount.fsType, 'proc');
  // the covered pid still gets a row, saying what its stat really names, and nothing borrowed from the decoy
  assert.equal(p.length, 1);
  assert.ok(p[0]!.notes.some((n: string) => n.includes(`names pid ${decoy.pid}`)), JSON.stringify(p[0]!.notes));
  assert.equal(p[0]!.exe, null);
});

test('live, not root: other users\' files are unreadable, noted per row and summed up in the manifest', { skip: !isRoot || !existsSync('/usr/bin/setpriv') }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o777);
  const script = path.join(dir, 'as-nobody.mts');
  writeFileSync(
    script,
    `import { processesCollector } from ${JSON.stringify(path.join(PROJECT, 'src/collectors/processes.ts'))};
import { runCollector } from ${JSON.stringify(path.join(PROJECT, 'test/collector-harness.ts'))};
const r = await runCollector(processesCollector, process.argv[2] + '/out');
console.log(JSON.stringify({ self: r.rows.find((x) => x.pid === process.pid), rootOwned: r.rows.filter((x) => x.uid === 0 && !x.kernelThread).slice(0, 5), errors: r.manifest.errors }));
`,
  );
  const bundle = bundleForOtherUser(script, dir);
  const child = spawn('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, bundle, dir], {
    cwd: PROJECT,
    env: { PATH: '/usr/bin:/bin', HOME: dir, TMPDIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  const { self, rootOwned, errors } = JSON.parse(out.trim().split('\n').pop()!) as { self: Row; rootOwned: Row[]; errors: Row[] };
  assert.equal(self.uid, 65534);
  assert.ok(Array.isArray(self.ldPreload) && self.exe === process.execPath);
  assert.ok(rootOwned.length > 0);
  for (const r of rootOwned) {
    assert.equal(r.ldPreload, null);
    assert.ok(r.notes.includes('environ: EACCES'), JSON.stringify(r.notes));
    assert.equal(typeof r.comm, 'string'); // stat and status stay readable
  }
  // one manifest error per file and cause, not one per process
  const environ = errors.filter((e) => e.code === 'EACCES' && String(e.path).endsWith('/environ'));
  assert.equal(environ.length, 1);
  assert.match(environ[0]!.message, /for \d+ process\(es\)/);
});

test('--root without --proc: no processes, nothing recorded as failed', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const p = await runCollector<Row>(processesCollector, path.join(dir, 'p'), { root });
  assert.deepEqual(p.rows, []);
  assert.deepEqual(p.manifest.errors, []);
  assert.equal(p.manifest.collectors[0]!.status, 'ok');
  const h = await runCollector<Row>(hiddenProcessesCollector, path.join(dir, 'h'), { root });
  assert.deepEqual(h.rows, []);
});

test('saved /proc: hostile comm and argv, deleted exe, LD_PRELOAD, zombie, kernel thread, socket inode; no CPU sample', async (t) => {
  const dir = tempDir(t);
  const { rows, manifest } = await runCollector<Row>(processesCollector, path.join(dir, 'out'), { proc: SAVED });
  assert.ok(!manifest.errors.some((e) => e.code === 'EROW'), JSON.stringify(manifest.errors));
  const pids = readdirSync(SAVED).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  assert.deepEqual(rows.map((r) => r.pid), pids);
  const by = (f: (r: Row) => boolean) => rows.filter(f);
  const [weird] = by((r) => r.commBase64 !== null);
  assert.equal(weird!.comm, 'x) Z 9 (\nq%FF');
  assert.deepEqual(Buffer.from(weird!.commBase64, 'base64'), Buffer.from('x) Z 9 (\nq\xff', 'latin1'));
  assert.equal(weird!.state, 'S');
  assert.deepEqual(weird!.argv.slice(3), ['arg with\nnewline', '%FF%FEbad']);
  const [del] = by((r) => r.exeDeleted === true);
  assert.equal(del!.exe, '/tmp/goldhour-fixture/sleepy');
  assert.deepEqual(del!.ldPreload, ['/usr/lib/x86_64-linux-gnu/libc.so.6']);
  assert.deepEqual(del!.ldLibraryPath, ['/opt/evil/lib']);
  assert.equal(del!.exeSha256, null); // nothing to read it from without --root
  const [zombie] = by((r) => r.state === 'Z');
  assert.equal(zombie!.ancestry[0], zombie!.ppid);
  assert.ok(rows.some((r) => r.pid === zombie!.ppid));
  const [sock] = by((r) => r.socketInodes?.length > 0);
  assert.equal(sock!.socketInodes.length, 1);
  assert.equal(`socket:[${sock!.socketInodes[0]}]`, readlinkSync(path.join(SAVED, `${sock!.pid}/fd/3`)));
  const k = rows.find((r) => r.pid === 2)!;
  assert.equal(k.kernelThread, true);
  assert.equal(rows.find((r) => r.pid === 1)!.kernelThread, false);
  assert.ok(rows.every((r) => r.cpuPercent === null && r.listed === true));
  assert.equal(rows.find((r) => r.pid === 1)!.ldPreload, null); // not saved: not known
});

test('saved /proc with --root: names from the image\'s passwd, executables hashed from the image, ld.so.preload and /proc mounts', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  writeFileSync(path.join(root, 'etc/passwd'), 'toor:x:0:0:image root:/root:/bin/sh\n');
  writeFileSync(path.join(root, 'etc/group'), 'wheel:x:0:\n');
  mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  const dash = Buffer.from('#!/not/really/dash\n');
  writeFileSync(path.join(root, 'usr/bin/dash'), dash);
  writeFileSync(path.join(root, 'etc/ld.so.preload'), '# planted\n/usr/lib/libhide.so\n');
  const { rows, manifest } = await runCollector<Row>(processesCollector, path.join(dir, 'p'), { root, proc: SAVED });
  assert.ok(!manifest.errors.some((e) => e.code === 'EROW'));
  const sh = rows.find((r) => r.exe === '/usr/bin/dash')!;
  assert.equal(sh.exeSha256, sha256(dash));
  assert.equal(sh.exeHashSource, 'image-file');
  assert.equal(sh.user, 'toor');
  assert.equal(sh.group, 'wheel');
  // a path missing from the image, and a deleted one, are not hashed (and not errors)
  assert.equal(rows.find((r) => r.exeDeleted === true)!.exeSha256, null);
  assert.ok(!manifest.errors.some((e) => String(e.path).includes('python')));

  const h = await runCollector<Row>(hiddenProcessesCollector, path.join(dir, 'h'), { root, proc: SAVED });
  const preload = h.rows.find((r) => r.kind === 'ld-so-preload')!;
  assert.deepEqual(preload.entries, ['/usr/lib/libhide.so']);
  assert.equal(preload.loadedIntoGoldhour, null);
  assert.equal(preload.content, '# planted\n/usr/lib/libhide.so\n');
  const mount = h.rows.find((r) => r.kind === 'proc-mount')!;
  assert.equal(mount.pid, 4242);
  assert.equal(mount.fsType, 'proc');
  assert.ok(!h.rows.some((r) => r.kind === 'check' || r.kind === 'goldhour-library' || r.kind === 'unlisted-process'));
});

test('hostile saved /proc: symlinks out of it, a FIFO, absurd numbers — refused or kept as facts, never followed, never hung', async (t) => {
  const dir = tempDir(t);
  const proc = path.join(dir, 'proc');
  const stat = (pid: number, start: string) => `${pid} (evil) S 1 1 1 0 -1 4194304 0 0 0 0 5 5 0 0 20 0 1 0 ${start} 0 0\n`;
  mkdirSync(path.join(proc, '100/fd'), { recursive: true });
  writeFileSync(path.join(proc, 'stat'), 'cpu 1 2 3\nbtime 1700000000\n');
  writeFileSync(path.join(proc, '100/stat'), stat(100, '500'));
  writeFileSync(path.join(proc, '100/status'), 'Name:\tevil\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n');
  symlinkSync('/etc/passwd', path.join(proc, '100/cmdline')); // would read the examiner's own file
  execFileSync('/usr/bin/mkfifo', [path.join(proc, '100/environ')]); // would block a naive read forever
  symlinkSync('socket:[77]', path.join(proc, '100/fd/4'));
  symlinkSync('/proc/self', path.join(proc, '200')); // a pid directory that is really the examiner's process
  mkdirSync(path.join(proc, '300'));
  writeFileSync(path.join(proc, '300/stat'), stat(300, '99999999999999999999'));
  mkdirSync(path.join(proc, '400'));
  writeFileSync(path.join(proc, '400/stat'), stat(400, '10'));
  symlinkSync('/', path.join(proc, '400/fd'));

  const { rows, manifest } = await runCollector<Row>(processesCollector, path.join(dir, 'out'), { proc });
  const by = new Map(rows.map((r) => [r.pid as number, r]));
  assert.deepEqual([...by.keys()], [100, 200, 300, 400]);
  const a = by.get(100)!;
  assert.deepEqual(a.argv, []);
  assert.ok(a.notes.includes('cmdline: ESYMLINK'), JSON.stringify(a.notes));
  assert.equal(a.ldPreload, null);
  assert.ok(a.notes.some((n: string) => n.startsWith('environ: ')), JSON.stringify(a.notes));
  assert.deepEqual(a.socketInodes, [77]);
  assert.equal(a.startTime, new Date((1700000000 + 5) * 1000).toISOString());
  assert.deepEqual(by.get(200)!.notes, ['stat: ESYMLINK']);
  assert.equal(by.get(200)!.comm, null);
  assert.equal(by.get(300)!.startTime, null);
  assert.equal(by.get(400)!.fdCount, null);
  assert.ok(by.get(400)!.notes.includes('fd: ESYMLINK'));
  assert.ok(manifest.errors.some((e) => e.code === 'ENOTREG' && String(e.path).endsWith('/environ')), JSON.stringify(manifest.errors));
  assert.ok(!manifest.artifacts.some((a) => String(a.source).includes('passwd')));
});
