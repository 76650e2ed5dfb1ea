import { promises as fsp, createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { UserError, errnoCode, errorMessage } from '../../lib/user-error.js';
import { ContainerError, dirEntries, tarEntries, zipEntries, type BundleEntry } from './entries.js';

export type ContainerKind = 'dir' | 'tar' | 'tgz' | 'zip';

export interface OpenedBundle {
  kind: ContainerKind;
  encrypted: boolean;
  entries: AsyncIterable<BundleEntry>;
}

const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');

/** Reads the first bytes of a stream and puts them back, so the format can be told by content, not name. */
async function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let have = 0;
  const it = stream[Symbol.asyncIterator]();
  while (have < n) {
    const { value, done } = await it.next();
    if (done) break;
    const b = Buffer.from(value as Uint8Array);
    chunks.push(b);
    have += b.length;
  }
  const head = Buffer.concat(chunks);
  const rest = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      for (;;) {
        const { value, done } = await it.next();
        if (done) return;
        yield value as Uint8Array;
      }
    })(),
    { objectMode: false },
  );
  return { head, stream: rest };
}

function kindOf(head: Buffer): ContainerKind | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tgz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0x06054b50) return 'zip';
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return null;
}

function loadIdentities(file: string | undefined): string[] {
  if (!file) throw new UserError('bundle is age-encrypted; give --identity FILE with the AGE-SECRET-KEY-1...');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`--identity ${file}: cannot be read`);
  }
  const keys = text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('AGE-SECRET-KEY-1'));
  if (keys.length === 0) throw new UserError(`--identity ${file}: holds no AGE-SECRET-KEY-1 line`);
  return keys;
}

async function decrypt(stream: Readable, identityFile: string | undefined): Promise<Readable> {
  // Loaded only for encrypted bundles: age adds ~17 MB to the RSS of every verify.
  const { Decrypter } = await import('age-encryption');
  const d = new Decrypter();
  for (const k of loadIdentities(identityFile)) d.addIdentity(k);
  try {
    const out = await d.decrypt(Readable.toWeb(stream) as ReadableStream<Uint8Array>);
    return Readable.from(authenticated(Readable.fromWeb(out as unknown as WebReadableStream<Uint8Array>)), { objectMode: false });
  } catch (err) {
    throw new UserError(`cannot decrypt the bundle: ${(err as Error).message}`);
  }
}

/** age authenticates its payload chunk by chunk, so a failure while reading means the ciphertext was altered or cut short. */
async function* authenticated(plain: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* plain;
  } catch (err) {
    throw new ContainerError(`age ciphertext altered or cut short (${errorMessage(err)})`);
  }
}

/**
 * Opens a bundle given as a directory, a file, or '-' (stdin), telling tar,
 * gzip, zip and age apart by their first bytes. Anything that is none of them
 * is unreadable (exit 2).
 */
export async function openBundle(target: string, identityFile: string | undefined): Promise<OpenedBundle> {
  let stream: Readable;
  let file: string | null = null;
  if (target === '-') {
    stream = process.stdin;
  } else {
    let st;
    try {
      st = await fsp.stat(target);
    } catch (err) {
      throw new UserError(`${target}: ${errnoCode(err) === 'ENOENT' ? 'does not exist' : 'cannot be read'}`);
    }
    if (st.isDirectory()) return { kind: 'dir', encrypted: false, entries: dirEntries(target) };
    if (!st.isFile()) throw new UserError(`${target}: not a directory or a regular file`);
    file = target;
    stream = createReadStream(target, { highWaterMark: 1024 * 1024 });
  }
  const what = target === '-' ? 'stdin' : target;
  let head: Buffer;
  let s: Readable;
  try {
    ({ head, stream: s } = await peek(stream, 512));
  } catch (err) {
    throw new UserError(`${what}: cannot be read: ${errorMessage(err)}`);
  }
  let encrypted = false;
  if (head.subarray(0, AGE_MAGIC.length).equals(AGE_MAGIC)) {
    encrypted = true;
    const plain = await decrypt(s, identityFile);
    try {
      ({ head, stream: s } = await peek(plain, 512));
    } catch (err) {
      throw new UserError(`cannot decrypt the bundle: ${errorMessage(err)}`);
    }
  }
  const kind = kindOf(head);
  if (kind === null) {
    s.destroy();
    if (head.length === 0) throw new UserError(`${what}: is empty${encrypted ? ' once decrypted' : ''}`);
    throw new UserError(`${what}: not a goldhour bundle (no tar, gzip, zip or age header)`);
  }
  if (kind === 'zip') {
    s.destroy();
    if (file === null || encrypted) throw new UserError('a zip bundle is read from its central directory: give it as a plain file, not on stdin or encrypted');
    return { kind, encrypted, entries: await firstMemberReadable(zipEntries(file), what) };
  }
  return { kind, encrypted, entries: await firstMemberReadable(tarEntries(s, kind === 'tgz'), what) };
}

/**
 * A signature in the first bytes proves little: if not even the first member
 * can be read, the input is not a bundle (exit 2), not a damaged one. A stream
 * that merely stops inside its first member is still a cut-short bundle, and
 * damage after the first member is for verify to report.
 */
async function firstMemberReadable(entries: AsyncGenerator<BundleEntry>, what: string): Promise<AsyncIterable<BundleEntry>> {
  let first: IteratorResult<BundleEntry>;
  try {
    first = await entries.next();
  } catch (err) {
    if (err instanceof ContainerError && !err.truncated) throw new UserError(`${what}: not a readable bundle: ${err.message}`);
    const failed = err;
    return (async function* () {
      throw failed;
    })();
  }
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* entries;
  })();
}
