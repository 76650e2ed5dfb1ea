import type { promises as fsp } from 'node:fs';

/**
 * Bytes per read, and so per write of a copy: 1 MiB less one page. Reads
 * stay page-aligned, and writes do not land as exactly 1 MiB at 1 MiB
 * offsets, which on Linux 6.x ext4 (large folios) in a VM cost 2–5 times the
 * kernel time of any other size: a 2 GiB copy into a directory bundle ran at
 * 765–935 MB/s with 1 MiB chunks and 1,374–1,394 MB/s with these
 * (docs/decisions.md).
 */
export const CHUNK = 1024 * 1024 - 4096;

/**
 * Reads a file in CHUNK-sized chunks with the next read already in flight
 * while the caller hashes and writes the current one (1 MiB reads hash ~25%
 * faster than node's default 64 KiB, see docs/decisions.md). Stops at `limit`
 * bytes.
 */
export async function* fileChunks(fh: fsp.FileHandle, limit = Infinity, start = 0): AsyncGenerator<Buffer> {
  yield* readAhead(fh, limit, start, (want) => Buffer.allocUnsafe(want));
}

/** Buffers in the ring of recycledFileChunks (see CaseWriter.addStream for why four is enough). */
export const RING = 4;

/**
 * fileChunks through a ring of reused buffers, for copies into the bundle only.
 * A fresh 1 MiB buffer per chunk costs page faults and garbage: reading and
 * hashing a 2 GiB file ran at 414 MB/s with fresh buffers and 874 MB/s with
 * four reused ones (docs/benchmarks.md), and the garbage kept a 1 GiB memory
 * image 40 MB above its floor until the GC came. A chunk is overwritten once
 * the consumer has asked for the chunk after the next one, which is exactly
 * what CaseWriter.addStream promises; any other consumer uses fileChunks.
 * `ring` may be kept for the next copy once this one is complete
 * (CaseWriter.addFile does).
 */
export async function* recycledFileChunks(fh: fsp.FileHandle, limit = Infinity, start = 0, ring: Buffer[] = []): AsyncGenerator<Buffer> {
  let turn = 0;
  yield* readAhead(fh, limit, start, (want) => {
    const slot = turn++ % RING;
    const buf = ring[slot];
    return (ring[slot] = buf && buf.length >= want ? buf : Buffer.allocUnsafeSlow(want));
  });
}

/** Delivers exactly `size` bytes: extra bytes are cut, a short source is zero-padded (both reported). */
export async function* exactly(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  report: { delivered: number; padded: number; excess: boolean },
): AsyncGenerator<Uint8Array> {
  let left = size;
  for await (const chunk of chunks) {
    report.delivered += chunk.length;
    if (chunk.length === 0) continue; // an empty buffer (a program that printed nothing) is not excess
    if (left === 0) {
      report.excess = true;
      continue;
    }
    const part = chunk.length <= left ? chunk : chunk.subarray(0, left);
    if (part.length < chunk.length) report.excess = true;
    left -= part.length;
    yield part;
  }
  while (left > 0) {
    const pad = Buffer.alloc(Math.min(CHUNK, left));
    report.padded += pad.length;
    left -= pad.length;
    yield pad;
  }
}

/** Chunks of up to CHUNK bytes from `start` to `limit` bytes on, the next read in flight while one is used; `bufferFor` gives each read its buffer. */
async function* readAhead(fh: fsp.FileHandle, limit: number, start: number, bufferFor: (want: number) => Buffer): AsyncGenerator<Buffer> {
  let pos = start;
  const end = start + limit;
  const readAt = (p: number) => {
    const want = Math.min(CHUNK, end - p);
    if (want <= 0) return Promise.resolve({ bytesRead: 0, buffer: Buffer.alloc(0) });
    return fh.read(bufferFor(want), 0, want, p);
  };
  let pending = readAt(pos);
  for (;;) {
    const { bytesRead, buffer } = await pending;
    if (bytesRead === 0) return;
    pos += bytesRead;
    pending = readAt(pos);
    yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
  }
}
