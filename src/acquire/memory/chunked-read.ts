import { CHUNK, RING } from '../../evidence/file-chunks.js';
import { errnoCode } from '../../lib/user-error.js';
import { readFull, type PositionedFile } from './positioned-file.js';
import type { ReadPiece } from './read-plan.js';

/**
 * Large reads: the syscall count, not the copy, limits /proc/kcore and
 * /proc/PID/mem (see docs/decisions.md). The same size as file copies, for
 * the same reason: the image is written in these pieces.
 */
export const CHUNK_BYTES = CHUNK;
export const PAGE_BYTES = 4096;

/** A range the source would not give, zero-filled in the output. */
export interface Hole {
  address: number;
  length: number;
  /** EIO, EFAULT…, "EOF" (the source ended first), "EXITED" (the process went away), "INTERRUPTED". */
  code: string;
}

/** Holes in address order, neighbours with the same cause joined. */
export class HoleLog {
  readonly holes: Hole[] = [];

  add(address: number, length: number, code: string): void {
    const last = this.holes.at(-1);
    if (last && last.code === code && last.address + last.length === address) last.length += length;
    else this.holes.push({ address, length, code });
  }

  get bytes(): number {
    return this.holes.reduce((n, h) => n + h.length, 0);
  }
}

export interface ChunkedReadOptions {
  holes: HoleLog;
  chunkBytes?: number;
  pageBytes?: number;
  /** Asked after a read error: false means the source is gone (a process that exited) and the rest is zero-filled unread. */
  alive?: () => boolean;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
}

interface Chunk {
  address: number;
  position: number;
  length: number;
}

/**
 * Yields exactly the bytes of `pieces`, in order, through a ring of reused
 * buffers, for CaseWriter.addStream only: a buffer is overwritten once the
 * consumer has asked for the chunk after the next one, as addStream promises
 * (fresh 1 MiB buffers left ~40 MB of garbage above the floor of a 1 GiB image
 * and cost page faults on every chunk). One large read is always in flight
 * ahead of the consumer. A read that fails is retried page by page, and only
 * the pages that still fail are zero-filled and logged as holes; a source that
 * ends early is zero-filled to the planned length.
 */
export async function* readPieces(file: PositionedFile, pieces: Iterable<ReadPiece>, opts: ChunkedReadOptions): AsyncGenerator<Buffer> {
  const chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
  const pageBytes = opts.pageBytes ?? PAGE_BYTES;
  let gone: string | null = null;
  const ring: Buffer[] = [];
  let turn = 0;
  const take = (length: number): Buffer => {
    const slot = turn++ % RING;
    const have = ring[slot];
    const buf = have && have.length >= length ? have : Buffer.allocUnsafeSlow(Math.max(length, chunkBytes));
    ring[slot] = buf;
    return buf.subarray(0, length);
  };

  const readChunk = async (c: Chunk): Promise<Buffer> => {
    if (gone === null && opts.signal?.aborted) gone = 'INTERRUPTED';
    if (gone !== null) {
      opts.holes.add(c.address, c.length, gone);
      return take(c.length).fill(0);
    }
    const buf = take(c.length);
    try {
      const got = await readFull(file, buf, 0, c.length, c.position);
      if (got < c.length) {
        buf.fill(0, got);
        // /proc/PID/mem of a process that has exited reads as empty rather than failing.
        if (opts.alive && !opts.alive()) gone = 'EXITED';
        opts.holes.add(c.address + got, c.length - got, gone ?? 'EOF');
      }
      return buf;
    } catch (err) {
      if (opts.alive && !opts.alive()) {
        gone = 'EXITED';
        opts.holes.add(c.address, c.length, gone);
        return buf.fill(0);
      }
      await readPageByPage(file, buf, c, pageBytes, opts.holes, errnoCode(err) ?? 'EIO');
      return buf;
    }
  };

  let pending: Promise<Buffer> | null = null;
  for (const c of chunks(pieces, chunkBytes)) {
    const current: Promise<Buffer> = pending ? pending.then(() => readChunk(c)) : readChunk(c);
    if (pending) {
      const buf = await pending;
      opts.onBytes?.(buf.length);
      yield buf;
    }
    pending = current;
  }
  if (pending) {
    const buf = await pending;
    opts.onBytes?.(buf.length);
    yield buf;
  }
}

function* chunks(pieces: Iterable<ReadPiece>, chunkBytes: number): Generator<Chunk> {
  for (const p of pieces) {
    for (let off = 0; off < p.length; off += chunkBytes) {
      yield { address: p.address + off, position: p.position + off, length: Math.min(chunkBytes, p.length - off) };
    }
  }
}

/** Page-aligned by address, so a hole never swallows a readable neighbour. */
async function readPageByPage(file: PositionedFile, buf: Buffer, c: Chunk, pageBytes: number, holes: HoleLog, firstCode: string): Promise<void> {
  let off = 0;
  while (off < c.length) {
    const address = c.address + off;
    const step = Math.min(pageBytes - (address % pageBytes), c.length - off);
    try {
      const got = await readFull(file, buf, off, step, c.position + off);
      if (got < step) {
        buf.fill(0, off + got, off + step);
        holes.add(address + got, step - got, 'EOF');
      }
    } catch (err) {
      buf.fill(0, off, off + step);
      holes.add(address, step, errnoCode(err) ?? firstCode);
    }
    off += step;
  }
}
