/**
 * goldhour verify against tampered bundles, for every container triage writes
 * (dir, tar, tgz, zip and the --stdout tar stream read back from stdin).
 *
 * Each format gets one real, signed bundle from triage. Every case reads its
 * members, changes the content the way an intruder would, and rebuilds a valid
 * container of the same format, so only the evidence is tampered, never the
 * container. An untouched rebuild must still verify intact, which shows the
 * rebuild itself changes nothing.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, promises as fsp, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { runCli } from '../helpers.js';
import { FORMATS, assertUnreadable, fileState, problemsByPath, readBundle, sha256, verify, writeBundle, type Format, type Member, type Verified } from '../fixtures/archives/kit.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'goldhour-tamper-'));
const cwd = path.join(work, 'cwd');
after(() => rmSync(work, { recursive: true, force: true }));

const signKey = path.join(work, 'sign.pem');
const pubKey = path.join(work, 'sign.pub.pem');
const otherPubKey = path.join(work, 'other.pub.pem');

before(async () => {
  await fsp.mkdir(cwd);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(signKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(pubKey, publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(otherPubKey, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
});

const TRIAGE = ['triage', '--only', 'system,mounts', '--quiet', '--sign'];
const MANIFEST = 'manifest.json';
const CUSTODY = 'custody.jsonl';
const MOUNTS = 'collectors/mounts.jsonl';

let seq = 0;

/** A triage bundle of one format: where it is and what is in it. */
interface Original {
  location: string;
  members: Member[];
  manifestSha: string;
}

async function makeBundle(format: Format): Promise<Original> {
  const location = path.join(work, format === 'stdout' ? 'stdout.tar' : `original.${format}`);
  if (format === 'stdout') {
    const r = await runCli([...TRIAGE, signKey, '--stdout']);
    assert.equal(r.code, 0, r.stderr);
    await fsp.writeFile(location, r.stdout);
  } else {
    const r = await runCli([...TRIAGE, signKey, '--format', format, '--out', location]);
    assert.equal(r.code, 0, r.stderr);
  }
  const members = await readBundle(format, location, work);
  const manifest = members.find((m) => m.name === MANIFEST);
  assert.ok(manifest, 'triage wrote no manifest.json');
  return { location, members, manifestSha: sha256(manifest.data) };
}

const made = new Map<Format, Promise<Original>>();
/** One triage run per format, shared by every case that tampers with it. */
const bundle = (format: Format): Promise<Original> => {
  if (!made.has(format)) made.set(format, makeBundle(format));
  return made.get(format)!;
};

async function rebuild(format: Format, members: Member[]): Promise<string> {
  const out = path.join(work, `tampered-${++seq}.${format === 'stdout' ? 'tar' : format}`);
  await writeBundle(format, members, out, work);
  return out;
}

async function check(format: Format, location: string, ...flags: string[]): Promise<Verified> {
  if (format === 'stdout') return verify(['-', '--json', ...flags], { cwd, stdin: await fsp.readFile(location) });
  return verify([location, '--json', ...flags], { cwd });
}

// --- edits an intruder makes ---------------------------------------------------

const clone = (ms: Member[]): Member[] => ms.map((m) => ({ ...m, data: Buffer.from(m.data) }));
const get = (ms: Member[], name: string): Member => {
  const m = ms.find((x) => x.name === name);
  assert.ok(m, `no ${name} in the bundle`);
  return m;
};
const rawCopies = (ms: Member[]): string[] => ms.filter((m) => m.name.startsWith('files/') && m.data.length > 0).map((m) => m.name);
const lines = (b: Buffer): string[] => b.toString('utf8').split('\n').slice(0, -1);
const unlines = (ls: string[]): Buffer => Buffer.from(ls.map((l) => `${l}\n`).join(''));
const manifestOf = (ms: Member[]): any => JSON.parse(get(ms, MANIFEST).data.toString('utf8'));
const setManifest = (ms: Member[], m: unknown): void => {
  get(ms, MANIFEST).data = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
};
/** What an attacker who knows the format does after changing a file: recompute its entry. */
const relist = (ms: Member[], m: any, name: string): void => {
  const a = m.artifacts.find((x: any) => x.path === name);
  a.sha256 = sha256(get(ms, name).data);
  a.size = get(ms, name).data.length;
};
const backdate = (line: string): string => JSON.stringify({ ...JSON.parse(line), at: '2001-01-01T00:00:00.000Z' });

function assertTampered(r: Verified, expect: Record<string, string>): void {
  assert.equal(r.code, 1, r.out + r.stderr);
  assert.equal(r.report.status, 'tampered');
  assert.deepEqual(problemsByPath(r.report), expect);
}

/** The manifest no longer has the hash written in the ticket, nor the signature made with the responder's key. */
function assertCaughtByTicketAndKey(r: Verified): void {
  assertTampered(r, {});
  assert.equal(r.report.expected, 'mismatch');
  assert.equal(r.report.signature, 'invalid');
}

for (const format of FORMATS) {
  // Each case starts a verify process; running three at a time keeps the file quick on two cores.
  describe(`verify: ${format} bundle`, { concurrency: 3 }, () => {
    let orig: Original;
    before(async () => {
      orig = await bundle(format);
    });

    it('as triage wrote it: intact, signature valid, manifest hash matches', async () => {
      const r = await check(format, orig.location, '--pubkey', pubKey, '--expect', orig.manifestSha);
      assert.equal(r.code, 0, r.out + r.stderr);
      assert.equal(r.report.status, 'intact');
      assert.equal(r.report.signature, 'valid');
      assert.equal(r.report.expected, 'match');
      assert.equal(r.report.custody.intact, true);
      assert.equal(r.report.custody.matchesManifest, true);
      assert.equal(r.report.manifest.sha256, orig.manifestSha);
      assert.deepEqual(problemsByPath(r.report), {});
      // every member but the manifest and its signature is listed and ok
      assert.equal(r.report.counts.ok, orig.members.length - 2);
      assert.deepEqual(r.report.problems, []);
    });

    it('rebuilt without changes: still intact (the rebuild itself tampers nothing)', async () => {
      const r = await check(format, await rebuild(format, clone(orig.members)), '--pubkey', pubKey, '--expect', orig.manifestSha);
      assert.equal(r.code, 0, r.out + r.stderr);
      assert.equal(r.report.status, 'intact');
    });

    it('one byte changed in a raw copy: modified', async () => {
      const ms = clone(orig.members);
      const name = rawCopies(ms)[0]!;
      get(ms, name).data[0]! ^= 0x01;
      const r = await check(format, await rebuild(format, ms));
      assertTampered(r, { [name]: 'modified' });
      const listed = manifestOf(orig.members).artifacts.find((a: any) => a.path === name);
      assert.equal(r.report.files.find((f: any) => f.path === name).detail, `sha256 ${sha256(get(ms, name).data)}, manifest says ${listed.sha256}`);
    });

    it('a raw copy removed: missing', async () => {
      const ms = clone(orig.members);
      const name = rawCopies(ms)[1]!;
      const r = await check(format, await rebuild(format, ms.filter((m) => m.name !== name)));
      assertTampered(r, { [name]: 'missing' });
    });

    it('a file added: unexpected', async () => {
      const ms = clone(orig.members);
      ms.splice(1, 0, { name: 'files/root/.ssh/authorized_keys', data: Buffer.from('ssh-ed25519 AAAA planted\n') });
      const r = await check(format, await rebuild(format, ms));
      assertTampered(r, { 'files/root/.ssh/authorized_keys': 'unexpected' });
    });

    it('a custody line edited (backdated): chain broken where the next line no longer carries its hash', async () => {
      const ms = clone(orig.members);
      const ls = lines(get(ms, CUSTODY).data);
      assert.ok(ls.length >= 4, 'custody log is shorter than expected');
      ls[1] = backdate(ls[1]!);
      get(ms, CUSTODY).data = unlines(ls);
      const r = await check(format, await rebuild(format, ms));
      assertTampered(r, { [CUSTODY]: 'modified' });
      // Line 2 itself still links to line 1; line 3 is the first whose `prev` fails.
      assert.equal(r.report.custody.intact, false);
      assert.equal(r.report.custody.brokenAt, 3);
      assert.match(r.report.custody.reason, /line 3 does not carry the SHA-256 of line 2: line 2 was changed/);
      assert.match(r.report.problems.join('\n'), /custody chain broken at line 3/);
    });

    it('a custody line removed from the middle: chain broken at that line', async () => {
      const ms = clone(orig.members);
      const ls = lines(get(ms, CUSTODY).data);
      ls.splice(1, 1);
      get(ms, CUSTODY).data = unlines(ls);
      const r = await check(format, await rebuild(format, ms));
      assertTampered(r, { [CUSTODY]: 'modified' });
      assert.equal(r.report.custody.intact, false);
      assert.equal(r.report.custody.brokenAt, 2);
    });

    it("the last custody line removed: the chain holds but not the manifest's count and head", async () => {
      const ms = clone(orig.members);
      const ls = lines(get(ms, CUSTODY).data);
      const n = ls.length;
      get(ms, CUSTODY).data = unlines(ls.slice(0, -1));
      const r = await check(format, await rebuild(format, ms));
      assertTampered(r, { [CUSTODY]: 'modified' });
      assert.equal(r.report.custody.intact, true);
      assert.equal(r.report.custody.lines, n - 1);
      assert.equal(r.report.custody.matchesManifest, false);
      assert.match(r.report.problems.join('\n'), new RegExp(`custody log has ${n - 1} lines, the manifest recorded ${n}`));
    });

    it('a row removed from collectors/mounts.jsonl: modified', async () => {
      const ms = clone(orig.members);
      const rows = lines(get(ms, MOUNTS).data);
      assert.ok(rows.length >= 2);
      rows.splice(rows.length >> 1, 1);
      get(ms, MOUNTS).data = unlines(rows);
      assertTampered(await check(format, await rebuild(format, ms)), { [MOUNTS]: 'modified' });
    });

    it('manifest.json edited to hide a file: unexpected, and --expect reports the mismatch', async () => {
      const ms = clone(orig.members);
      const m = manifestOf(ms);
      const hidden = rawCopies(ms)[0]!;
      m.artifacts = m.artifacts.filter((a: any) => a.path !== hidden);
      setManifest(ms, m);
      const r = await check(format, await rebuild(format, ms), '--expect', orig.manifestSha);
      assertTampered(r, { [hidden]: 'unexpected' });
      assert.equal(r.report.expected, 'mismatch');
      assert.match(r.report.problems.join('\n'), new RegExp(`is not the expected ${orig.manifestSha}`));
    });

    it('a raw copy changed and the manifest re-written consistently: only --expect or --pubkey catches it', async () => {
      const ms = clone(orig.members);
      const name = rawCopies(ms)[0]!;
      get(ms, name).data = Buffer.concat([get(ms, name).data, Buffer.from('# nothing to see here\n')]);
      const m = manifestOf(ms);
      relist(ms, m, name);
      setManifest(ms, m);
      const loc = await rebuild(format, ms);
      const alone = await check(format, loc);
      assert.equal(alone.code, 0, alone.out);
      assert.equal(alone.report.status, 'intact');
      assertCaughtByTicketAndKey(await check(format, loc, '--expect', orig.manifestSha, '--pubkey', pubKey));
    });

    it('manifest.sig removed from a signed bundle: missing, since the manifest records a signature', async () => {
      const r = await check(format, await rebuild(format, clone(orig.members).filter((m) => m.name !== 'manifest.sig')));
      assertTampered(r, { 'manifest.sig': 'missing' });
      assert.equal(r.report.signature, 'missing');
    });

    it('no manifest.json (the run never sealed): incomplete', async () => {
      const r = await check(format, await rebuild(format, clone(orig.members).filter((m) => m.name !== MANIFEST)));
      assert.equal(r.code, 1, r.out);
      assert.equal(r.report.status, 'incomplete');
      assert.equal(r.report.manifest.present, false);
      assert.match(r.report.problems.join('\n'), /no manifest\.json/);
    });

    if (format === 'tar' || format === 'tgz' || format === 'stdout') {
      it('the stream cut in half: incomplete, what was read is still checked', async () => {
        const bytes = await fsp.readFile(orig.location);
        const cut = path.join(work, `cut-${++seq}`);
        await fsp.writeFile(cut, bytes.subarray(0, bytes.length >> 1));
        const r = await check(format, cut);
        assert.equal(r.code, 1, r.out + r.stderr);
        assert.equal(r.report.status, 'incomplete');
        assert.match(r.report.containerError, /truncated/);
        // Without the manifest (written last) nothing can be called ok, but what came before the cut was read.
        assert.equal(r.report.manifest.present, false);
        assert.ok(fileState(r.report, rawCopies(orig.members)[0]!), 'members before the cut should still be listed');
      });
    }

    if (format === 'zip') {
      it('the file cut in half: no central directory, unreadable', async () => {
        const bytes = await fsp.readFile(orig.location);
        const cut = path.join(work, `cut-${++seq}.zip`);
        await fsp.writeFile(cut, bytes.subarray(0, bytes.length >> 1));
        const r = await check(format, cut);
        assert.equal(r.code, 2, r.out + r.stderr);
        assert.match(r.stderr, /central directory/);
      });
    }
  });
}

/**
 * Attacks on the manifest, the custody chain and the signature, where the
 * container plays no part: checked once, on the tar bundle.
 */
describe('verify: attacks on what vouches for the evidence (tar bundle)', { concurrency: 3 }, () => {
  const format: Format = 'tar';
  let orig: Original;
  before(async () => {
    orig = await bundle(format);
  });

  it("a custody line's own link edited: chain broken at that line", async () => {
    const ms = clone(orig.members);
    const ls = lines(get(ms, CUSTODY).data);
    ls[2] = JSON.stringify({ ...JSON.parse(ls[2]!), prev: sha256('forged') });
    get(ms, CUSTODY).data = unlines(ls);
    const r = await check(format, await rebuild(format, ms));
    assertTampered(r, { [CUSTODY]: 'modified' });
    assert.equal(r.report.custody.brokenAt, 3);
  });

  it('manifest.json edited only in its metadata: caught by --expect and --pubkey, not by itself', async () => {
    const ms = clone(orig.members);
    const m = manifestOf(ms);
    m.case.examiner = 'mallory';
    setManifest(ms, m);
    const loc = await rebuild(format, ms);
    // Nothing inside the bundle vouches for the manifest: that is what the ticket hash and the signature are for.
    const alone = await check(format, loc);
    assert.equal(alone.code, 0);
    assert.equal(alone.report.signature, 'not-checked');
    assertCaughtByTicketAndKey(await check(format, loc, '--expect', orig.manifestSha, '--pubkey', pubKey));
  });

  it('a custody line edited and the chain and manifest re-computed: only --expect or --pubkey catches it', async () => {
    const ms = clone(orig.members);
    const ls = lines(get(ms, CUSTODY).data);
    let prev = '0'.repeat(64);
    const rechained = ls.map((l, i) => {
      const out = JSON.stringify({ ...JSON.parse(i === 1 ? backdate(l) : l), prev });
      prev = sha256(out);
      return out;
    });
    get(ms, CUSTODY).data = unlines(rechained);
    const m = manifestOf(ms);
    m.custody = { lines: rechained.length, head: prev };
    relist(ms, m, CUSTODY);
    setManifest(ms, m);
    const loc = await rebuild(format, ms);
    const alone = await check(format, loc);
    assert.equal(alone.code, 0, alone.out);
    assert.equal(alone.report.custody.intact, true);
    assertCaughtByTicketAndKey(await check(format, loc, '--expect', orig.manifestSha, '--pubkey', pubKey));
  });

  it('checked with the wrong public key: signature invalid', async () => {
    const r = await check(format, orig.location, '--pubkey', otherPubKey);
    assertTampered(r, {});
    assert.equal(r.report.signature, 'invalid');
  });


  it('manifest.sig removed, checked with --pubkey: signature missing', async () => {
    const loc = await rebuild(format, clone(orig.members).filter((m) => m.name !== 'manifest.sig'));
    const r = await check(format, loc, '--pubkey', pubKey);
    assertTampered(r, { 'manifest.sig': 'missing' });
    assert.equal(r.report.signature, 'missing');
    assert.match(r.report.problems.join('\n'), /no manifest\.sig to check/);
  });
});

describe('verify: age-encrypted bundle', { concurrency: 3 }, () => {
  let sealed: string;
  let identity: string;
  let otherIdentity: string;
  before(async () => {
    identity = path.join(work, 'ir.agekey');
    otherIdentity = path.join(work, 'other.agekey');
    const id = await generateIdentity();
    writeFileSync(identity, `${id}\n`, { mode: 0o600 });
    writeFileSync(otherIdentity, `${await generateIdentity()}\n`, { mode: 0o600 });
    sealed = path.join(work, 'sealed.tgz.age');
    const r = await runCli([...TRIAGE, signKey, '--encrypt-to', await identityToRecipient(id), '--out', sealed]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('decrypted in the stream: intact, from a file and from stdin', async () => {
    const r = await verify([sealed, '--json', '--identity', identity, '--pubkey', pubKey], { cwd });
    assert.equal(r.code, 0, r.out + r.stderr);
    assert.equal(r.report.status, 'intact');
    assert.equal(r.report.encrypted, true);
    const s = await verify(['-', '--json', '--identity', identity], { cwd, stdin: await fsp.readFile(sealed) });
    assert.equal(s.code, 0, s.out + s.stderr);
  });

  it('without an identity, or with the wrong one: unreadable', async () => {
    assertUnreadable(await verify([sealed], { cwd }), /age-encrypted; give --identity/);
    assertUnreadable(await verify([sealed, '--identity', otherIdentity], { cwd }), /cannot decrypt/);
  });

  it('a flipped byte in the ciphertext, or the ciphertext cut short: unreadable, never judged intact', async () => {
    const bytes = await fsp.readFile(sealed);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 40]! ^= 0x01;
    for (const damaged of [flipped, bytes.subarray(0, bytes.length - 40)]) {
      const out = path.join(work, `age-${++seq}.age`);
      await fsp.writeFile(out, damaged);
      assertUnreadable(await verify([out, '--identity', identity], { cwd }), /cannot decrypt the bundle: age ciphertext altered or cut short/);
    }
  });
});

describe('verify: dir bundle specifics', () => {
  it('manifest.json deleted in place: incomplete', async () => {
    const dir = path.join(work, 'dir-nomanifest');
    const r0 = await runCli(['triage', '--only', 'system', '--quiet', '--out', dir]);
    assert.equal(r0.code, 0, r0.stderr);
    await fsp.rm(path.join(dir, MANIFEST));
    const r = await verify([dir, '--json'], { cwd });
    assert.equal(r.code, 1);
    assert.equal(r.report.status, 'incomplete');
    // Everything else is reported as not listed, which is all one can say without a manifest.
    assert.equal(fileState(r.report, CUSTODY), 'unexpected');
    const text = await verify([dir], { cwd });
    assert.match(text.out, /^INCOMPLETE {2}dir/);
  });
});
