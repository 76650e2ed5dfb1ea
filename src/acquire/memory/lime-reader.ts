import { LIME_HEADER_BYTES, LIME_MAGIC, LIME_VERSION } from './image-format.js';
import { readFull, type PositionedFile } from './positioned-file.js';

/**
 * Reads a LiME image back the way Volatility does (headers to the end of the
 * file) and holds it to the format's rules: magic, version 1, start <= end,
 * ascending and non-overlapping records, zero reserved bytes, each record's
 * data present, and nothing after the last one.
 */
export interface LimeRecord {
  start: number;
  /** Inclusive, as in the header. */
  end: number;
  /** File offset of the record's first data byte. */
  dataOffset: number;
}

export class LimeFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at offset ${offset})`);
    this.name = 'LimeFormatError';
  }
}

export async function readLimeRecords(file: PositionedFile, fileSize: number): Promise<LimeRecord[]> {
  const records: LimeRecord[] = [];
  const h = Buffer.alloc(LIME_HEADER_BYTES);
  let at = 0;
  let prevEnd = -1n;
  while (at < fileSize) {
    if ((await readFull(file, h, 0, LIME_HEADER_BYTES, at)) < LIME_HEADER_BYTES) throw new LimeFormatError('header cut short', at);
    if (h.readUInt32LE(0) !== LIME_MAGIC) throw new LimeFormatError(`bad magic 0x${h.readUInt32LE(0).toString(16)}`, at);
    if (h.readUInt32LE(4) !== LIME_VERSION) throw new LimeFormatError(`version ${h.readUInt32LE(4)}, expected ${LIME_VERSION}`, at);
    const start = h.readBigUInt64LE(8);
    const end = h.readBigUInt64LE(16);
    if (h.readBigUInt64LE(24) !== 0n) throw new LimeFormatError('reserved bytes are not zero', at);
    if (end < start) throw new LimeFormatError(`end 0x${end.toString(16)} before start 0x${start.toString(16)}`, at);
    if (start <= prevEnd) throw new LimeFormatError(`record at 0x${start.toString(16)} overlaps or precedes the one before`, at);
    const length = end - start + 1n;
    const dataOffset = at + LIME_HEADER_BYTES;
    if (BigInt(dataOffset) + length > BigInt(fileSize)) throw new LimeFormatError(`record of ${length} bytes runs past the end of the file`, at);
    records.push({ start: Number(start), end: Number(end), dataOffset });
    prevEnd = end;
    at = dataOffset + Number(length);
  }
  return records;
}
