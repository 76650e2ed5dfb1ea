import type { ReadPlan } from './read-plan.js';

/**
 * The three layouts LiME itself writes. lime: each physically contiguous range
 * as a record of a 32-byte header (magic, version 1, start, inclusive end, 8
 * zero bytes) and its bytes, ascending, nothing after the last record
 * (Volatility reads headers to the end of the file). padded: a flat image from
 * address 0, gaps zero-filled, so an offset is a physical address. raw: the
 * ranges back to back, addresses kept only in the sidecar.
 */
export const IMAGE_FORMATS = ['lime', 'padded', 'raw'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const LIME_MAGIC = 0x4c694d45;
export const LIME_VERSION = 1;
export const LIME_HEADER_BYTES = 32;

const ZERO_CHUNK = 4 * 1024 * 1024;

export function imageName(format: ImageFormat): string {
  return `acquired/memory.${format}`;
}

export function limeHeader(start: number, endExclusive: number): Buffer {
  const h = Buffer.alloc(LIME_HEADER_BYTES);
  h.writeUInt32LE(LIME_MAGIC, 0);
  h.writeUInt32LE(LIME_VERSION, 4);
  h.writeBigUInt64LE(BigInt(start), 8);
  h.writeBigUInt64LE(BigInt(endExclusive - 1), 16);
  return h;
}

/** Known before the first byte is read: the case writer declares sizes up front. */
export function imageSize(plan: ReadPlan, format: ImageFormat): number {
  switch (format) {
    case 'lime':
      return plan.bytes + plan.records.length * LIME_HEADER_BYTES;
    case 'raw':
      return plan.bytes;
    case 'padded':
      return plan.records.at(-1)?.end ?? 0;
  }
}

/**
 * The image, given the plan's memory bytes in plan order (as readPieces yields
 * them: a buffer never spans two records, because reads never span pieces).
 */
export async function* imageBytes(plan: ReadPlan, format: ImageFormat, memory: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  const it = memory[Symbol.asyncIterator]();
  let at = 0;
  for (const r of plan.records) {
    if (format === 'lime') yield limeHeader(r.start, r.end);
    if (format === 'padded') {
      for (; at < r.start; at += Math.min(ZERO_CHUNK, r.start - at)) yield Buffer.alloc(Math.min(ZERO_CHUNK, r.start - at));
    }
    for (let left = r.end - r.start; left > 0; ) {
      const next = await it.next();
      if (next.done) throw new Error('memory reader ended before the plan did');
      if (next.value.length > left) throw new Error('memory reader chunk spans two records');
      left -= next.value.length;
      yield next.value;
    }
    at = r.end;
  }
}
