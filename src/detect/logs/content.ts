import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { compressionOf, type Compression } from '../../host/compressed.js';

/** What happened while an input's bytes were read. */
export interface ContentNotes {
  compression: Compression | null;
  /** Bytes of content delivered (decompressed for gzip). */
  bytes: number;
  /** Delivery stopped at maxBytesPerInput. */
  capped: boolean;
  /** Reading failed, or decompression did (a torn .gz): the message. */
  error: string | null;
}

const MAGIC = 6;

/**
 * The content of an input as stored (chunks must not change once delivered:
 * the gunzip stream reads ahead): gzip (a rotated generation, told by its
 * magic bytes, not its name) is decompressed in a stream; other compressions
 * (xz, zstd…) deliver nothing and are noted. At most maxBytes are delivered.
 */
export async function* contentOf(chunks: AsyncIterable<Uint8Array>, maxBytes: number, notes: ContentNotes): AsyncGenerator<Buffer> {
  const it = chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  try {
    while (headLen < MAGIC) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      const b = Buffer.from(r.value);
      head.push(b);
      headLen += b.length;
    }
  } catch (err) {
    notes.error = err instanceof Error ? err.message : String(err);
    return;
  }
  notes.compression = compressionOf(Buffer.concat(head).subarray(0, MAGIC));
  // stopping early (the cap, a bad gzip) must still let the source close its file
  const close = async () => {
    try {
      await it.return?.();
    } catch {
      // the source failed already; its error was recorded where it was thrown
    }
  };
  async function* raw(): AsyncGenerator<Buffer> {
    yield* head;
    while (!done) {
      const r = await it.next();
      if (r.done) done = true;
      else yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  }
  if (notes.compression !== null && notes.compression !== 'gzip') {
    await close();
    return;
  }
  const source: AsyncIterable<Buffer> =
    notes.compression === 'gzip'
      ? pipeline(Readable.from(raw()), createGunzip(), (err) => {
          if (err && !notes.capped && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') notes.error ??= err.message;
        })
      : raw();
  try {
    for await (const chunk of source) {
      const room = maxBytes - notes.bytes;
      if (chunk.length >= room) {
        notes.capped = chunk.length > room;
        notes.bytes += room;
        if (room > 0) yield chunk.subarray(0, room);
        if (notes.capped) return;
        continue;
      }
      notes.bytes += chunk.length;
      yield chunk;
    }
  } catch (err) {
    notes.error ??= err instanceof Error ? err.message : String(err);
  } finally {
    if (!done) await close();
  }
}

/**
 * Splits content into lines as it streams: LF ends a line, a CR before it is
 * dropped (logs copied from elsewhere), a line longer than maxLineBytes keeps
 * its first maxLineBytes bytes (the rest is skipped, never buffered). Calls
 * onLine with the line's bytes and its 1-based number.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryLen = 0;
  private overlong = false;
  private lineNo = 0;
  /** Lines cut to maxLineBytes. */
  cut = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: Buffer, lineNo: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.take(chunk, start, nl);
      this.emit();
      start = nl + 1;
    }
    // the unfinished line outlives this chunk: keep a copy, not a view
    this.take(chunk, start, chunk.length, true);
  }

  /** The last line when the content does not end with a newline. */
  end(): void {
    if (this.carryLen > 0 || this.overlong) this.emit();
  }

  private take(chunk: Buffer, from: number, to: number, copy = false): void {
    const room = this.maxLineBytes - this.carryLen;
    if (to - from > room) {
      this.overlong = true;
      to = from + room;
    }
    if (to > from) {
      this.carry.push(copy ? Buffer.from(chunk.subarray(from, to)) : chunk.subarray(from, to));
      this.carryLen += to - from;
    }
  }

  private emit(): void {
    this.lineNo++;
    let line = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry, this.carryLen);
    if (this.overlong) this.cut++;
    else if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1);
    this.carry = [];
    this.carryLen = 0;
    this.overlong = false;
    this.onLine(line, this.lineNo);
  }
}
