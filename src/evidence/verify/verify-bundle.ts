import { createHash } from 'node:crypto';
import { errorMessage } from '../../lib/user-error.js';
import { checkCustodyChain, type ChainCheck } from '../custody.js';
import { CUSTODY_FILE, MANIFEST_FILE, Manifest, SIGNATURE_FILE } from '../manifest.js';
import { checkSignature, publicKeyFingerprint } from '../signing.js';
import type { KeyObject } from 'node:crypto';
import { ContainerError, type BundleEntry } from './entries.js';
import type { ContainerKind } from './open-bundle.js';

export type FileState = 'ok' | 'modified' | 'missing' | 'unexpected' | 'duplicate';
export type BundleStatus = 'intact' | 'partial' | 'tampered' | 'incomplete';

export interface FileReport {
  path: string;
  state: FileState;
  detail?: string;
}

export interface VerifyReport {
  status: BundleStatus;
  container: ContainerKind;
  encrypted: boolean;
  /** The container was cut short or damaged; entries up to that point were checked. */
  containerError: string | null;
  manifest: {
    present: boolean;
    sha256: string | null;
    valid: boolean;
    problem: string | null;
    caseId: string | null;
    status: 'complete' | 'partial' | null;
    statusReason: string | null;
    started: string | null;
    ended: string | null;
  };
  custody: ChainCheck & { matchesManifest: boolean | null };
  signature: 'valid' | 'invalid' | 'missing' | 'not-checked' | 'absent';
  expected: 'match' | 'mismatch' | null;
  files: FileReport[];
  counts: Record<FileState, number>;
  problems: string[];
}

export interface VerifyOptions {
  expectSha256?: string;
  publicKey?: KeyObject;
}

/** manifest.json, custody.jsonl and manifest.sig are held in memory; a larger one is itself a sign of tampering, hashed but never held. */
const MAX_SPECIAL_BYTES = 64 * 1024 * 1024;
const SPECIAL = new Set([MANIFEST_FILE, CUSTODY_FILE, SIGNATURE_FILE]);

interface Seen {
  sha256: string;
  size: number;
  count: number;
}

/**
 * Re-hashes every member of a bundle as it streams past and holds the result
 * against the manifest, the custody chain and, if asked, a signature and the
 * manifest hash written in the ticket. Nothing is written to disk.
 */
export async function verifyEntries(entries: AsyncIterable<BundleEntry>, container: ContainerKind, encrypted: boolean, opts: VerifyOptions): Promise<VerifyReport> {
  const seen = new Map<string, Seen>();
  const held = new Map<string, Buffer>();
  const odd: FileReport[] = [];
  let containerError: string | null = null;

  try {
    for await (const e of entries) {
      const name = normalise(e.name);
      if (e.kind === 'directory') continue;
      if (e.kind !== 'file' || !e.body) {
        odd.push({ path: name, state: 'unexpected', detail: e.kind });
        continue;
      }
      const h = createHash('sha256');
      let size = 0;
      const special = SPECIAL.has(name);
      // The declared size rules out an oversized member before a byte of it is held;
      // the running count covers a container that understates it.
      let keep: Buffer[] | null = special && (e.size ?? 0) <= MAX_SPECIAL_BYTES ? [] : null;
      for await (const chunk of e.body) {
        h.update(chunk);
        size += chunk.length;
        if (keep && size > MAX_SPECIAL_BYTES) keep = null;
        else if (keep) keep.push(Buffer.from(chunk));
      }
      const prior = seen.get(name);
      if (prior) {
        prior.count++;
        continue;
      }
      seen.set(name, { sha256: h.digest('hex'), size, count: 1 });
      if (keep) held.set(name, Buffer.concat(keep));
    }
  } catch (err) {
    containerError = err instanceof ContainerError ? err.message : `${container === 'dir' ? 'directory' : 'archive'} could not be read to the end: ${errorMessage(err)}`;
  }

  const problems: string[] = [];
  const files: FileReport[] = [...odd];
  const manifestSeen = seen.get(MANIFEST_FILE);
  const manifestBytes = held.get(MANIFEST_FILE) ?? null;
  const report: VerifyReport = {
    status: 'intact',
    container,
    encrypted,
    containerError,
    manifest: { present: manifestSeen !== undefined, sha256: manifestSeen?.sha256 ?? null, valid: false, problem: null, caseId: null, status: null, statusReason: null, started: null, ended: null },
    custody: { ...checkCustody(held.get(CUSTODY_FILE), seen.get(CUSTODY_FILE)), matchesManifest: null },
    signature: 'absent',
    expected: null,
    files,
    counts: { ok: 0, modified: 0, missing: 0, unexpected: 0, duplicate: 0 },
    problems,
  };

  let manifest: Manifest | null = null;
  if (manifestSeen && !manifestBytes) {
    report.manifest.problem = `manifest.json is ${manifestSeen.size} bytes, too large for a goldhour manifest (at most ${MAX_SPECIAL_BYTES}): not read`;
  } else if (manifestBytes) {
    try {
      const parsed = Manifest.safeParse(JSON.parse(manifestBytes.toString('utf8')));
      if (parsed.success) manifest = parsed.data;
      else report.manifest.problem = `manifest.json does not match the schema: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`;
    } catch {
      report.manifest.problem = 'manifest.json is not valid JSON';
    }
  }

  if (manifest) {
    report.manifest = { ...report.manifest, valid: true, caseId: manifest.case.id, status: manifest.status, statusReason: manifest.statusReason, started: manifest.started, ended: manifest.ended };
    const listed = new Set<string>();
    for (const a of manifest.artifacts) {
      listed.add(a.path);
      const s = seen.get(a.path);
      if (!s) files.push({ path: a.path, state: 'missing' });
      else if (s.sha256 !== a.sha256 || s.size !== a.size) files.push({ path: a.path, state: 'modified', detail: `sha256 ${s.sha256}, manifest says ${a.sha256}` });
      else files.push({ path: a.path, state: 'ok' });
    }
    for (const name of seen.keys()) {
      if (!listed.has(name) && name !== MANIFEST_FILE && name !== SIGNATURE_FILE) files.push({ path: name, state: 'unexpected' });
    }
    // The signature cannot be listed in the manifest it signs, but the manifest says whether there is one.
    if (manifest.signature && !seen.has(SIGNATURE_FILE)) files.push({ path: SIGNATURE_FILE, state: 'missing', detail: 'the manifest records a signature' });
    const c = report.custody;
    report.custody.matchesManifest = c.intact && c.lines === manifest.custody.lines && c.head === manifest.custody.head;
    if (c.intact && !report.custody.matchesManifest) problems.push(`custody log has ${c.lines} lines, the manifest recorded ${manifest.custody.lines}: lines were cut or added at the end`);
  } else {
    for (const name of seen.keys()) if (name !== MANIFEST_FILE) files.push({ path: name, state: 'unexpected', detail: 'not listed (no usable manifest)' });
  }
  for (const [name, s] of seen) if (s.count > 1) files.push({ path: name, state: 'duplicate', detail: `${s.count} members with this name` });

  const sig = held.get(SIGNATURE_FILE);
  if (opts.publicKey) {
    if (!manifestBytes || !seen.has(SIGNATURE_FILE)) report.signature = 'missing';
    else if (!sig) report.signature = 'invalid';
    else if (!checkSignature(opts.publicKey, manifestBytes, sig)) report.signature = 'invalid';
    else if (manifest?.signature && manifest.signature.publicKeySha256 !== publicKeyFingerprint(opts.publicKey)) report.signature = 'invalid';
    else report.signature = 'valid';
  } else if (seen.has(SIGNATURE_FILE)) {
    report.signature = 'not-checked';
  } else if (manifest?.signature) {
    report.signature = 'missing';
  }
  if (opts.expectSha256) report.expected = report.manifest.sha256 === opts.expectSha256.toLowerCase() ? 'match' : 'mismatch';

  for (const f of files) report.counts[f.state]++;
  if (!report.custody.intact) problems.push(`custody chain broken at line ${report.custody.brokenAt}: ${report.custody.reason}`);
  if (report.manifest.problem) problems.push(report.manifest.problem);
  if (report.signature === 'invalid') problems.push('manifest signature does not verify with the given key');
  if (report.signature === 'missing') problems.push(opts.publicKey ? 'no manifest.sig to check against the given key' : 'the manifest records a signature, but there is no manifest.sig');
  if (report.expected === 'mismatch') problems.push(`manifest SHA-256 ${report.manifest.sha256 ?? '(none)'} is not the expected ${opts.expectSha256}`);
  if (containerError) problems.push(containerError);
  if (!manifestSeen) problems.push('no manifest.json: the run never finished sealing this bundle');

  // Past a cut in the container, absent members are the cut's doing, not an intruder's.
  const cut = containerError !== null;
  const tampered =
    report.counts.modified + (cut ? 0 : report.counts.missing) + report.counts.unexpected + report.counts.duplicate > 0 ||
    !report.custody.intact ||
    report.custody.matchesManifest === false ||
    (manifestSeen !== undefined && !manifest) ||
    report.signature === 'invalid' ||
    (report.signature === 'missing' && !cut) ||
    report.expected === 'mismatch';
  // goldhour never writes links, devices or two members with one name: those are tampering even where
  // no manifest survived to list what belongs (without one, every file is merely unlisted).
  const foreign = odd.length > 0 || report.counts.duplicate > 0;
  if (manifestSeen ? tampered : foreign) report.status = 'tampered';
  else if (cut || !manifestSeen) report.status = 'incomplete';
  else if (manifest?.status === 'partial') report.status = 'partial';
  return report;
}

function checkCustody(bytes: Buffer | undefined, seenAs: Seen | undefined): ChainCheck {
  if (!seenAs) return { intact: false, lines: 0, brokenAt: 1, reason: 'custody.jsonl is missing' };
  if (!bytes) return { intact: false, lines: 0, brokenAt: 1, reason: `custody.jsonl is ${seenAs.size} bytes, too large to check` };
  return checkCustodyChain(bytes);
}

/** Archive names may carry ./ prefixes or doubled slashes; compare on one form. */
function normalise(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/');
}

