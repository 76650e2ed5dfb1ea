import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RUN_JS = path.join(PROJECT, 'bin', 'run.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the built CLI (node bin/run.js) or another executable, collecting output as bytes. */
export function runCli(
  args: string[],
  opts: { stdin?: Buffer | string; env?: NodeJS.ProcessEnv; cwd?: string; exe?: string; onSpawn?: (pid: number) => void } = {},
): Promise<CliResult> {
  const [cmd, argv] = opts.exe ? [opts.exe, args] : [process.execPath, [RUN_JS, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: opts.env ?? { ...process.env, NO_COLOR: '1' }, cwd: opts.cwd ?? PROJECT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
    if (child.pid && opts.onSpawn) opts.onSpawn(child.pid);
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A temporary directory removed when the test ends. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'goldhour-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
