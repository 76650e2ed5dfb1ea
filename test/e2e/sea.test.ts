/**
 * End-to-end test of the single-file executable dist/goldhour (a Node SEA built by
 * `npm run build:sea`): it must run with no node on PATH, inside a chroot that holds
 * nothing but the executable and the C libraries it links against, as a uid without a
 * passwd entry and without HOME, and it must ignore NODE_OPTIONS.
 *
 * When dist/goldhour is missing this file fails under CI=true and skips otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT, runCli, tempDir } from '../helpers.js';

const SEA = path.join(PROJECT, 'dist', 'goldhour');
const BUILD_INFO = path.join(PROJECT, 'dist', 'goldhour.build.json');
const VERSION = (JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { version: string }).version;
const present = existsSync(SEA);
const missing = 'dist/goldhour is missing: run `npm run build:sea` first';
const skip = present ? false : missing;
const NODEISH = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);
const TIMEOUT = 120_000;

interface ToolSection {
  name: string;
  version: string;
  executable: string;
  sha256: string | null;
  codeSha256: string | null;
  node: string;
  singleFile: boolean;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The Node version inside dist/goldhour, from its --version line. */
async function embeddedNode(): Promise<string> {
  const r = await runCli(['--version'], { exe: SEA, env: {} });
  const m = /^goldhour\/\S+ linux-x64 node-(v\d+\.\d+\.\d+)\n$/.exec(r.stdout.toString());
  assert.ok(m, `unexpected --version output ${JSON.stringify(r.stdout.toString())}`);
  return m[1]!;
}

function assertTool(tool: ToolSection, executable: string, node: string): void {
  assert.equal(tool.singleFile, true);
  assert.equal(tool.sha256, sha256(SEA));
  assert.equal(tool.node, node);
  assert.equal(tool.version, VERSION);
  assert.equal(tool.executable, executable);
  assert.equal(tool.codeSha256, null);
}

/**
 * A PATH with the usual directories but no node: a directory that holds node (here
 * /usr/bin) is replaced by a directory of symlinks to everything else in it.
 */
function pathWithoutNode(t: { after(fn: () => void): void }): string {
  const base = tempDir(t, 'goldhour-sea-path-');
  const seen = new Set<string>();
  const dirs: string[] = [];
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!existsSync(dir)) continue;
    const real = realpathSync(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    const names = readdirSync(real);
    if (!names.some((n) => NODEISH.has(n))) {
      dirs.push(real);
      continue;
    }
    const farm = path.join(base, real.replace(/\//g, '_'));
    mkdirSync(farm);
    for (const n of names) {
      if (NODEISH.has(n)) continue;
      symlinkSync(path.join(real, n), path.join(farm, n));
    }
    dirs.push(farm);
  }
  const PATH = dirs.join(':');
  const which = spawnSync('/bin/sh', ['-c', 'command -v node || command -v nodejs'], { env: { PATH }, encoding: 'utf8' });
  assert.notEqual(which.status, 0, `node is still on PATH ${PATH}: ${which.stdout}`);
  return PATH;
}

/**
 * A chroot holding only /goldhour plus the ELF interpreter and shared libraries it links
 * against (glibc, libstdc++: the official Node binaries are dynamically linked, so no
 * executable made from them runs without these; every target host has them). No node,
 * no /proc, no /etc (so no passwd entry for anyone), no /tmp, no HOME.
 */
function emptyChroot(t: { after(fn: () => void): void }): string {
  const root = tempDir(t, 'goldhour-sea-chroot-');
  chmodSync(root, 0o755);
  copyFileSync(SEA, path.join(root, 'goldhour'));
  chmodSync(path.join(root, 'goldhour'), 0o755);
  const ldd = spawnSync('ldd', [SEA], { encoding: 'utf8' });
  assert.equal(ldd.status, 0, `ldd ${SEA}: ${ldd.stderr}`);
  const libs = [...ldd.stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
  assert.ok(libs.some((l) => l.includes('ld-linux')), `no ELF interpreter in ldd output:\n${ldd.stdout}`);
  for (const lib of libs) {
    const dest = path.join(root, lib);
    mkdirSync(path.dirname(dest), { recursive: true });
    copyFileSync(realpathSync(lib), dest);
    chmodSync(dest, 0o755);
  }
  return root;
}

function chrootBinary(): string | null {
  for (const p of ['/usr/sbin/chroot', '/sbin/chroot', '/usr/bin/chroot']) if (existsSync(p)) return p;
  return null;
}

test('dist/goldhour is built', (t) => {
  if (present) return;
  if (process.env.CI === 'true') assert.fail(`${missing} (.ci/run does this after npm run build)`);
  t.skip(`${missing} (under CI=true this test fails)`);
});

test('--version and --help work from the executable, with an empty environment', { skip, timeout: TIMEOUT }, async (t) => {
  const cwd = tempDir(t, 'goldhour-sea-cwd-');
  const v = await runCli(['--version'], { exe: SEA, env: {}, cwd });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stderr, '');
  assert.match(v.stdout.toString(), new RegExp(`^goldhour/${VERSION.replace(/\./g, '\\.')} linux-x64 node-v\\d+\\.\\d+\\.\\d+\\n$`));

  const h = await runCli(['--help'], { exe: SEA, env: {}, cwd });
  assert.equal(h.code, 0, h.stderr);
  const help = h.stdout.toString();
  assert.match(help, /^COMMANDS$/m);
  for (const cmd of ['triage', 'verify']) assert.match(help, new RegExp(`^  ${cmd} `, 'm'));

  const th = await runCli(['triage', '--help'], { exe: SEA, env: {}, cwd });
  assert.equal(th.code, 0, th.stderr);
  assert.match(th.stdout.toString(), /^USAGE\n {2}\$ goldhour triage /m);
});

test('the embedded node is the one the build recorded, and new enough to refuse NODE_OPTIONS', { skip }, async () => {
  const node = await embeddedNode();
  assert.ok(Number(node.slice(1).split('.')[0]) >= 22, `${node}: SEAs before Node 22 obey NODE_OPTIONS`);
  if (existsSync(BUILD_INFO)) {
    const info = JSON.parse(readFileSync(BUILD_INFO, 'utf8')) as { sha256: string; node: { version: string } };
    assert.equal(info.node.version, node);
    assert.equal(info.sha256, sha256(SEA), 'dist/goldhour.build.json describes another build');
  }
});

test('NODE_OPTIONS=--require is not honoured', { skip, timeout: TIMEOUT }, async (t) => {
  const dir = tempDir(t, 'goldhour-sea-evil-');
  const marker = path.join(dir, 'ran');
  const evil = path.join(dir, 'evil.cjs');
  writeFileSync(evil, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x'); process.stderr.write('EVIL RAN\\n');\n`);
  const env = { PATH: '/usr/bin:/bin', NODE_OPTIONS: `--require ${evil}` };

  // Control: the payload works where NODE_OPTIONS is obeyed (plain node).
  const control = spawnSync(process.execPath, ['-e', ''], { env, encoding: 'utf8' });
  assert.equal(control.status, 0, control.stderr);
  assert.ok(existsSync(marker), 'control: node did not run the --require payload');
  rmSync(marker);

  for (const args of [['--version'], ['verify', '--help']]) {
    const r = await runCli(args, { exe: SEA, env, cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EVIL/);
    assert.equal(existsSync(marker), false, `dist/goldhour ${args.join(' ')} ran the NODE_OPTIONS --require payload`);
  }
});

test('triage --out and verify run with no node on PATH and no HOME', { skip, timeout: TIMEOUT }, async (t) => {
  const PATH = pathWithoutNode(t);
  const node = await embeddedNode();
  const dir = tempDir(t, 'goldhour-sea-case-');
  const out = path.join(dir, 'case');
  const env = { PATH };

  const tri = await runCli(['triage', '--out', out], { exe: SEA, env, cwd: dir });
  assert.equal(tri.code, 0, tri.stderr);
  assert.match(tri.stderr, /complete bundle/);

  const ver = await runCli(['verify', out], { exe: SEA, env, cwd: dir });
  assert.equal(ver.code, 0, `${ver.stdout.toString()}\n${ver.stderr}`);
  assert.match(ver.stdout.toString(), /^INTACT {2}dir,/);

  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { tool: ToolSection };
  assertTool(manifest.tool, realpathSync(SEA), node);
});

test('runs in an empty chroot under env -i, as a uid with no passwd entry', { skip, timeout: TIMEOUT }, async (t) => {
  const chroot = chrootBinary();
  if (process.getuid?.() !== 0 || !chroot) {
    if (process.env.CI === 'true') assert.fail('the chroot test needs root and chroot(8) (coreutils)');
    t.skip('needs root and chroot(8)');
    return;
  }
  const root = emptyChroot(t);
  const node = await embeddedNode();
  const dir = tempDir(t, 'goldhour-sea-chroot-out-');

  for (const user of [[], ['--userspec=4242:4242']]) {
    const who = user.length ? 'uid 4242' : 'root';
    const v = await runCli([...user, root, '/goldhour', '--version'], { exe: chroot, env: {}, cwd: dir });
    assert.equal(v.code, 0, `${who}: ${v.stderr}`);
    assert.equal(v.stderr, '', who);
    assert.match(v.stdout.toString(), new RegExp(`^goldhour/\\S+ linux-x64 node-${node.replace(/\./g, '\\.')}\\n$`), who);

    const tri = await runCli([...user, root, '/goldhour', 'triage', '--stdout', '--only', 'system'], { exe: chroot, env: {}, cwd: dir });
    assert.equal(tri.code, 0, `${who}: ${tri.stderr}`);
    assert.ok(tri.stdout.length > 0, `${who}: no bundle on stdout`);
    const tar = path.join(dir, `${who.replace(/\W/g, '')}.tar`);
    writeFileSync(tar, tri.stdout);

    const ver = await runCli(['verify', tar, '--json'], { exe: SEA, env: {}, cwd: dir });
    assert.equal(ver.code, 0, `${who}: ${ver.stdout.toString()}\n${ver.stderr}`);
    const report = JSON.parse(ver.stdout.toString()) as { status: string; container: string };
    assert.equal(report.status, 'intact', who);
    assert.equal(report.container, 'tar', who);

    const m = spawnSync('tar', ['-xOf', tar, 'manifest.json'], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    assertTool((JSON.parse(m.stdout) as { tool: ToolSection }).tool, '/goldhour', node);
  }
});
