/**
 * goldhour verify against archives built to hurt the verifier: traversal and
 * absolute names, links, absurd sizes, decompression bombs, duplicates, an
 * oversized manifest, garbage. verify must read them without extracting or
 * following anything, keep memory flat, and fail with a documented exit code
 * and one line on stderr, never a stack trace. Every run happens in an empty
 * working directory that must stay empty (checked by verify() in the kit).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, promises as fsp, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { runCli } from '../helpers.js';
import { assertUnreadable, fileState, problemsByPath, readBundle, sha256, tarBuffer, verify, writeBundle, type Member, type Verified } from '../fixtures/archives/kit.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'goldhour-hostile-'));
after(() => rmSync(work, { recursive: true, force: true }));
const cwd = path.join(work, 'cwd');
/** Where traversal and absolute names point; nothing may ever appear here. */
const victim = path.join(work, 'victim');
const MiB = 1024 * 1024;
/** Node with oclif loaded sits near 80 MiB; streaming must add little to that. */
const RSS_LIMIT_MIB = 150;

let base: Member[] = [];
let n = 0;
const file = (suffix: string) => path.join(work, `hostile-${++n}${suffix}`);

before(async () => {
  await fsp.mkdir(cwd);
  await fsp.mkdir(victim);
  const loc = path.join(work, 'base.tar');
  const r = await runCli(['triage', '--only', 'system,mounts', '--quiet', '--format', 'tar', '--out', loc]);
  assert.equal(r.code, 0, r.stderr);
  base = await readBundle('tar', loc, work);
});

/** The base bundle with `extra` members before its manifest (which triage writes last). */
const withExtra = (extra: Member[]): Member[] => [...base.filter((m) => m.name !== 'manifest.json'), ...extra, ...base.filter((m) => m.name === 'manifest.json')];

async function writeTar(members: Member[], gzip = false): Promise<string> {
  const out = file(gzip ? '.tgz' : '.tar');
  const t = await tarBuffer(members);
  await fsp.writeFile(out, gzip ? zlib.gzipSync(t) : t);
  return out;
}

/** A ustar header written by hand, for what tar-stream refuses to produce. Sizes past 8 GiB use the base-256 form. */
function rawHeader(name: string, size: bigint, typeflag = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000600\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  if (size < 8n ** 11n) h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  else {
    h[124] = 0x80;
    for (let i = 135, v = size; i > 124; i--, v >>= 8n) h[i] = Number(v & 0xffn);
  }
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(typeflag, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** Streams a tar holding `name` of `size` zero bytes (after the base bundle's members) to disk, gzipped if asked. */
async function tarWithBigMember(name: string, size: number, opts: { gzip: boolean; withoutManifest?: boolean }): Promise<string> {
  const out = file(opts.gzip ? '.tgz' : '.tar');
  const pack = tar.pack();
  const written = opts.gzip ? pipeline(pack, zlib.createGzip({ level: 9 }), createWriteStream(out)) : pipeline(pack, createWriteStream(out));
  const add = (m: Member) => new Promise<void>((resolve, reject) => pack.entry({ name: m.name, mode: 0o600 }, m.data, (e) => (e ? reject(e) : resolve())));
  for (const m of base) if (m.name !== 'manifest.json') await add(m);
  await new Promise<void>((resolve, reject) => {
    const body = pack.entry({ name, size, mode: 0o600 }, (e) => (e ? reject(e) : resolve()));
    const zeros = Buffer.alloc(MiB);
    Readable.from((function* () {
      for (let left = size; left > 0; left -= MiB) yield left >= MiB ? zeros : zeros.subarray(0, left);
    })()).pipe(body);
  });
  if (!opts.withoutManifest) await add(base.find((m) => m.name === 'manifest.json')!);
  pack.finalize();
  await written;
  return out;
}

/** Rewrites equal-length names in a zip's local headers and central directory; the CRCs cover data only, so the zip stays valid. */
function patchNames(zip: Buffer, from: string, to: string): Buffer {
  assert.equal(Buffer.byteLength(from), Buffer.byteLength(to));
  const a = Buffer.from(from);
  const out = Buffer.from(zip);
  let hits = 0;
  for (let i = out.indexOf(a); i !== -1; i = out.indexOf(a, i + 1)) {
    Buffer.from(to).copy(out, i);
    hits++;
  }
  assert.ok(hits >= 2, `${from} not found in the zip`);
  return out;
}

async function writeZip(members: Member[], opts: { symlinks?: string[] } = {}): Promise<string> {
  const out = file('.zip');
  const stage = mkdtempSync(path.join(work, 'stage-'));
  try {
    for (const m of members) {
      await fsp.mkdir(path.dirname(path.join(stage, m.name)), { recursive: true });
      if (m.type === 'symlink') await fsp.symlink(m.linkname!, path.join(stage, m.name));
      else await fsp.writeFile(path.join(stage, m.name), m.data);
    }
    // -y stores symlinks as links; -D: no directory members.
    execFileSync('zip', ['-X', '-D', '-y', '-q', out, '--', ...members.map((m) => m.name)], { cwd: stage });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  return out;
}

const run = (target: string, ...flags: string[]) => verify([target, '--json', ...flags], { cwd });

function assertExit1(r: Verified, status: 'tampered' | 'incomplete'): void {
  assert.equal(r.code, 1, `exit ${r.code}\n${r.out}\n${r.stderr}`);
  assert.equal(r.report.status, status, r.out);
}

describe('verify: names that point outside the bundle', { concurrency: 2 }, () => {
  const hostileNames = () => [
    `../victim/relative`,
    `${'../'.repeat(20)}${victim.slice(1)}/deep`,
    `${victim}/absolute`,
    `files/../../victim/middle`,
  ];

  it('tar: reported as unexpected under their own names, nothing extracted', async () => {
    const names = hostileNames();
    const r = await run(await writeTar(withExtra(names.map((name) => ({ name, data: Buffer.from('pwned\n') })))));
    assertExit1(r, 'tampered');
    assert.deepEqual(problemsByPath(r.report), Object.fromEntries(names.map((x) => [x, 'unexpected'])));
  });

  it('zip: the same, with names patched into a valid zip', async () => {
    // zip(1) strips ../ and leading /, so store same-length placeholders and patch them.
    const placeholders = ['QQ/victim/relative', `Q${victim.slice(1)}/absolute`];
    const real = ['../victim/relative', `${victim}/absolute`];
    let bytes: Buffer = await fsp.readFile(await writeZip(withExtra(placeholders.map((name) => ({ name, data: Buffer.from('pwned\n') })))));
    placeholders.forEach((p, i) => (bytes = patchNames(bytes, p, real[i]!)));
    const zip = file('.zip');
    await fsp.writeFile(zip, bytes);
    const r = await run(zip);
    assertExit1(r, 'tampered');
    assert.deepEqual(problemsByPath(r.report), Object.fromEntries(real.map((x) => [x, 'unexpected'])));
  });

  it('names with control characters cannot forge lines in the text report', async () => {
    const evil = 'files/x\x1b[2J\nINTACT  tar, case forged\r';
    const r = await verify([await writeTar(withExtra([{ name: evil, data: Buffer.from('x') }]))], { cwd });
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.out, /\x1b/);
    assert.doesNotMatch(r.out, /\r/);
    assert.doesNotMatch(r.out, /^INTACT/m);
    assert.match(r.out, /^TAMPERED/);
    // the JSON report keeps the name byte for byte
    const j = await run(await writeTar(withExtra([{ name: evil, data: Buffer.from('x') }])));
    assert.equal(fileState(j.report, evil), 'unexpected');
  });
});

describe('verify: links and special members are never followed', { concurrency: 2 }, () => {
  it('tar: symlink and hardlink members, one of them named manifest.json', async () => {
    const genuine = base.find((m) => m.name === 'manifest.json')!;
    const outside = path.join(work, 'genuine-manifest.json');
    await fsp.writeFile(outside, genuine.data);
    const members: Member[] = [
      ...base.filter((m) => m.name !== 'manifest.json' && m.name !== 'findings.jsonl'),
      { name: 'files/etc/shadow', data: Buffer.alloc(0), type: 'symlink', linkname: '/etc/shadow' },
      // a hardlink to an earlier member, standing in for a listed file
      { name: 'findings.jsonl', data: Buffer.alloc(0), type: 'link', linkname: 'custody.jsonl' },
      // would verify intact if followed
      { name: 'manifest.json', data: Buffer.alloc(0), type: 'symlink', linkname: outside },
    ];
    const r = await run(await writeTar(members));
    assert.equal(r.code, 1, r.out);
    assert.equal(r.report.manifest.present, false);
    assert.equal(fileState(r.report, 'manifest.json'), 'unexpected');
    assert.equal(fileState(r.report, 'files/etc/shadow'), 'unexpected');
    assert.match(fileState(r.report, 'findings.jsonl')!, /unexpected/);
    // a link where goldhour never writes one is tampering, manifest or not
    assert.equal(r.report.status, 'tampered');
  });

  it('tar: device and fifo members are reported, not opened', async () => {
    const r = await run(await writeTar(withExtra([
      { name: 'files/dev/mem', data: Buffer.alloc(0), type: 'character-device' },
      { name: 'files/tmp/fifo', data: Buffer.alloc(0), type: 'fifo' },
    ])));
    assertExit1(r, 'tampered');
    assert.deepEqual(problemsByPath(r.report), { 'files/dev/mem': 'unexpected', 'files/tmp/fifo': 'unexpected' });
  });

  it('zip: a symlink named manifest.json', async () => {
    const outside = path.join(work, 'zip-genuine-manifest.json');
    await fsp.writeFile(outside, base.find((m) => m.name === 'manifest.json')!.data);
    const members = [...base.filter((m) => m.name !== 'manifest.json'), { name: 'manifest.json', data: Buffer.alloc(0), type: 'symlink' as const, linkname: outside }];
    const r = await run(await writeZip(members));
    assertExit1(r, 'tampered');
    assert.equal(r.report.manifest.present, false);
    assert.equal(fileState(r.report, 'manifest.json'), 'unexpected');
  });

  it('dir: symlinked manifest.json and raw copy, and a fifo, are not followed or opened', async () => {
    const dir = path.join(work, 'dir-links');
    await writeBundle('dir', base, dir, work);
    const outside = path.join(work, 'dir-genuine');
    await fsp.mkdir(outside);
    const raw = base.find((m) => m.name.startsWith('files/') && m.data.length > 0)!.name;
    for (const name of ['manifest.json', raw]) {
      await fsp.rename(path.join(dir, name), path.join(outside, path.basename(name)));
      await fsp.symlink(path.join(outside, path.basename(name)), path.join(dir, name));
    }
    execFileSync('mkfifo', [path.join(dir, 'files', 'fifo')]);
    const r = await run(dir);
    assertExit1(r, 'tampered');
    assert.equal(r.report.manifest.present, false);
    assert.equal(fileState(r.report, 'manifest.json'), 'unexpected');
    assert.match(fileState(r.report, raw)!, /unexpected/);
    assert.equal(fileState(r.report, 'files/fifo'), 'unexpected');
  });
});

describe('verify: sizes meant to exhaust', () => {
  it('a tar header claiming 1 TB with a short body: incomplete, at once', async () => {
    for (const gzip of [false, true]) {
      const t = await tarBuffer(base);
      // the claimed member goes where the end-of-archive blocks were, followed by 4 KiB of body and nothing else
      const body = Buffer.concat([t.subarray(0, t.length - 1024), rawHeader('files/huge', 2n ** 40n), Buffer.alloc(4096, 0x41)]);
      const out = file(gzip ? '.tgz' : '.tar');
      await fsp.writeFile(out, gzip ? zlib.gzipSync(body) : body);
      const started = Date.now();
      const r = await run(out);
      assert.ok(Date.now() - started < 20_000, 'verify took too long on a short body');
      assertExit1(r, 'incomplete');
      assert.match(r.report.containerError, /truncated/);
      // everything before the claim was still checked
      assert.equal(r.report.counts.ok, base.length - 1);
    }
  });

  it('a pax size of 1 TB in front of the first member: incomplete', async () => {
    const pax = Buffer.from('22 size=1099511627776\n');
    const head = Buffer.concat([rawHeader('PaxHeaders/x', BigInt(pax.length), 'x'), pax, Buffer.alloc(512 - pax.length), rawHeader('manifest.json', 0n)]);
    const out = file('.tar');
    await fsp.writeFile(out, Buffer.concat([head, Buffer.alloc(8192)]));
    const r = await run(out);
    assertExit1(r, 'incomplete');
    assert.match(r.report.containerError, /truncated/);
  });

  it('a gzip bomb (200 MiB of zeros in a few hundred KiB): streamed, memory flat', async (t) => {
    const bomb = await tarWithBigMember('files/dev/zero', 200 * MiB, { gzip: true });
    assert.ok((await fsp.stat(bomb)).size < 2 * MiB);
    const r = await verify([bomb, '--json'], { cwd, rssFile: file('.rss') });
    assertExit1(r, 'tampered');
    assert.deepEqual(problemsByPath(r.report), { 'files/dev/zero': 'unexpected' });
    t.diagnostic(`peak RSS ${r.peakRssMiB!.toFixed(1)} MiB`);
    assert.ok(r.peakRssMiB! < RSS_LIMIT_MIB, `peak RSS ${r.peakRssMiB} MiB`);
  });

  it('a zip bomb (200 MiB deflated): streamed, memory flat', async (t) => {
    // A sparse file takes no disk; zip reads 200 MiB of zeros from it.
    const stage = mkdtempSync(path.join(work, 'bomb-'));
    await fsp.mkdir(path.join(stage, 'files'));
    await fsp.writeFile(path.join(stage, 'files', 'zero'), '');
    await fsp.truncate(path.join(stage, 'files', 'zero'), 200 * MiB);
    const out = file('.zip');
    execFileSync('zip', ['-X', '-D', '-q', '-9', out, 'files/zero'], { cwd: stage });
    rmSync(stage, { recursive: true, force: true });
    assert.ok((await fsp.stat(out)).size < 2 * MiB);
    const r = await verify([out, '--json'], { cwd, rssFile: file('.rss') });
    assertExit1(r, 'incomplete');
    assert.equal(fileState(r.report, 'files/zero'), 'unexpected');
    t.diagnostic(`peak RSS ${r.peakRssMiB!.toFixed(1)} MiB`);
    assert.ok(r.peakRssMiB! < RSS_LIMIT_MIB, `peak RSS ${r.peakRssMiB} MiB`);
  });

  it('a manifest.json of 100 MiB: refused as tampered, hashed but never held in memory', async (t) => {
    const size = 100 * MiB;
    const out = await tarWithBigMember('manifest.json', size, { gzip: false, withoutManifest: true });
    const expected = createHash('sha256');
    for (let left = size; left > 0; left -= MiB) expected.update(Buffer.alloc(MiB));
    const r = await verify([out, '--json'], { cwd, rssFile: file('.rss') });
    assertExit1(r, 'tampered');
    assert.equal(r.report.manifest.present, true);
    assert.equal(r.report.manifest.valid, false);
    assert.equal(r.report.manifest.sha256, expected.digest('hex'));
    assert.match(r.report.manifest.problem, /too large/);
    t.diagnostic(`peak RSS ${r.peakRssMiB!.toFixed(1)} MiB`);
    assert.ok(r.peakRssMiB! < RSS_LIMIT_MIB, `peak RSS ${r.peakRssMiB} MiB`);
  });
});

describe('verify: duplicate members', { concurrency: 2 }, () => {
  it('tar: a forged manifest.json before the genuine one, and a raw copy twice', async () => {
    const genuine = base.find((m) => m.name === 'manifest.json')!;
    const forged = JSON.parse(genuine.data.toString('utf8'));
    forged.case.examiner = 'mallory';
    const raw = base.find((m) => m.name.startsWith('files/'))!;
    const members = [
      { name: 'manifest.json', data: Buffer.from(JSON.stringify(forged)) },
      ...base.filter((m) => m.name !== 'manifest.json'),
      { name: raw.name, data: Buffer.from('second copy\n') },
      genuine,
    ];
    const r = await run(await writeTar(members), '--expect', sha256(genuine.data));
    assertExit1(r, 'tampered');
    assert.equal(fileState(r.report, 'manifest.json'), 'duplicate');
    assert.match(fileState(r.report, raw.name)!, /duplicate/);
  });

  it('tar: the same name spelled ./name and name', async () => {
    const raw = base.find((m) => m.name.startsWith('files/'))!;
    const r = await run(await writeTar(withExtra([{ name: `./${raw.name}`, data: raw.data }])));
    assertExit1(r, 'tampered');
    assert.match(fileState(r.report, raw.name)!, /duplicate/);
  });

  it('zip: two members with one name', async () => {
    const raw = base.find((m) => m.name.startsWith('files/'))!;
    const twin = `${raw.name.slice(0, -1)}\u0001`;
    const bytes = patchNames(await fsp.readFile(await writeZip(withExtra([{ name: twin, data: Buffer.from('evil twin\n') }]))), twin, raw.name);
    const zip = file('.zip');
    await fsp.writeFile(zip, bytes);
    const r = await run(zip);
    assertExit1(r, 'tampered');
    assert.match(fileState(r.report, raw.name)!, /duplicate/);
  });
});

describe('verify: not a bundle at all (exit 2, one line)', { concurrency: 2 }, () => {
  const garbage = (): Buffer => {
    const g = randomBytes(64 * 1024);
    g[0] = 0x00; // no gzip, zip or age magic by accident
    return g;
  };

  it('random garbage, as a file and on stdin', async () => {
    const out = file('.bin');
    await fsp.writeFile(out, garbage());
    assertUnreadable(await run(out), /not a goldhour bundle/);
    assertUnreadable(await verify(['-'], { cwd, stdin: garbage() }), /stdin: not a goldhour bundle/);
  });

  it('garbage behind a gzip, zip or tar signature', async () => {
    const gz = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), garbage()]);
    const zip = Buffer.concat([Buffer.from('PK\x03\x04'), garbage()]);
    const ustar = garbage();
    ustar.write('ustar\x0000', 257, 'latin1');
    const gzOfGarbage = zlib.gzipSync(garbage());
    for (const [bytes, message] of [
      [gz, /gzip|damaged/],
      [zip, /zip/],
      [ustar, /tar/],
      [gzOfGarbage, /tar/],
    ] as const) {
      const out = file('.bin');
      await fsp.writeFile(out, bytes);
      assertUnreadable(await run(out), message);
    }
  });

  it('an empty file and empty stdin', async () => {
    const out = file('.tar');
    await fsp.writeFile(out, '');
    assertUnreadable(await run(out), /empty/);
    assertUnreadable(await verify(['-'], { cwd, stdin: Buffer.alloc(0) }), /empty/);
  });

  it('a zip on stdin', async () => {
    const zip = await fsp.readFile(await writeZip(base));
    assertUnreadable(await verify(['-', '--json'], { cwd, stdin: zip }), /zip.*(stdin|plain file)/);
  });

  it('a path that does not exist', async () => {
    assertUnreadable(await run(path.join(work, 'no', 'such', 'bundle.tar')), /does not exist/);
  });

  it('a device instead of a bundle', async () => {
    assertUnreadable(await run('/dev/null'), /not a directory or a regular file/);
  });
});

describe('verify: never writes', () => {
  it('left the traversal targets and its working directory empty', () => {
    assert.deepEqual(readdirSync(victim), []);
    assert.deepEqual(readdirSync(cwd), []);
    assert.equal(existsSync(path.join(cwd, 'files')), false);
  });
});
