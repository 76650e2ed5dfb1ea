import { constants as C, closeSync, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { errnoCode } from '../lib/user-error.js';
import { HashError, type HashPool } from './hash-pool.js';

/**
 * What a file is by its first bytes, not its name: an ELF executable or
 * library (\x7fELF), or a script (a #! line). Intruders name binaries
 * ".font-unix" or "kworker", so the name says nothing.
 */
export type ContentKind = 'elf' | 'script';

export function contentKind(head: Buffer): ContentKind | null {
  if (head.length >= 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) return 'elf';
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) return 'script';
  return null;
}

/** The #! line without "#!" (at most the first 256 bytes, up to the newline), as text; attacker-controlled. */
export function interpreterLine(head: Buffer): string | null {
  if (contentKind(head) !== 'script') return null;
  let end = head.indexOf(0x0a);
  if (end === -1) end = head.length;
  return head.subarray(2, Math.min(end, 256)).toString('utf8').replace(/\r$/, '');
}

export interface ContentFacts {
  kind: ContentKind | null;
  interpreter: string | null;
  sha256: string | null;
  /** The file is bigger than the hashing cap: sha256 covers only its first bytes (and is then null). */
  tooBigToHash: boolean;
}

export class ContentReadError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const HEAD_BYTES = 256;

/**
 * Opens a regular file of the examined host by its real path without following
 * a symlink in the last component, without blocking on a FIFO swapped in since
 * it was listed, and without touching its access time where the kernel allows
 * O_NOATIME (owner or CAP_FOWNER). Checks it is (still) the regular file
 * expected. The caller closes the descriptor.
 */
export function openRegularNoFollow(real: Buffer, expect: { dev: number | bigint; ino: number | bigint } | null): { fd: number; st: BigIntStats } {
  const flags = C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW | C.O_NOCTTY;
  let fd: number;
  try {
    try {
      fd = openSync(real, flags | C.O_NOATIME);
    } catch (err) {
      if (errnoCode(err) !== 'EPERM') throw err;
      fd = openSync(real, flags); // O_NOATIME needs ownership or CAP_FOWNER
    }
  } catch (err) {
    const code = errnoCode(err) ?? 'EIO';
    throw new ContentReadError(code, code === 'ELOOP' ? 'is a symlink: not followed' : `cannot be opened (${code})`);
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw new ContentReadError('ENOTREG', 'not a regular file: not read');
    if (expect && (st.ino !== BigInt(expect.ino) || st.dev !== BigInt(expect.dev))) throw new ContentReadError('ERACE', 'replaced since it was listed: not read');
    return { fd, st };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Reads the head of a file found by a walk (opened with openRegularNoFollow)
 * and, when `hash` says so, its SHA-256.
 */
export async function examineContent(
  real: Buffer,
  expect: { dev: number | bigint; ino: number | bigint } | null,
  opts: { pool: HashPool; maxHashBytes: number; hash: (kind: ContentKind | null) => boolean },
): Promise<ContentFacts> {
  const { fd, st } = openRegularNoFollow(real, expect);
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    let n: number;
    try {
      n = readSync(fd, head, 0, HEAD_BYTES, 0);
    } catch (err) {
      const code = errnoCode(err) ?? 'EIO';
      throw new ContentReadError(code, `cannot be read (${code})`);
    }
    const h = head.subarray(0, n);
    const kind = contentKind(h);
    const facts: ContentFacts = { kind, interpreter: interpreterLine(h), sha256: null, tooBigToHash: false };
    if (!opts.hash(kind)) return facts;
    if (st.size > BigInt(opts.maxHashBytes)) {
      facts.tooBigToHash = true;
      return facts;
    }
    try {
      facts.sha256 = (await opts.pool.hash(fd, ['sha256'], opts.maxHashBytes)).digests[0]!;
    } catch (err) {
      const code = err instanceof HashError ? err.code : (errnoCode(err) ?? 'EIO');
      throw new ContentReadError(code, `cannot be hashed (${code})`);
    }
    return facts;
  } finally {
    closeSync(fd);
  }
}
