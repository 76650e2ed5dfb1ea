import { RecordSplitter, type SplitPiece } from '../src/acquire/pcap/record-splitter.js';

/** Synthetic pcap streams and an independent reader, for the splitter's tests and the pcap benchmark. */

export interface RecordSpec {
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
}

export interface StreamSpec {
  littleEndian: boolean;
  nanoseconds: boolean;
  snaplen?: number;
  linktype?: number;
}

export function globalHeader(s: StreamSpec): Buffer {
  const b = Buffer.alloc(24);
  const w32 = (v: number, off: number) => (s.littleEndian ? b.writeUInt32LE(v, off) : b.writeUInt32BE(v, off));
  const w16 = (v: number, off: number) => (s.littleEndian ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
  w32(s.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(s.snaplen ?? 262144, 16);
  w32(s.linktype ?? 1, 20);
  return b;
}

export function record(s: StreamSpec, r: RecordSpec): Buffer {
  const h = Buffer.alloc(16);
  const w32 = (v: number, off: number) => (s.littleEndian ? h.writeUInt32LE(v, off) : h.writeUInt32BE(v, off));
  w32(r.sec, 0);
  w32(r.frac, 4);
  w32(r.data.length, 8);
  w32(r.origLen ?? r.data.length, 12);
  return Buffer.concat([h, r.data]);
}

export function buildPcap(s: StreamSpec, records: RecordSpec[]): Buffer {
  return Buffer.concat([globalHeader(s), ...records.map((r) => record(s, r))]);
}

export interface ReadPcap {
  header: Buffer;
  littleEndian: boolean;
  records: Buffer[];
}

/** Reads a whole pcap file strictly (written apart from the code under test): throws unless it is a header and whole records. */
export function readPcap(b: Buffer): ReadPcap {
  if (b.length < 24) throw new Error(`file of ${b.length} bytes has no global header`);
  const magicLe = b.readUInt32LE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  const magicBe = b.readUInt32BE(0);
  if (!le && magicBe !== 0xa1b2c3d4 && magicBe !== 0xa1b23c4d) throw new Error('bad magic');
  const records: Buffer[] = [];
  let off = 24;
  while (off < b.length) {
    if (off + 16 > b.length) throw new Error(`record header cut at ${off}`);
    const len = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
    if (len > 262144) throw new Error(`record of ${len} bytes at ${off}`);
    if (off + 16 + len > b.length) throw new Error(`record cut at ${off}`);
    records.push(b.subarray(off, off + 16 + len));
    off += 16 + len;
  }
  return { header: b.subarray(0, 24), littleEndian: le, records };
}

export interface SplitResult {
  files: Buffer[];
  unparsed: Buffer;
  corrupt: { offset: number; reason: string } | null;
  packets: number;
  pieces: SplitPiece[];
}

/**
 * Drives the splitter the way CaptureFiles does: the input in chunks of the
 * given sizes (cycled), a time cut after the chunks listed in `cutsAfter`,
 * and files assembled from the header and the record runs.
 */
export function splitAll(input: Uint8Array, chunkSizes: number[], maxFileBytes: number | null, cutsAfter: Set<number> = new Set()): SplitResult {
  const splitter = new RecordSplitter({ maxFileBytes });
  const pieces: SplitPiece[] = [];
  const files: Buffer[][] = [];
  let header: Uint8Array | null = null;
  let current: Buffer[] | null = null;
  const unparsed: Uint8Array[] = [];
  let corrupt: SplitResult['corrupt'] = null;
  let packets = 0;
  const close = () => {
    if (!header) return;
    files.push(current ?? [Buffer.from(header)]);
    current = null;
  };
  const apply = (ps: SplitPiece[]) => {
    for (const p of ps) {
      pieces.push(p);
      if (p.kind === 'header') header = p.bytes;
      else if (p.kind === 'records') {
        current ??= [Buffer.from(header!)];
        current.push(Buffer.from(p.data));
        packets += p.count;
      } else if (p.kind === 'cut') close();
      else if (p.kind === 'corrupt') corrupt = { offset: p.offset, reason: p.reason };
      else unparsed.push(p.data);
    }
  };
  let off = 0;
  for (let i = 0; off < input.length; i++) {
    const size = Math.max(1, chunkSizes[i % Math.max(chunkSizes.length, 1)] ?? input.length);
    apply(splitter.push(input.subarray(off, off + size)));
    off += size;
    if (cutsAfter.has(i)) {
      close();
      splitter.newFile();
    }
  }
  apply(splitter.end());
  close();
  return { files: files.map((f) => Buffer.concat(f)), unparsed: Buffer.concat(unparsed), corrupt, packets, pieces };
}
