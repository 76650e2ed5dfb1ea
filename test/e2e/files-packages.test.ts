import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bodyfileCollector } from '../../src/collectors/bodyfile.js';
import type { Collector } from '../../src/collectors/collector.js';
import { containersCollector } from '../../src/collectors/containers.js';
import { exposureCollector } from '../../src/collectors/exposure.js';
import { fileAttributesCollector } from '../../src/collectors/file-attributes.js';
import { fileScanCollector } from '../../src/collectors/file-scan.js';
import { packagesCollector } from '../../src/collectors/packages.js';
import { tempFilesCollector } from '../../src/collectors/temp-files.js';
import { collectorDocs } from '../../src/docs/collector-docs.js';
import { parseBodyfileLine } from '../../src/host/bodyfile.js';
import { runCollector } from '../collector-harness.js';
import { CONTAINERD_ID, DOCKER_ID, ELF_SOURCE, PODMAN_ID, buildFilesRoot, manyFiles, sha256 } from '../fixtures/files-packages/build-root.js';
import { tempDir } from '../helpers.js';

type R = Record<string, unknown>;
const ALL: Collector[] = [tempFilesCollector, fileScanCollector, fileAttributesCollector, bodyfileCollector, packagesCollector, containersCollector, exposureCollector];
const elfHash = sha256(readFileSync(ELF_SOURCE));

async function run(t: { after(fn: () => void): void }, c: Collector, opts: Parameters<typeof runCollector>[2] = {}) {
  const out = path.join(tempDir(t, 'goldhour-fp-'), 'out');
  const started = performance.now();
  const r = await runCollector<R>(c, out, opts);
  const ms = Math.round(performance.now() - started);
  const status = r.manifest.collectors.find((x) => x.name === c.name)!.status;
  return { ...r, ms, status };
}

test('every column of every files/packages collector is described', () => {
  for (const c of ALL) {
    assert.ok(c.description.length > 40 && c.preconditions.length > 10, c.name);
    for (const line of collectorDocs([c]).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| column'))) {
      assert.ok(line.split(' | ')[2]!.trim().length > 3, `${c.name}: ${line}`);
    }
  }
});

describe('on a fixture root (--root, with and without --proc)', () => {
  let fx: { root: string; proc: string };
  let fxDir = '';
  before(() => {
    fxDir = mkdtempSync(path.join(os.tmpdir(), 'goldhour-fp-root-'));
    fx = buildFilesRoot(fxDir);
  });
  after(() => rmSync(fxDir, { recursive: true, force: true }));

  test('temp-files: hidden ELF in /dev/shm, set-uid shell copy, script, hostile names, FIFO and link loop listed; executables hashed by content', async (t) => {
    const { rows, manifest, status } = await run(t, tempFilesCollector, { root: fx.root });
    assert.equal(status, 'ok');
    const by = (p: string) => rows.find((r) => r.path === p);
    assert.deepEqual([by('/dev/shm/.x')!.contentKind, by('/dev/shm/.x')!.sha256, by('/dev/shm/.x')!.hidden], ['elf', elfHash, true]);
    assert.equal(by('/tmp/.x/payload')!.inHiddenDir, true);
    assert.equal(by('/tmp/sh')!.mode, '-rwsr-xr-x');
    assert.equal(by('/tmp/sh')!.sha256, elfHash);
    assert.deepEqual([by('/tmp/run.sh')!.contentKind, by('/tmp/run.sh')!.interpreter], ['script', '/bin/bash -i']);
    assert.equal(by('/tmp/new\nline.txt')!.contentKind, null);
    const bad = rows.find((r) => typeof r.pathBase64 === 'string')!;
    assert.equal(bad.path, '/tmp/bad-%FF%FE.bin');
    assert.deepEqual([...Buffer.from(bad.pathBase64 as string, 'base64').subarray(-6, -4)], [0xff, 0xfe]);
    assert.equal(bad.sha256, elfHash, 'a file whose name is not UTF-8 is still read');
    assert.equal(by('/tmp/fifo')!.type, 'fifo');
    assert.equal(by('/tmp/fifo')!.sha256, null);
    assert.deepEqual([by('/tmp/loop-a')!.type, by('/tmp/loop-a')!.linkTarget], ['symlink', 'loop-b']);
    assert.equal(by('/tmp/stomped')!.mtime, '2020-01-01T00:00:00.000000000Z');
    assert.equal(by('/tmp/sh')!.owner, 'root');
    assert.ok(by('/run/user/1000/.cache'));
    assert.equal(by('/tmp')!.depth, 0);
    assert.deepEqual(manifest.errors, []);
  });

  test('temp-files: 100,000 files in one directory are streamed (timed)', async (t) => {
    const dir = tempDir(t, 'goldhour-fp-many-');
    const root = path.join(dir, 'root');
    const made = performance.now();
    manyFiles(root, 'var/lib/php/sessions', 100_000);
    t.diagnostic(`created 100000 files in ${Math.round(performance.now() - made)} ms`);
    const rssBefore = process.memoryUsage().rss;
    const { rows, ms, status } = await run(t, tempFilesCollector, { root });
    assert.equal(status, 'ok');
    assert.equal(rows.filter((r) => String(r.path).startsWith('/var/lib/php/sessions/')).length, 100_000);
    t.diagnostic(`temp-files over 100000 files: ${ms} ms, rss grew ${Math.round((process.memoryUsage().rss - rssBefore) / 1e6)} MB (including the harness reading every row back)`);
  });

  test('file-scan: set-uid copy in /tmp and set-uid programs, world-writable cron file and directory, recently changed system files; capabilities not checked on --root', async (t) => {
    const { rows, manifest, status } = await run(t, fileScanCollector, { root: fx.root });
    assert.equal(status, 'ok');
    const by = (p: string) => rows.find((r) => r.path === p);
    assert.deepEqual(by('/tmp/sh')!.reasons, ['setuid']);
    assert.equal(by('/tmp/sh')!.sha256, elfHash);
    assert.deepEqual(by('/usr/bin/passwd')!.reasons, ['setuid', 'recent']);
    assert.deepEqual(by('/etc/cron.d/evil')!.reasons, ['world-writable', 'recent']);
    assert.deepEqual(by('/usr/local/share/drop')!.reasons, ['world-writable']);
    assert.equal(by('/tmp'), undefined, 'temp places are temp-files\' business');
    assert.equal(by('/tmp/.x/payload'), undefined, 'neither privileged nor in a system directory');
    assert.equal(by('/tmp/sh')!.capabilitiesChecked, false);
    assert.ok(manifest.errors.some((e) => e.code === 'ENOTCHECKED'));
    assert.ok(!rows.some((r) => String(r.path).startsWith('/bin/')), 'the /bin link is not walked twice');
    // recent: the replaced ps by mtime, the backdated free by ctime only, the library replaced by a link
    assert.ok((by('/usr/bin/ps')!.changed as string[]).includes('mtime'));
    assert.equal(by('/usr/bin/ps')!.sha256, elfHash);
    assert.ok(!(by('/usr/bin/free')!.changed as string[]).includes('mtime'));
    assert.ok((by('/usr/bin/free')!.changed as string[]).includes('ctime'));
    assert.equal(by('/usr/lib/x86_64-linux-gnu/libkeyutils.so.1')!.linkTarget, '/tmp/.x/libkeyutils.so');
    assert.equal(by('/usr/share/doc/procps/copyright'), undefined, '/usr/share is not a system directory here');
    const old = await run(t, fileScanCollector, { root: fx.root, settings: { recentDays: -1 } });
    assert.ok(!old.rows.some((r) => (r.reasons as string[]).includes('recent')), 'a window that ends before now lists nothing recent');
  });

  test('packages: replaced ps, changed PAM module, changed conffile flagged, library replaced by a link, missing file, diversion followed, hard link hashed once', async (t) => {
    const { rows, manifest, bundle } = await run(t, packagesCollector, { root: fx.root });
    const files = rows.filter((r) => r.kind === 'file');
    const by = (p: string) => files.find((r) => r.path === p);
    assert.deepEqual([by('/bin/ps')!.result, by('/bin/ps')!.package, by('/bin/ps')!.conffile], ['changed', 'procps', false]);
    assert.equal(by('/usr/lib/x86_64-linux-gnu/security/pam_unix.so')!.result, 'changed');
    assert.deepEqual([by('/etc/sysctl.conf')!.result, by('/etc/sysctl.conf')!.conffile], ['changed', true]);
    assert.deepEqual([by('/usr/lib/x86_64-linux-gnu/libkeyutils.so.1')!.result, by('/usr/lib/x86_64-linux-gnu/libkeyutils.so.1')!.detail], ['not-regular', 'symlink -> /tmp/.x/libkeyutils.so']);
    assert.equal(by('/usr/bin/gone')!.result, 'missing');
    assert.deepEqual([by('/bin/ps')!.copied, by('/etc/sysctl.conf')!.copied, by('/usr/bin/gone')!.copied, by('/usr/lib/x86_64-linux-gnu/libkeyutils.so.1')!.copied], [true, true, null, null]);
    const psCopy = manifest.artifacts.find((a) => a.source === '/bin/ps' && a.path.startsWith('files/'));
    assert.ok(psCopy, 'the replaced ps itself is in the bundle');
    assert.equal(psCopy.sha256, createHash('sha256').update(readFileSync(path.join(bundle, psCopy.path))).digest('hex'));
    assert.equal(createHash('md5').update(readFileSync(path.join(bundle, psCopy.path))).digest('hex'), by('/bin/ps')!.actualMd5, 'the copy is the file that was judged');
    assert.equal(by('/usr/bin/ls'), undefined, 'checked at its diversion, which is intact');
    assert.equal(by('/usr/share/doc/procps/copyright'), undefined, 'out of the default scope');
    assert.equal(by('/usr/bin/free'), undefined);
    const pkgs = rows.filter((r) => r.kind === 'package');
    assert.deepEqual(pkgs.map((p) => p.package), ['procps', 'coreutils', 'libc6', 'oldpkg', 'half']);
    const procps = pkgs[0]!;
    assert.deepEqual([procps.filesChecked, procps.filesChanged, procps.filesMissing], [4, 2, 0]);
    assert.equal(pkgs.find((p) => p.package === 'libc6')!.md5sumsFile, '/var/lib/dpkg/info/libc6:amd64.md5sums');
    assert.equal(pkgs.find((p) => p.package === 'oldpkg')!.filesChecked, null);
    assert.ok(manifest.artifacts.some((a) => a.source === '/var/lib/dpkg/info/procps.md5sums'), 'the list a change was judged against is kept');
    assert.ok(readFileSync(path.join(bundle, 'files/var/lib/dpkg/status')).length > 100);
    assert.ok(manifest.errors.some((e) => e.path === '/var/lib/rpm/rpmdb.sqlite' && e.code === 'ENOTCHECKED'), 'an rpm database on --root is said to be unchecked');
    const deep = await run(t, packagesCollector, { root: fx.root, settings: { deep: true } });
    assert.equal(deep.rows.find((r) => r.path === '/usr/share/doc/procps/copyright')!.result, 'changed');
  });

  test('containers: privileged docker container with / bound in, containerd task with CAP_SYS_ADMIN, podman root and rootless, writable layers', async (t) => {
    const { rows, manifest, status } = await run(t, containersCollector, { root: fx.root });
    assert.equal(status, 'ok');
    const d = rows.find((r) => r.kind === 'container' && r.runtime === 'docker')!;
    assert.equal(d.id, DOCKER_ID);
    assert.equal(d.privileged, true);
    assert.deepEqual((d.mounts as R[]).find((m) => m.destination === '/host'), { source: '/', destination: '/host', type: 'bind', readOnly: false });
    assert.deepEqual(d.hostNamespaces, ['network', 'pid']);
    assert.deepEqual(d.dangerousCaps, ['CAP_ALL']);
    assert.equal(d.pidAlive, null, 'not a live host');
    const layer = rows.filter((r) => r.kind === 'layer-file' && r.runtime === 'docker').map((r) => [r.path, r.type]);
    assert.ok(layer.some(([p]) => p === '/root/.ssh/authorized_keys'));
    if (layer.some(([p]) => p === '/usr/local/bin/gone')) assert.ok(layer.some(([p, ty]) => p === '/usr/local/bin/gone' && ty === 'whiteout'));
    const k = rows.find((r) => r.runtime === 'containerd' && r.kind === 'container')!;
    assert.deepEqual([k.id, k.namespace, k.pid, k.name], [CONTAINERD_ID, 'k8s.io', 31337, 'default/web-7d9f/web']);
    assert.deepEqual(k.dangerousCaps, ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']);
    assert.ok((k.hostNamespaces as string[]).includes('pid'));
    assert.ok((k.hostNamespaces as string[]).includes('network=/proc/1/ns/net'));
    assert.ok(rows.some((r) => r.kind === 'store' && r.runtime === 'containerd'));
    assert.ok(manifest.artifacts.some((a) => a.source === '/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db'));
    const p = rows.filter((r) => r.runtime === 'podman' && r.kind === 'container');
    assert.deepEqual(p.map((r) => [r.id, r.name, r.namespace]), [[PODMAN_ID, 'sleepy_backdoor', null], [PODMAN_ID, 'sleepy_backdoor', 'alice']]);
    assert.ok(rows.some((r) => r.runtime === 'podman' && r.kind === 'layer-file' && r.path === '/tmp/backdoor'));
    assert.ok(manifest.artifacts.some((a) => a.source === `/var/lib/docker/containers/${DOCKER_ID}/hostconfig.json`));
  });

  test('exposure with --proc: taint decoded, listeners on every address, sshd PermitRootLogin from an Include, audit rules, SELinux config', async (t) => {
    const { rows } = await run(t, exposureCollector, { root: fx.root, proc: fx.proc });
    const s = (k: string) => rows.find((r) => r.setting === k);
    assert.equal(s('kernel.tainted')!.detail, 'O: externally-built (out-of-tree) module loaded; E: unsigned module loaded');
    assert.equal(s('kernel.core_pattern')!.value, '|/tmp/.x/payload %p');
    const listen = rows.filter((r) => r.area === 'listen');
    assert.deepEqual(listen.map((r) => [r.address, r.port, r.service]), [['0.0.0.0', 6379, 'redis'], ['::', 2375, 'docker-api']]);
    assert.deepEqual([s('PermitRootLogin')!.value, s('PermitRootLogin')!.source, s('PermitRootLogin')!.isDefault], ['yes', '/etc/ssh/sshd_config.d/00-cloud.conf', false]);
    assert.deepEqual([s('PermitEmptyPasswords')!.value, s('PermitEmptyPasswords')!.isDefault], ['no', true]);
    assert.equal(rows.find((r) => r.setting === 'ForceCommand' && r.match === 'User backup')!.value, '/bin/sh');
    assert.equal(rows.filter((r) => r.setting === 'audit.rule').length, 2);
    assert.equal(s('selinux.config.SELINUX')!.value, 'permissive');
    assert.equal(s('lockdown'), undefined, 'no /sys facts invented for an image');
  });

  test('exposure without --proc: configuration only', async (t) => {
    const { rows, status } = await run(t, exposureCollector, { root: fx.root });
    assert.equal(status, 'ok');
    assert.ok(!rows.some((r) => r.area === 'kernel' || r.area === 'listen'));
    assert.ok(rows.some((r) => r.area === 'sshd'));
  });

  test('file-attributes on --root: nothing checked, and it says so', async (t) => {
    const { rows, manifest } = await run(t, fileAttributesCollector, { root: fx.root });
    assert.equal(rows.length, 0);
    assert.ok(manifest.errors.some((e) => e.collector === 'file-attributes' && e.code === 'ENOTCHECKED'));
  });

  test('bodyfile: none by default; every entry of /tmp with hostile names kept on one line', async (t) => {
    assert.equal((await run(t, bodyfileCollector, { root: fx.root })).rows.length, 0);
    const { rows } = await run(t, bodyfileCollector, { root: fx.root, settings: { bodyfile: ['/tmp', '/dev/shm'] } });
    for (const r of rows) assert.equal((r.line as string).split('|').length, 11);
    const nl = rows.find((r) => r.path === '/tmp/new\nline.txt')!;
    assert.ok((nl.line as string).includes('/tmp/new\\x0aline.txt'));
    const loop = rows.find((r) => r.path === '/tmp/loop-a')!;
    assert.equal(parseBodyfileLine(loop.line as string)!.name.toString(), '/tmp/loop-a -> loop-b');
    assert.ok((rows.find((r) => r.path === '/tmp/sh')!.line as string).includes('|-rwsr-xr-x|0|0|'));
    assert.equal(rows.find((r) => r.path === '/tmp/stomped')!.mtime, 1577836800);
    assert.ok(rows.some((r) => r.path === '/dev/shm/.x'));
  });
});

test('packages: a list of 40,000 files is read a slice at a time; a bad line and a replaced binary near its end are found by their line and path', async (t) => {
  const root = path.join(tempDir(t, 'goldhour-fp-big-'), 'root');
  const put = (rel: string, data: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), data);
  };
  const md5 = (d: string) => createHash('md5').update(d).digest('hex');
  put('var/lib/dpkg/status', 'Package: big\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n');
  put('usr/bin/tool', 'replaced\n');
  put('usr/lib/libbig.so.1', 'library\n');
  const lines = Array.from({ length: 40_000 }, (_, i) => `${md5(String(i))}  usr/share/doc/big/page-${i}.html`);
  lines[29_999] = 'not an md5 line';
  lines.push(`${md5('original tool\n')}  usr/bin/tool`, `${md5('library\n')}  usr/lib/libbig.so.1`);
  put('var/lib/dpkg/info/big.md5sums', `${lines.join('\n')}\n`);
  const { rows, manifest } = await run(t, packagesCollector, { root });
  const pkg = rows.find((r) => r.kind === 'package')!;
  assert.deepEqual([pkg.filesChecked, pkg.filesChanged], [2, 1], 'only the two files in the default scope are checked');
  assert.deepEqual(rows.filter((r) => r.kind === 'file').map((r) => [r.path, r.result]), [['/usr/bin/tool', 'changed']]);
  assert.deepEqual(manifest.errors.filter((e) => e.code === 'EPARSE').map((e) => e.message), ['1 line(s) do not parse, first at line 30000']);
  assert.ok(manifest.artifacts.some((a) => a.source === '/var/lib/dpkg/info/big.md5sums'), 'the list the change was judged against is kept');
});

describe('live on this machine', () => {
  test('temp-files: a hidden ELF in /dev/shm, a FIFO and hostile names in /tmp', async (t) => {
    const shm = tempDirIn('/dev/shm', t);
    const tmp = tempDir(t, 'goldhour-fp-live-');
    copyFileSync(ELF_SOURCE, path.join(shm, '.hidden'));
    writeFileSync(path.join(tmp, 'two\nlines'), 'x');
    writeFileSync(Buffer.from(`${tmp}/\xff`, 'latin1'), 'x');
    spawnSync('mkfifo', [path.join(tmp, 'fifo')]);
    const { rows, ms, status } = await run(t, tempFilesCollector);
    t.diagnostic(`temp-files live: ${ms} ms, ${rows.length} rows`);
    assert.equal(status, 'ok');
    const hidden = rows.find((r) => r.path === path.join(shm, '.hidden'))!;
    assert.deepEqual([hidden.contentKind, hidden.sha256, hidden.hidden], ['elf', elfHash, true]);
    assert.equal(rows.find((r) => r.path === path.join(tmp, 'fifo'))!.type, 'fifo');
    assert.ok(rows.some((r) => r.path === path.join(tmp, 'two\nlines')));
    assert.ok(rows.some((r) => r.path === `${tmp}/%FF`));
  });

  test('file-scan: a set-uid shell copy, a capability-bearing copy and a file dropped into /var/spool, across the local filesystems (timed)', async (t) => {
    const dir = tempDir(t, 'goldhour-fp-live-');
    const suid = path.join(dir, 'dash');
    copyFileSync('/usr/bin/dash', suid);
    spawnSync('chmod', ['4755', suid]);
    const capped = path.join(dir, 'ping-copy');
    copyFileSync(ELF_SOURCE, capped);
    const setcap = spawnSync('/usr/sbin/setcap', ['cap_net_raw+ep', capped]);
    const planted = `/var/spool/goldhour-fp-${process.pid}`;
    writeFileSync(planted, '#!/bin/sh\nid\n');
    t.after(() => rmSync(planted, { force: true }));
    const { rows, ms, status, manifest } = await run(t, fileScanCollector);
    t.diagnostic(`file-scan live: ${ms} ms, ${rows.length} rows, ${manifest.tools.length} getcap run(s)`);
    assert.equal(status, 'ok');
    assert.ok((rows.find((r) => r.path === suid)!.reasons as string[]).includes('setuid'));
    assert.deepEqual(rows.find((r) => r.path === planted)!.reasons, ['recent']);
    assert.equal(rows.find((r) => r.path === planted)!.contentKind, 'script');
    if (setcap.status === 0) {
      const c = rows.find((r) => r.path === capped)!;
      assert.deepEqual([c.reasons, c.capabilities, c.capabilitiesChecked], [['capabilities'], 'cap_net_raw=ep', true]);
    } else t.diagnostic('setcap not available: capability check not exercised');
  });

  test('packages: this Debian host\'s default scope (timed)', async (t) => {
    const { rows, ms, status } = await run(t, packagesCollector);
    const pkgs = rows.filter((r) => r.kind === 'package');
    const checked = pkgs.reduce((n, r) => n + ((r.filesChecked as number | null) ?? 0), 0);
    t.diagnostic(`packages live: ${ms} ms, ${pkgs.length} packages, ${checked} files checked, ${rows.length - pkgs.length} differ`);
    assert.equal(status, 'ok');
    assert.ok(pkgs.some((p) => p.package === 'dpkg'));
    assert.ok(checked > 500);
  });

  test('exposure: a listener on every address is listed with its service, a loopback one is not', async (t) => {
    const open = (host: string) => new Promise<net.Server>((resolve) => {
      const s = net.createServer();
      s.listen(0, host, () => resolve(s));
    });
    const wide = await open('0.0.0.0');
    const local = await open('127.0.0.1');
    t.after(() => {
      wide.close();
      local.close();
    });
    const port = (s: net.Server) => (s.address() as net.AddressInfo).port;
    const { rows, ms, status } = await run(t, exposureCollector);
    t.diagnostic(`exposure live: ${ms} ms, ${rows.length} rows`);
    assert.equal(status, 'ok');
    assert.ok(rows.some((r) => r.area === 'listen' && r.port === port(wide) && r.address === '0.0.0.0'));
    assert.ok(!rows.some((r) => r.area === 'listen' && r.port === port(local)));
    assert.ok(rows.some((r) => r.setting === 'kernel.tainted'));
  });

  test('file-attributes: flags of the account files, with lsattr recorded', async (t) => {
    const { rows, ms, status, manifest } = await run(t, fileAttributesCollector);
    t.diagnostic(`file-attributes live: ${ms} ms, ${rows.length} rows`);
    assert.equal(status, 'ok');
    const passwd = rows.find((r) => r.path === '/etc/passwd')!;
    assert.equal(typeof passwd.flags, 'string');
    assert.equal(passwd.immutable, false);
    assert.ok(manifest.tools.some((x) => x.path.endsWith('/lsattr') && x.sha256));
  });

  test('containers and bodyfile run live', async (t) => {
    const c = await run(t, containersCollector);
    t.diagnostic(`containers live: ${c.ms} ms, ${c.rows.length} rows`);
    assert.equal(c.status, 'ok');
    const dir = tempDir(t, 'goldhour-fp-live-');
    writeFileSync(path.join(dir, 'a|b'), 'x');
    const b = await run(t, bodyfileCollector, { settings: { bodyfile: [dir] } });
    assert.equal(b.status, 'ok');
    assert.ok((b.rows.find((r) => r.path === path.join(dir, 'a|b'))!.line as string).includes('a\\x7cb'));
  });
});

function tempDirIn(parent: string, t: { after(fn: () => void): void }): string {
  const d = path.join(parent, `goldhour-fp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(d);
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
