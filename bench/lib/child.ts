import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { REPO, WORK, mustRun } from './measure.js';

export interface ChildReport {
  format: string;
  ms: number;
  /** The 2 GiB copy alone (addStream), without opening and sealing the bundle. */
  copyMs: number;
  maxRssBytes: number;
  userMs: number;
  sysMs: number;
  sha256: string;
  archiveSha256: string | null;
}

/**
 * A bench child script (bench/NAME.ts, default the case-writer child
 * rss-child.ts) bundled by esbuild with the project's src, so the measured
 * process carries no tsx (it adds ~35 MB the shipped CLI never carries).
 */
export async function buildChild(name = 'rss-child'): Promise<string> {
  const child = path.join(WORK, `${name}.mjs`);
  await mustRun(path.join(REPO, 'node_modules/.bin/esbuild'), [
    path.join(REPO, `bench/${name}.ts`),
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--packages=external',
    `--outfile=${child}`,
    '--log-level=warning',
  ]);
  return child;
}

/**
 * Runs one bundling. `out` null: the archive goes to stdout, which is a pipe
 * this process drains and counts ('pipe'), /dev/null ('devnull': nothing but
 * goldhour's own work is timed), or a new file ({ file }: a shell's
 * `> case.tar`, with no fsync, as `tar cf` writes). `archiveHash`: as
 * `--archive-hash`, the archive hashed as well.
 */
export function runChild(
  child: string,
  format: string,
  out: string | null,
  file: string,
  stdout: 'pipe' | 'devnull' | { file: string } = 'pipe',
  archiveHash = false,
): Promise<{ report: ChildReport; stdoutBytes: number }> {
  return new Promise((resolve, reject) => {
    const devnull = stdout === 'pipe' ? null : stdout === 'devnull' ? openSync('/dev/null', 'w') : openSync(stdout.file, 'wx', 0o600);
    const p = spawn(process.execPath, [child, format, out ?? '-', file, ...(archiveHash ? ['archive-hash'] : [])], { stdio: ['ignore', devnull ?? 'pipe', 'pipe'] });
    if (devnull !== null) closeSync(devnull);
    let stdoutBytes = 0;
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdoutBytes += d.length));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const last = stderr.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`bundling child ${format} exited ${code}: ${stderr}`));
      resolve({ report: JSON.parse(last) as ChildReport, stdoutBytes });
    });
  });
}
