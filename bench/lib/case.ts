import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { CaseWriter, type BundleTarget, type CaseHeader } from '../../src/evidence/case-writer.js';
import type { Artifact } from '../../src/evidence/manifest.js';
import { buildCaseHeader } from '../../src/pipeline/case-header.js';
import { Host } from '../../src/host/host.js';
import { REPO } from './measure.js';

let header: CaseHeader | null = null;

/** The header triage would build on this host (hashes node and lib/ once; done outside any timing). */
export async function caseHeader(): Promise<CaseHeader> {
  if (header) return header;
  const pkg = JSON.parse(await fsp.readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  header = await buildCaseHeader(await Host.open(), {
    caseId: 'bench',
    examiner: 'bench',
    commandLine: process.argv.slice(1),
    version: pkg.version,
    codeRoot: REPO,
  });
  return header;
}

export function target(format: BundleTarget['format'], out: string | null, opts: { archiveHash?: boolean; gzipLevel?: number } = {}): BundleTarget {
  return { format, out, encryptTo: [], gzipLevel: opts.gzipLevel ?? 6, archiveHash: opts.archiveHash ?? false };
}

/** Copies one file into the bundle the way a collector keeps a raw copy (ctx.copyFile): open, fstat, CaseWriter.addFile. */
export async function addFile(writer: CaseWriter, file: string, entry: string): Promise<Artifact> {
  const fh = await fsp.open(file, 'r');
  try {
    const st = await fh.stat();
    return await writer.addFile(entry, fh, st.size, {
      source: file,
      collector: 'bench',
      sourceMtime: st.mtime,
      sourceMode: st.mode,
      sourceUid: st.uid,
      sourceGid: st.gid,
    });
  } finally {
    await fh.close();
  }
}

/** Every regular file under `dir`, sorted, as [absolute path, path relative to dir]. */
export async function listFiles(dir: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await fsp.readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push([p, path.relative(dir, p)]);
    }
  };
  await walk(dir);
  return out;
}

export const seal = (w: CaseWriter) => w.seal({ status: 'complete', reason: null, findings: '', signer: null });

export { CaseWriter };
