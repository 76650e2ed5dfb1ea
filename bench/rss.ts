import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { buildChild, runChild, type ChildReport } from './lib/child.js';
import { BIG, ensureBig } from './lib/fixture.js';
import { WORK, fmt, rmrf, saveResult, table, waitQuiet, warm } from './lib/measure.js';

const LIMIT_BYTES = 150e6;

/**
 * Peak RSS of one bundling of the 2 GiB file per process: tar, tgz and zip
 * files, and a tar stream on stdout (a pipe the parent drains and discards).
 * Each child is bench/rss-child.ts without tsx (bench/lib/child.ts) and reports
 * process.resourceUsage().maxRSS at exit. A run on a
 * 1 KB file gives the floor: node, the modules, and hashing node's own binary
 * for the manifest. Every bundle is made with `--archive-hash`, the setting
 * that holds the most (a hashing thread and its batches). Target: ≤ 150 MB
 * each.
 */
export async function rssBench(): Promise<void> {
  const size = await ensureBig();
  await warm([BIG]);
  const child = await buildChild();
  const tiny = path.join(WORK, 'tiny.bin');
  await fsp.writeFile(tiny, Buffer.alloc(1000, 'x'));

  const cases: { label: string; format: 'tar' | 'tgz' | 'zip'; out: string | null; file: string }[] = [
    { label: 'floor: tar of a 1 KB file', format: 'tar', out: path.join(WORK, 'rss-tiny.tar'), file: tiny },
    { label: 'tar file', format: 'tar', out: path.join(WORK, 'rss.tar'), file: BIG },
    { label: 'tgz file', format: 'tgz', out: path.join(WORK, 'rss.tgz'), file: BIG },
    { label: 'zip file', format: 'zip', out: path.join(WORK, 'rss.zip'), file: BIG },
    { label: 'tar on stdout (pipe)', format: 'tar', out: null, file: BIG },
  ];
  const rows: (ChildReport & { label: string; busy: number; bytesOut: number })[] = [];
  for (const c of cases) {
    const busy = await waitQuiet();
    if (c.out) await rmrf(c.out);
    const { report, stdoutBytes } = await runChild(child, c.format, c.out, c.file, 'pipe', true);
    const bytesOut = c.out ? (await fsp.stat(c.out)).size : stdoutBytes;
    if (c.out) await rmrf(c.out);
    rows.push({ label: c.label, busy, bytesOut, ...report });
    console.error(`rss ${c.label}: ${fmt(report.maxRssBytes / 1e6, 1)} MB in ${fmt(report.ms)} ms`);
  }
  await fsp.rm(tiny, { force: true });

  console.log(`\n## rss: peak RSS bundling a ${fmt(size / 2 ** 20)} MiB file, one child process each (MB = 10^6 bytes)`);
  table(
    ['bundle', 'peak RSS MB', 'target', 'result', 'wall ms', 'cpu ms', 'bytes out'],
    rows.map((r) => [
      r.label,
      fmt(r.maxRssBytes / 1e6, 1),
      r.label.startsWith('floor') ? '' : '<= 150',
      r.label.startsWith('floor') ? '' : r.maxRssBytes <= LIMIT_BYTES ? 'PASS' : 'FAIL',
      fmt(r.ms),
      fmt(r.userMs + r.sysMs),
      fmt(r.bytesOut),
    ]),
  );
  console.log(`saved ${await saveResult('rss', { size, rows })}`);
}
