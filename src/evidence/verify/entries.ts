import { constants as C, promises as fsp } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { fileChunks } from '../file-chunks.js';

/** One member of a bundle as found, before anything is believed about it. */
export interface BundleEntry {
  name: string;
  kind: 'file' | 'directory' | 'symlink' | 'other';
  /** Present for files: the bytes, read exactly once. */
  body?: AsyncIterable<Uint8Array>;
  /** Present for files: the size the container declares, known before the body is read. */
  size?: number;
}

/** The container itself is damaged (truncated, corrupt): what was read so far still counts. */
export class ContainerError extends Error {
  /** The stream simply stopped early, as an interrupted copy does; anything else is corruption. */
  readonly truncated: boolean;

  constructor(message: string, opts: { truncated?: boolean } = {}) {
    super(message);
    this.truncated = opts.truncated ?? false;
  }
}

/** Walks a directory bundle without following any symlink. */
export async function* dirEntries(root: string): AsyncGenerator<BundleEntry> {
  const walk = async function* (rel: string): AsyncGenerator<BundleEntry> {
    const names = (await fsp.readdir(path.join(root, rel))).sort();
    for (const n of names) {
      const relName = rel === '' ? n : `${rel}/${n}`;
      const full = path.join(root, relName);
      const st = await fsp.lstat(full);
      if (st.isDirectory()) {
        yield { name: relName, kind: 'directory' };
        yield* walk(relName);
      } else if (st.isSymbolicLink()) {
        yield { name: relName, kind: 'symlink' };
      } else if (!st.isFile()) {
        yield { name: relName, kind: 'other' };
      } else {
        const fh = await fsp.open(full, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
        try {
          yield { name: relName, kind: 'file', body: fileChunks(fh), size: st.size };
        } finally {
          await fh.close();
        }
      }
    }
  };
  yield* walk('');
}

/** Streams a tar (gunzipping first when asked) without extracting anything. */
export async function* tarEntries(input: Readable, gzip: boolean): AsyncGenerator<BundleEntry> {
  const extract = tar.extract();
  const source = gzip ? input.pipe(zlib.createGunzip()) : input;
  let sourceError: Error | null = null;
  const fail = (err: Error) => {
    sourceError = err;
    extract.destroy(err);
  };
  source.on('error', fail);
  if (gzip) input.on('error', fail);
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const kind = h.type === 'file' || h.type === 'contiguous-file' ? 'file' : h.type === 'directory' ? 'directory' : h.type === 'symlink' || h.type === 'link' ? 'symlink' : 'other';
      if (kind === 'file') {
        // A stream cut inside this member fails while the caller reads the body, outside this loop's catch.
        yield { name: h.name, kind, body: guardStream(entry as AsyncIterable<Uint8Array>, h.name, () => sourceError), size: h.size ?? 0 };
      } else {
        yield { name: h.name, kind };
      }
      entry.resume();
    }
  } catch (err) {
    throw streamError(sourceError ?? err);
  }
  if (sourceError) throw streamError(sourceError);
}

/** tar-stream and zlib both say "unexpected end" when the input stops short. */
function streamError(err: unknown): ContainerError {
  if (err instanceof ContainerError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/unexpected end/i.test(msg)) return new ContainerError('archive stream is truncated', { truncated: true });
  return new ContainerError(`archive stream is damaged: ${msg}`);
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** Reads a zip through its central directory; names are raw bytes, so hostile ones can't abort the walk. */
export async function* zipEntries(file: string): AsyncGenerator<BundleEntry> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(file, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false }, (err, z) =>
        err || !z ? reject(err ?? new Error('no zip')) : resolve(z),
      ),
    );
  } catch (err) {
    throw new ContainerError(`zip central directory unreadable: ${(err as Error).message}`);
  }
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => {
          zip.off('end', onEnd);
          zip.off('error', onError);
          resolve(e);
        };
        const onEnd = () => {
          zip.off('entry', onEntry);
          zip.off('error', onError);
          resolve(null);
        };
        const onError = (err: Error) => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          reject(new ContainerError(`zip is damaged: ${err.message}`));
        };
        zip.once('entry', onEntry);
        zip.once('end', onEnd);
        zip.once('error', onError);
        zip.readEntry();
      });
      if (entry === null) return;
      const name = Buffer.isBuffer(entry.fileName) ? (entry.fileName as Buffer).toString('utf8') : String(entry.fileName);
      const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      const isDir = name.endsWith('/') || mode === S_IFDIR;
      if (isDir) {
        yield { name: name.replace(/\/+$/, ''), kind: 'directory' };
      } else if (mode === S_IFLNK) {
        yield { name, kind: 'symlink' };
      } else if ((mode !== 0 && mode !== S_IFREG) || (entry.generalPurposeBitFlag & 1) !== 0) {
        yield { name, kind: 'other' };
      } else {
        let stream: Readable;
        try {
          stream = await new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (err, s) => (err || !s ? reject(err) : resolve(s))));
        } catch (err) {
          throw new ContainerError(`zip entry ${name} unreadable: ${(err as Error).message}`);
        }
        yield { name, kind: 'file', body: guardStream(stream, name), size: entry.uncompressedSize };
      }
    }
  } finally {
    zip.close();
  }
}

/** Turns a failure while a member's body is read into a ContainerError, the cause taken from the archive stream if it has one. */
async function* guardStream(s: AsyncIterable<Uint8Array>, name: string, cause?: () => Error | null): AsyncGenerator<Uint8Array> {
  try {
    yield* s;
  } catch (err) {
    if (cause) throw streamError(cause() ?? err);
    throw new ContainerError(`zip entry ${name} is damaged: ${(err as Error).message}`);
  }
}
