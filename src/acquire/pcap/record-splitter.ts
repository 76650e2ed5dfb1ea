import {
  GLOBAL_HEADER_BYTES,
  RECORD_HEADER_BYTES,
  badRecordLength,
  parseGlobalHeader,
  recordLength,
  recordTime,
  type PcapHeader,
  type PcapTime,
} from './pcap-format.js';

/**
 * What the splitter makes of the bytes pushed into it, in stream order:
 *  - header: the global header, once; every output file starts with its bytes;
 *  - records: whole records (headers included), all for the current file;
 *  - cut: the size limit is reached; the records that follow go to a new file;
 *  - corrupt: from `offset` on the stream is not whole records (bad header, an
 *    impossible record length, or a record cut short by the end of the stream);
 *  - unparsed: those bytes, kept as they came so nothing is lost.
 */
export type SplitPiece =
  | { kind: 'header'; header: PcapHeader; bytes: Uint8Array }
  | { kind: 'records'; data: Uint8Array; count: number; first: PcapTime; last: PcapTime }
  | { kind: 'cut' }
  | { kind: 'corrupt'; offset: number; reason: string }
  | { kind: 'unparsed'; data: Uint8Array };

export interface SplitterOptions {
  /** A file is cut before the record that would take it past this many bytes (a lone larger record still gets a file). */
  maxFileBytes: number | null;
}

/**
 * Splits a pcap byte stream (as `tcpdump -w -` or `dumpcap -P -w -` write it)
 * at record boundaries, without copying whole records except the few that
 * straddle two chunks. Never throws on any input: bytes it cannot parse are
 * handed back as `unparsed`.
 */
export class RecordSplitter {
  private header: PcapHeader | null = null;
  /** A global or record header, or a record, that began in an earlier chunk. */
  private partial: Buffer = Buffer.alloc(0);
  private partialFill = 0;
  private failed = false;
  /** Stream offset of the first byte not yet consumed. */
  private offset = 0;
  private fileBytes = GLOBAL_HEADER_BYTES;
  private fileRecords = 0;

  constructor(private readonly opts: SplitterOptions) {}

  /** Starts the accounting of a new file (a time rotation); the caller opens it. */
  newFile(): void {
    this.fileBytes = GLOBAL_HEADER_BYTES;
    this.fileRecords = 0;
  }

  push(chunk: Uint8Array): SplitPiece[] {
    const out: SplitPiece[] = [];
    if (this.failed) {
      if (chunk.length > 0) out.push({ kind: 'unparsed', data: chunk });
      return out;
    }
    let off = 0;
    if (!this.header) {
      off = this.fill(chunk, 0, GLOBAL_HEADER_BYTES);
      if (this.partialFill < GLOBAL_HEADER_BYTES) return out;
      const bytes = Buffer.from(this.partial.subarray(0, GLOBAL_HEADER_BYTES));
      const parsed = parseGlobalHeader(bytes);
      if (typeof parsed === 'string') return this.fail(out, parsed, chunk, off);
      this.header = parsed;
      this.clearPartial();
      this.offset += GLOBAL_HEADER_BYTES;
      out.push({ kind: 'header', header: parsed, bytes });
    }
    const h = this.header;
    if (this.partialFill > 0) {
      off = this.fill(chunk, off, RECORD_HEADER_BYTES);
      if (this.partialFill < RECORD_HEADER_BYTES) return out;
      const len = recordLength(h, this.partial, 0);
      const bad = badRecordLength(len);
      if (bad) return this.fail(out, bad, chunk, off);
      off = this.fill(chunk, off, RECORD_HEADER_BYTES + len);
      if (this.partialFill < RECORD_HEADER_BYTES + len) return out;
      const record = Buffer.from(this.partial.subarray(0, this.partialFill));
      this.clearPartial();
      this.cutIfFull(out, record.length);
      this.fileBytes += record.length;
      this.emitRun(out, record, 0, record.length, 1, 0);
    }
    let runStart = off;
    let count = 0;
    let lastOff = off;
    while (off + RECORD_HEADER_BYTES <= chunk.length) {
      const len = recordLength(h, chunk, off);
      const bad = badRecordLength(len);
      if (bad) {
        this.emitRun(out, chunk, runStart, off, count, lastOff);
        return this.fail(out, bad, chunk, off);
      }
      const size = RECORD_HEADER_BYTES + len;
      if (off + size > chunk.length) break;
      if (this.wouldOverflow(size, count)) {
        this.emitRun(out, chunk, runStart, off, count, lastOff);
        this.cutIfFull(out, size);
        runStart = off;
        count = 0;
      }
      lastOff = off;
      this.fileBytes += size;
      count++;
      off += size;
    }
    this.emitRun(out, chunk, runStart, off, count, lastOff);
    if (off < chunk.length) this.fill(chunk, off, chunk.length - off);
    return out;
  }

  /** The end of the stream: a header or record left incomplete is handed back as unparsed. */
  end(): SplitPiece[] {
    if (this.failed || this.partialFill === 0) return [];
    const what = this.header ? 'a record' : 'the global header';
    const rest = Buffer.from(this.partial.subarray(0, this.partialFill));
    this.clearPartial();
    this.failed = true;
    return [
      { kind: 'corrupt', offset: this.offset, reason: `the stream ended inside ${what} (${rest.length} bytes)` },
      { kind: 'unparsed', data: rest },
    ];
  }

  /** Whether a record of `size` bytes, after `pending` records not yet emitted, would take the file past its limit. */
  private wouldOverflow(size: number, pending: number): boolean {
    const max = this.opts.maxFileBytes;
    return max !== null && this.fileRecords + pending > 0 && this.fileBytes + size > max;
  }

  private cutIfFull(out: SplitPiece[], size: number): void {
    if (!this.wouldOverflow(size, 0)) return;
    out.push({ kind: 'cut' });
    this.newFile();
  }

  /** Emits chunk[start, end) as one run of `count` whole records, the last of which begins at `lastOff`. */
  private emitRun(out: SplitPiece[], chunk: Uint8Array, start: number, end: number, count: number, lastOff: number): void {
    if (count === 0) return;
    const h = this.header!;
    out.push({ kind: 'records', data: chunk.subarray(start, end), count, first: recordTime(h, chunk, start), last: recordTime(h, chunk, lastOff) });
    this.offset += end - start;
    this.fileRecords += count;
  }

  /** Copies from chunk[off] into `partial` until it holds `want` bytes; returns the new offset in chunk. */
  private fill(chunk: Uint8Array, off: number, want: number): number {
    if (this.partial.length < want) {
      const grown = Buffer.allocUnsafe(want);
      this.partial.copy(grown, 0, 0, this.partialFill);
      this.partial = grown;
    }
    const take = Math.min(want - this.partialFill, chunk.length - off);
    if (take <= 0) return off;
    this.partial.set(chunk.subarray(off, off + take), this.partialFill);
    this.partialFill += take;
    return off + take;
  }

  private clearPartial(): void {
    this.partial = Buffer.alloc(0);
    this.partialFill = 0;
  }

  private fail(out: SplitPiece[], reason: string, chunk: Uint8Array, off: number): SplitPiece[] {
    this.failed = true;
    const held = this.partial.subarray(0, this.partialFill);
    const rest = Buffer.concat([held, chunk.subarray(off)]);
    out.push({ kind: 'corrupt', offset: this.offset, reason });
    if (rest.length > 0) out.push({ kind: 'unparsed', data: rest });
    this.clearPartial();
    return out;
  }
}
