import type { Writable } from 'node:stream';

/**
 * Output chunks of 1 MiB (zlib's default is 16 KiB) and room for 4 MiB of them:
 * each chunk costs a hop from zlib's thread to the main thread and back, and
 * the compressor stops while its output waits. The gzip bytes are the same for
 * any chunk size (zlib's output does not depend on how it is drained).
 */
export const ZLIB_STREAM_OPTIONS = { chunkSize: 1024 * 1024, readableHighWaterMark: 4 * 1024 * 1024 } as const;

/** How far the main thread may run ahead of a compressor or encrypter. */
export const FEED_AHEAD_BYTES = 4 * 1024 * 1024;

/**
 * Writes into a transform (gzip, deflate, age) keeping up to `ahead` bytes
 * queued in it. zlib compresses in a pool thread while the main thread reads
 * and hashes; waiting for 'drain' (which fires only when the queue is empty)
 * left the compressor idle during every refill, and on a busy machine the
 * refill waits for the main thread to be scheduled. Measured: gzip of a 2 GiB
 * bundle went from about half to about the speed of zlib alone (docs/benchmarks.md).
 */
export class Feed {
  private queued = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly input: Writable,
    private readonly ahead = FEED_AHEAD_BYTES,
  ) {
    // A destroyed transform may never call back for what it still held.
    input.once('close', () => this.wake?.());
  }

  /**
   * Resolves once at most `ahead` bytes wait in the transform, or it closed (the
   * caller checks why). The transform may hold several chunks, more than the
   * case writer lets a stage keep of a producer's recycled buffers, so it gets
   * a copy (a memcpy is noise beside compression or encryption).
   */
  async write(data: Uint8Array): Promise<void> {
    const chunk = Buffer.from(data);
    this.queued += chunk.length;
    this.input.write(chunk, () => {
      this.queued -= chunk.length;
      this.wake?.();
    });
    while (this.queued > this.ahead && !this.input.destroyed) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}
