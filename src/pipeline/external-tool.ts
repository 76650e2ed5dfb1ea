import { constants as C, promises as fsp } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { sha256File } from '../evidence/tool-identity.js';

/** Where external programs are taken from: never PATH, which the intruder or the caller may have changed. */
export const TRUSTED_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export async function locateProgram(program: string): Promise<string | null> {
  if (program.includes('/')) throw new Error(`program name expected, got a path: ${program}`);
  for (const dir of TRUSTED_DIRS) {
    const p = await executableAt(path.join(dir, program));
    if (p) return p;
  }
  return null;
}

/** p itself when it is a regular file this process may execute (links followed), else null. */
export async function executableAt(p: string): Promise<string | null> {
  try {
    if (!(await fsp.stat(p)).isFile()) return null;
    await fsp.access(p, C.X_OK);
    return p;
  } catch {
    return null;
  }
}

const hashCache = new Map<string, Promise<string | null>>();

/** SHA-256 of a program, once per run (the manifest lists it beside every use). */
export function programSha256(p: string): Promise<string | null> {
  let h = hashCache.get(p);
  if (!h) {
    h = sha256File(p).catch(() => null);
    hashCache.set(p, h);
  }
  return h;
}

export interface ExecResult {
  exitCode: number | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
}

/** Runs with an argument array (never a shell), a clean environment, no stdin, and a time and output limit. */
export async function execProgram(p: string, args: string[], opts: { timeoutMs: number; maxBytes: number; signal: AbortSignal }): Promise<ExecResult> {
  const r = await execa(p, args, {
    env: { PATH: TRUSTED_DIRS.join(':'), LC_ALL: 'C' },
    extendEnv: false,
    stdin: 'ignore',
    encoding: 'buffer',
    timeout: opts.timeoutMs,
    maxBuffer: opts.maxBytes,
    cancelSignal: opts.signal,
    reject: false,
    stripFinalNewline: false,
  });
  return {
    exitCode: r.exitCode ?? null,
    stdout: Buffer.from(r.stdout as Uint8Array),
    stderr: Buffer.from(r.stderr as Uint8Array),
    timedOut: r.timedOut,
  };
}
