import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Manifest } from './manifest.js';
import { CHUNK } from './file-chunks.js';

export function isSingleFile(): boolean {
  try {
    const sea = createRequire(path.join(process.cwd(), 'x'))('node:sea') as { isSea(): boolean };
    return sea.isSea();
  } catch {
    return false;
  }
}

/**
 * Hashes a whole file through one reused buffer no larger than the file: the
 * tree hash reads hundreds of small files, and a fresh 1 MiB buffer for each
 * left ~30 MB of garbage for the GC before the first artefact was written.
 */
export async function sha256File(file: string): Promise<string> {
  const fh = await fsp.open(file, 'r');
  try {
    const h = createHash('sha256');
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, size)));
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
    return h.digest('hex');
  } finally {
    await fh.close();
  }
}

/** One hash over goldhour's own compiled code (sorted paths and contents) when it runs from a directory. */
async function treeSha256(dir: string): Promise<string | null> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  try {
    await walk(dir);
  } catch {
    return null;
  }
  const h = createHash('sha256');
  for (const f of files.sort()) h.update(`${path.relative(dir, f)}\0${await sha256File(f)}\n`);
  return h.digest('hex');
}

export async function toolIdentity(version: string, codeRoot: string): Promise<Manifest['tool']> {
  const single = isSingleFile();
  let sha: string | null = null;
  try {
    sha = await sha256File(process.execPath);
  } catch {
    sha = null;
  }
  return {
    name: 'goldhour',
    version,
    executable: process.execPath,
    sha256: sha,
    codeSha256: single ? null : await treeSha256(path.join(codeRoot, 'lib')),
    node: process.version,
    singleFile: single,
  };
}

