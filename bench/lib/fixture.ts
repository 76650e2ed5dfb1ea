import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { GiB, MiB, makeBigFile, makeSmallFiles } from './data.js';
import { WORK, envInt, rmrf } from './measure.js';

/**
 * The benchmark tree, shared by every benchmark in one `npm run bench` so the
 * 2 GiB file is written once:
 *   tree/big.bin          BENCH_SIZE_MIB (default 2048 MiB), mixed content
 *   tree/small/dNN/*.txt  BENCH_SMALL_FILES (default 2,000) files of 0-64 KiB
 */
export const TREE = path.join(WORK, 'tree');
export const BIG = path.join(TREE, 'big.bin');
export const SMALL = path.join(TREE, 'small');

/** Set once this process has used the tree: only then does cleanup() remove it (a `startup` run must not pull it from under a concurrent `tar` run). */
let used = false;

export const bigSize = () => envInt('BENCH_SIZE_MIB', 2048) * MiB;
export const smallCount = () => envInt('BENCH_SMALL_FILES', 2000);

export async function ensureBig(): Promise<number> {
  used = true;
  const size = bigSize();
  const st = await fsp.stat(BIG).catch(() => null);
  if (st?.size === size) return size;
  await fsp.mkdir(TREE, { recursive: true });
  await fsp.rm(BIG, { force: true });
  process.stderr.write(`generating ${BIG} (${size / GiB} GiB) …\n`);
  await makeBigFile(BIG, size);
  return size;
}

export async function ensureSmall(): Promise<{ count: number; bytes: number }> {
  used = true;
  const count = smallCount();
  const marker = path.join(WORK, `small-${count}.done`);
  const done = await fsp.readFile(marker, 'utf8').catch(() => null);
  if (done !== null) return { count, bytes: Number(done) };
  await rmrf(SMALL);
  process.stderr.write(`generating ${count} small files under ${SMALL} …\n`);
  const bytes = await makeSmallFiles(SMALL, count);
  await fsp.writeFile(marker, String(bytes));
  return { count, bytes };
}

/**
 * Removes the generated tree (unless BENCH_KEEP=1) so 2 GiB do not linger on a
 * shared disk. Two runs that both use the tree at once share it; do not run
 * them side by side (their timings would disturb each other anyway).
 */
export async function cleanup(): Promise<void> {
  if (!used || process.env.BENCH_KEEP === '1') return;
  await rmrf(TREE);
  for (const f of await fsp.readdir(WORK).catch(() => [] as string[])) {
    if (f.startsWith('small-') && f.endsWith('.done')) await fsp.rm(path.join(WORK, f), { force: true });
  }
}
