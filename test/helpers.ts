import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { Finding } from '../src/detect/finding.js';

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

/**
 * Bundles a script and everything it imports (node_modules included) into one
 * world-readable file, for tests that drop to another user: the checkout may
 * sit under /root (mode 0700), where nobody cannot reach tsx or the sources.
 */
export function bundleForOtherUser(entry: string, outDir: string): string {
  const out = path.join(outDir, `${path.basename(entry).replace(/\.[mc]?ts$/, '')}.bundle.mjs`);
  buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'error',
    // CommonJS dependencies call require(); an ESM bundle has to provide it.
    banner: { js: "import { createRequire as __goldhourRequire } from 'node:module'; const require = __goldhourRequire(import.meta.url);" },
  });
  chmodSync(out, 0o644);
  return out;
}

/** A bundle directory's findings.jsonl, each line held to the findings contract. */
export function readFindings(bundleDir: string): Finding[] {
  return readFileSync(path.join(bundleDir, 'findings.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => Finding.parse(JSON.parse(l)));
}
