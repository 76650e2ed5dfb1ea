import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where generated data goes: BENCH_DIR, else bench/out/ (gitignored). Must be on the disk being measured. */
export const WORK = path.resolve(process.env.BENCH_DIR ?? path.join(REPO, 'bench/out'));

export const MB = 1e6;

export function envInt(name: string, dflt: number, min = 1): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${v}: want an integer >= ${min}`);
  return n;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export interface ProcResult {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; stdout is kept unless it is redirected elsewhere in `opts.stdio`. */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, stdout, stderr }));
  });
}

export async function mustRun(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<ProcResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

function cpuTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Share of all cores busy over the next `ms` (0-1). */
export async function cpuBusy(ms = 500): Promise<number> {
  const a = cpuTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTicks();
  return b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total);
}

/**
 * Waits (up to BENCH_QUIET_MAX_S, default 90 s) until other processes leave the
 * CPUs mostly idle (< 25% busy), so a round is not measured against someone
 * else's test suite. Returns the busy share seen last, for the record.
 */
export async function waitQuiet(): Promise<number> {
  const deadline = Date.now() + envInt('BENCH_QUIET_MAX_S', 90) * 1000;
  for (;;) {
    const busy = await cpuBusy();
    if (busy < 0.25 || Date.now() > deadline) return busy;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/**
 * Flushes what earlier runs left dirty (gigabytes written, then deleted on an
 * ext4 mounted with `discard`), so that no timed run pays for the writeback
 * of the one before it: without it, whichever tool ran second inherited the
 * other's.
 */
export async function settle(): Promise<void> {
  await mustRun('sync', []);
}

/** Reads every file under `dir` once so the runs compare warm page cache, not the disk. */
export async function warm(paths: string[]): Promise<void> {
  await mustRun('sh', ['-c', 'find "$@" -type f -exec cat {} + > /dev/null', 'warm', ...paths]);
}

export async function rmrf(p: string): Promise<void> {
  await fsp.rm(p, { recursive: true, force: true });
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export interface Machine {
  date: string;
  nproc: number;
  cpu: string;
  shaExtensions: boolean;
  kernel: string;
  node: string;
  memory: string;
  disk: string;
  tools: Record<string, string>;
}

export function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const first = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
    } catch {
      return 'not found';
    }
  };
  let disk = 'unknown';
  try {
    const [source, fstype] = execFileSync('findmnt', ['-no', 'SOURCE,FSTYPE', '-T', WORK], { encoding: 'utf8' }).trim().split(/\s+/);
    const dev = path.basename(source ?? '');
    let kind = '';
    try {
      const rot = readFileSync(`/sys/block/${dev}/queue/rotational`, 'utf8').trim();
      const bytes = Number(readFileSync(`/sys/block/${dev}/size`, 'utf8').trim()) * 512;
      kind = `, ${rot === '0' ? 'non-rotational' : 'rotational'}, ${fmt(bytes / 2 ** 30)} GiB`;
    } catch {
      // not a whole block device (partition, overlay): say less
    }
    disk = `${source} (${fstype}${kind})`;
  } catch {
    // findmnt missing: leave unknown
  }
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpu: model,
    shaExtensions: /\bsha_ni\b/.test(cpuinfo),
    kernel: os.release(),
    node: process.version,
    memory: `${fmt(os.totalmem() / 2 ** 30)} GiB`,
    disk,
    tools: {
      sha256sum: first('sha256sum', ['--version']),
      openssl: first('openssl', ['version']),
      tar: first('tar', ['--version']),
      gzip: first('gzip', ['--version']),
    },
  };
}

export function printMachine(m: Machine): void {
  console.log(`machine: ${m.nproc} cores, ${m.cpu}${m.shaExtensions ? ' (sha_ni)' : ''}, ${m.memory} RAM, kernel ${m.kernel}, node ${m.node}`);
  console.log(`disk:    ${m.disk} (data in ${WORK})`);
  console.log(`tools:   ${Object.values(m.tools).join('; ')}`);
  console.log(`date:    ${m.date}`);
}

/** Prints a small aligned table. */
export function table(head: string[], rows: (string | number)[][]): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

/** Keeps each benchmark's figures as JSON beside the data, for docs/benchmarks.md. */
export async function saveResult(name: string, result: unknown): Promise<string> {
  const dir = path.join(WORK, 'results');
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await fsp.writeFile(file, `${JSON.stringify({ machine: machine(), ...(result as object) }, null, 2)}\n`);
  return file;
}
