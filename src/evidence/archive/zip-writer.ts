import type { TransformOptions } from 'node:stream';
import zlib from 'node:zlib';
import type { ByteWriter } from './byte-writer.js';
import { Feed, ZLIB_STREAM_OPTIONS } from './feed.js';

/**
 * A streaming ZIP writer: entries with data descriptors (sizes need not be known
 * up front), ZIP64 where sizes or offsets pass 4 GiB, UTF-8 names, Unix modes,
 * and exact UTC mtimes in the extended-timestamp field. archiver keeps only
 * DOS times (2-second steps, local time), which is not good enough for evidence.
 */
export interface ZipEntryMeta {
  name: string;
  mode: number;
  mtime: Date;
}

interface CentralRecord {
  name: Buffer;
  crc: number;
  size: number;
  csize: number;
  offset: number;
  mode: number;
  mtime: Date;
  method: number;
}

interface EntryDeflate {
  input: zlib.DeflateRaw;
  feed: Feed;
  /** Compressed size, once all output is emitted. */
  csize: Promise<number>;
}

const U32 = 0xffffffff;
const VERSION_ZIP64 = 45;
const MADE_BY_UNIX = (3 << 8) | 63;
const FLAGS = 0x0008 | 0x0800; // data descriptor, UTF-8 names

export class ZipWriter {
  private offset = 0;
  private readonly records: CentralRecord[] = [];

  constructor(
    private readonly out: ByteWriter,
    private readonly level = 6,
  ) {}

  private async emit(buf: Uint8Array): Promise<void> {
    await this.out.write(buf);
    this.offset += buf.length;
  }

  async addEntry(meta: ZipEntryMeta, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    const name = Buffer.from(meta.name, 'utf8');
    const offset = this.offset;
    const method = 8;
    await this.emit(localHeader(name, meta.mtime, method));
    let crc = 0;
    let size = 0;
    let deflate: EntryDeflate | null = null;
    try {
      for await (const chunk of chunks) {
        crc = zlib.crc32(chunk, crc);
        size += chunk.length;
        deflate ??= this.startDeflate(chunk.length);
        await deflate.feed.write(chunk);
      }
    } finally {
      deflate ??= this.startDeflate(0);
      deflate.input.end();
    }
    const csize = await deflate.csize;
    const zip64 = size >= U32 || csize >= U32;
    const dd = Buffer.alloc(zip64 ? 24 : 16);
    dd.writeUInt32LE(0x08074b50, 0);
    dd.writeUInt32LE(crc >>> 0, 4);
    if (zip64) {
      dd.writeBigUInt64LE(BigInt(csize), 8);
      dd.writeBigUInt64LE(BigInt(size), 16);
    } else {
      dd.writeUInt32LE(csize, 8);
      dd.writeUInt32LE(size, 12);
    }
    await this.emit(dd);
    this.records.push({ name, crc: crc >>> 0, size, csize, offset, mode: meta.mode, mtime: meta.mtime, method });
  }

  /**
   * A raw deflater for one entry and the pump that emits its output. Its output
   * buffer is sized by the first chunk: an entry that arrives whole in one
   * small chunk (most files of a triage) keeps zlib's 64 KiB, since a 1 MiB
   * buffer per entry doubled the time for 2,000 small files; a large stream
   * gets the 1 MiB chunks that cut zip time for a 2 GiB file by a fifth.
   */
  private startDeflate(firstChunk: number): EntryDeflate {
    const options: zlib.ZlibOptions & TransformOptions =
      firstChunk < ZLIB_STREAM_OPTIONS.chunkSize ? { level: this.level, chunkSize: 64 * 1024 } : { level: this.level, ...ZLIB_STREAM_OPTIONS };
    const input = zlib.createDeflateRaw(options);
    const csize = (async () => {
      let n = 0;
      for await (const c of input as AsyncIterable<Buffer>) {
        n += c.length;
        await this.emit(c);
      }
      return n;
    })();
    return { input, feed: new Feed(input), csize };
  }

  async finish(): Promise<void> {
    const cdStart = this.offset;
    for (const r of this.records) await this.emit(centralHeader(r));
    const cdSize = this.offset - cdStart;
    const count = this.records.length;
    if (count >= 0xffff || cdStart >= U32 || cdSize >= U32) {
      const z64Start = this.offset;
      const rec = Buffer.alloc(56);
      rec.writeUInt32LE(0x06064b50, 0);
      rec.writeBigUInt64LE(44n, 4);
      rec.writeUInt16LE(MADE_BY_UNIX, 12);
      rec.writeUInt16LE(VERSION_ZIP64, 14);
      rec.writeBigUInt64LE(BigInt(count), 24);
      rec.writeBigUInt64LE(BigInt(count), 32);
      rec.writeBigUInt64LE(BigInt(cdSize), 40);
      rec.writeBigUInt64LE(BigInt(cdStart), 48);
      await this.emit(rec);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(z64Start), 8);
      loc.writeUInt32LE(1, 16);
      await this.emit(loc);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(count, 0xffff), 8);
    end.writeUInt16LE(Math.min(count, 0xffff), 10);
    end.writeUInt32LE(Math.min(cdSize, U32), 12);
    end.writeUInt32LE(Math.min(cdStart, U32), 16);
    await this.emit(end);
  }
}

function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

function extendedTimestamp(mtime: Date): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt16LE(0x5455, 0);
  b.writeUInt16LE(5, 2);
  b.writeUInt8(1, 4);
  b.writeUInt32LE(Math.max(0, Math.min(U32, Math.floor(mtime.getTime() / 1000))), 5);
  return b;
}

function localHeader(name: Buffer, mtime: Date, method: number): Buffer {
  const extra = extendedTimestamp(mtime);
  const h = Buffer.alloc(30);
  const { time, date } = dosDateTime(mtime);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(VERSION_ZIP64, 4);
  h.writeUInt16LE(FLAGS, 6);
  h.writeUInt16LE(method, 8);
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, name, extra]);
}

function centralHeader(r: CentralRecord): Buffer {
  const z64: bigint[] = [];
  if (r.size >= U32) z64.push(BigInt(r.size));
  if (r.csize >= U32) z64.push(BigInt(r.csize));
  if (r.offset >= U32) z64.push(BigInt(r.offset));
  const extras = [extendedTimestamp(r.mtime)];
  if (z64.length > 0) {
    const e = Buffer.alloc(4 + 8 * z64.length);
    e.writeUInt16LE(0x0001, 0);
    e.writeUInt16LE(8 * z64.length, 2);
    z64.forEach((v, i) => e.writeBigUInt64LE(v, 4 + 8 * i));
    extras.push(e);
  }
  const extra = Buffer.concat(extras);
  const h = Buffer.alloc(46);
  const { time, date } = dosDateTime(r.mtime);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(MADE_BY_UNIX, 4);
  h.writeUInt16LE(VERSION_ZIP64, 6);
  h.writeUInt16LE(FLAGS, 8);
  h.writeUInt16LE(r.method, 10);
  h.writeUInt16LE(time, 12);
  h.writeUInt16LE(date, 14);
  h.writeUInt32LE(r.crc, 16);
  h.writeUInt32LE(Math.min(r.csize, U32), 20);
  h.writeUInt32LE(Math.min(r.size, U32), 24);
  h.writeUInt16LE(r.name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  h.writeUInt32LE(((r.mode & 0xffff) << 16) >>> 0, 38);
  h.writeUInt32LE(Math.min(r.offset, U32), 42);
  return Buffer.concat([h, r.name, extra]);
}
