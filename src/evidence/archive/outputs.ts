import { constants as C, promises as fsp } from 'node:fs';
import { PassThrough, Readable, type TransformOptions, type Writable } from 'node:stream';
import zlib from 'node:zlib';
import { SpaceGuard, writeAll } from '../space-guard.js';
import type { ByteWriter } from './byte-writer.js';
import { Feed, ZLIB_STREAM_OPTIONS } from './feed.js';
import type { Destination } from './archive-output.js';

/** Creates a new file for evidence: never through a symlink, never over an existing file. */
export async function createEvidenceFile(p: string): Promise<fsp.FileHandle> {
  return fsp.open(p, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
}

/**
 * Bytes after which the file destination starts an fdatasync in the
 * background. Linux begins writing dirty pages back only past
 * dirty_background_ratio (10% of memory), so without it a 2 GiB archive sat in
 * the page cache until the final fsync, which then waited for all of it;
 * syncing as we go overlaps the disk with the hashing, and keeps the examined
 * host's page cache from filling with our dirty pages.
 */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

/**
 * An archive written to a file. `durable`: data-sync as it goes and fsync at
 * the end, so a sealed bundle is on the device. A file the shell opened for
 * `--stdout > case.tar` is not: stdout promises what a pipe does, bytes handed
 * to the kernel.
 */
export function fileDestination(fh: fsp.FileHandle, guard: SpaceGuard | null, durable: boolean): Destination {
  let unsynced = 0;
  let syncing: Promise<void> | null = null;
  let syncFailure: unknown = null;
  return {
    async send(bytes) {
      if (syncFailure !== null) throw syncFailure;
      await writeAll(fh, bytes, guard);
      unsynced += bytes.length;
      if (durable && unsynced >= SYNC_EVERY_BYTES && syncing === null) {
        unsynced = 0;
        syncing = fh.datasync().then(
          () => {
            syncing = null;
          },
          (err: unknown) => {
            syncFailure ??= err;
            syncing = null;
          },
        );
      }
    },
    async end(ok) {
      try {
        await syncing;
        if (syncFailure !== null) throw syncFailure;
        if (ok && durable) await fh.sync();
      } finally {
        await fh.close();
      }
    },
  };
}

/**
 * An archive written to a stream such as stdout, with backpressure: a send
 * resolves once node has passed its bytes to the kernel, so a slow SSH pipe
 * cannot make goldhour's memory grow past the batches. A closed pipe rejects.
 */
export function streamDestination(stream: Writable): Destination {
  let failure: Error | null = null;
  let inFlight: ((err: Error) => void) | null = null;
  const fail = (err: Error) => {
    failure ??= err;
    inFlight?.(failure);
  };
  stream.on('error', fail);
  stream.on('close', () => fail(new Error('the output stream closed')));
  const writeOut = (bytes: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      inFlight = reject;
      stream.write(bytes, (err) => {
        inFlight = null;
        if (err) reject(err);
        else resolve();
      });
    });
  return {
    send: writeOut,
    // stdout is never really ended by node; wait until what we wrote has left.
    end: async (ok) => {
      if (ok) await writeOut(Buffer.alloc(0));
    },
  };
}

/**
 * A stage that feeds a transform (gzip, age) and pumps its output into the next
 * stage. The pump runs concurrently, so compression in zlib's thread overlaps
 * with hashing and reading on the main thread; Feed keeps the transform's
 * queue from running dry while the main thread is busy.
 */
class TransformByteWriter implements ByteWriter {
  private readonly pump: Promise<void>;
  private readonly feed: Feed;
  private pumpError: unknown = null;

  constructor(
    private readonly input: Writable,
    output: AsyncIterable<Uint8Array>,
    private readonly next: ByteWriter,
  ) {
    this.feed = new Feed(input);
    this.pump = (async () => {
      for await (const chunk of output) await next.write(chunk);
    })().catch((err: unknown) => {
      this.pumpError = err;
      input.destroy();
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.pumpError) throw this.pumpError;
    await this.feed.write(chunk);
    if (this.pumpError) throw this.pumpError;
  }

  async close(): Promise<void> {
    this.input.end();
    await this.pump;
    if (this.pumpError) throw this.pumpError;
    await this.next.close();
  }
}

export function gzipStage(next: ByteWriter, level: number): ByteWriter {
  const options: zlib.ZlibOptions & TransformOptions = { level, ...ZLIB_STREAM_OPTIONS };
  const gz = zlib.createGzip(options);
  return new TransformByteWriter(gz, gz, next);
}

export async function ageStage(next: ByteWriter, recipients: string[]): Promise<ByteWriter> {
  // Loaded only when asked for: age and its post-quantum code add ~17 MB to every run's RSS.
  const { Encrypter } = await import('age-encryption');
  const enc = new Encrypter();
  for (const r of recipients) enc.addRecipient(r);
  const plain = new PassThrough({ highWaterMark: 1024 * 1024 });
  const cipher = await enc.encrypt(Readable.toWeb(plain) as ReadableStream<Uint8Array>);
  const out = Readable.fromWeb(cipher as import('node:stream/web').ReadableStream<Uint8Array>);
  return new TransformByteWriter(plain, out, next);
}
