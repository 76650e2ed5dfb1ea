import { constants as C, promises as fsp } from 'node:fs';
import { PassThrough, Readable, type TransformOptions, type Writable } from 'node:stream';
import zlib from 'node:zlib';
import { SpaceGuard, writeAll } from '../space-guard.js';
import type { ByteWriter } from './byte-writer.js';
import { Feed, ZLIB_STREAM_OPTIONS } from './feed.js';
import { OffThreadHash } from './off-thread-hash.js';

/** Creates a new file for evidence: never through a symlink, never over an existing file. */
export async function createEvidenceFile(p: string): Promise<fsp.FileHandle> {
  return fsp.open(p, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
}

/**
 * Bytes after which the file stage starts an fdatasync in the background.
 * Linux begins writing dirty pages back only past dirty_background_ratio (10%
 * of memory), so without it a 2 GiB archive sat in the page cache until the
 * final fsync, which then waited for all of it; syncing as we go overlaps the
 * disk with the hashing, and keeps the examined host's page cache from
 * filling with our dirty pages.
 */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

/**
 * The last stage: bytes to a new file, hashed as they go so the archive's own
 * SHA-256 is known at the end. Writes go behind: write() starts the write and
 * returns once the previous one finished, so the main thread hashes the next
 * chunk while the pool thread copies this one to the kernel (one write in
 * flight keeps the file's byte order). flush() waits for the last write; the
 * tar and zip writers call it at the end of every entry, so an entry whose
 * bytes failed to reach the file still fails as itself.
 */
export class FileByteWriter implements ByteWriter {
  private readonly hash = new OffThreadHash();
  private pending: Promise<void> = Promise.resolve();
  private syncing: Promise<void> | null = null;
  private unsynced = 0;
  private failure: unknown = null;
  bytes = 0;

  /**
   * `durable`: data-sync as it goes and fsync at close, so a sealed bundle is
   * on the device. A file the shell opened for `--stdout > case.tar` is not:
   * stdout promises what a pipe does, bytes handed to the kernel.
   */
  constructor(
    private readonly fh: fsp.FileHandle,
    private readonly guard: SpaceGuard | null,
    private readonly durable = true,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    await this.flush();
    await this.hash.update(chunk);
    this.bytes += chunk.length;
    this.pending = writeAll(this.fh, chunk, this.guard).catch((err: unknown) => {
      this.failure = err;
    });
    this.unsynced += chunk.length;
    if (this.durable && this.unsynced >= SYNC_EVERY_BYTES && this.syncing === null) {
      this.unsynced = 0;
      this.syncing = this.fh.datasync().then(
        () => {
          this.syncing = null;
        },
        (err: unknown) => {
          this.failure ??= err;
          this.syncing = null;
        },
      );
    }
  }

  async flush(): Promise<void> {
    await this.pending;
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
      await this.syncing;
      await this.flush();
      if (this.durable) await this.fh.sync();
    } finally {
      await this.fh.close();
    }
  }

  /** After close(): the SHA-256 of every byte written. */
  digest(): Promise<string> {
    return this.hash.digest();
  }

  dispose(): Promise<void> {
    return this.hash.dispose();
  }
}

/** The last stage: bytes to a Writable such as stdout, with backpressure; a closed pipe rejects. */
export class StreamByteWriter implements ByteWriter {
  private readonly hash = new OffThreadHash();
  private failure: Error | null = null;
  /** The chunk handed to the stream last, until node has passed it to the kernel. */
  private inFlight: Promise<void> = Promise.resolve();
  private settleInFlight: (() => void) | null = null;
  bytes = 0;

  constructor(private readonly stream: Writable) {
    const fail = (err: Error) => {
      this.failure ??= err;
      this.settleInFlight?.();
    };
    stream.on('error', fail);
    stream.on('close', () => fail(new Error('the output stream closed')));
  }

  /**
   * One chunk in flight: write() returns once the previous chunk has left, so
   * a caller may reuse that chunk's memory, and at most one chunk waits in
   * node's buffer (a slow SSH pipe cannot make goldhour's memory grow).
   */
  async write(chunk: Uint8Array): Promise<void> {
    await this.inFlight;
    if (this.failure) throw this.failure;
    await this.hash.update(chunk);
    this.bytes += chunk.length;
    this.inFlight = new Promise<void>((resolve) => {
      this.settleInFlight = resolve;
      this.stream.write(chunk, (err) => {
        if (err) this.failure ??= err;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    await this.inFlight;
    if (this.failure) throw this.failure;
    // stdout is never really ended by node; wait until what we wrote has left.
    await new Promise<void>((resolve, reject) => this.stream.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
  }

  /** After close(): the SHA-256 of every byte written. */
  digest(): Promise<string> {
    return this.hash.digest();
  }

  dispose(): Promise<void> {
    return this.hash.dispose();
  }
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
