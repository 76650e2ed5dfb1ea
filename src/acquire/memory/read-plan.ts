import type { PhysRange } from './iomem.js';
import type { PhysPiece } from './segment-table.js';

/** One positioned read of the source. */
export interface ReadPiece {
  address: number;
  position: number;
  length: number;
}

/** One physically contiguous run of RAM: a LiME record. */
export interface PlanRecord {
  start: number;
  /** One past the last byte. */
  end: number;
  pieces: ReadPiece[];
}

export interface ReadPlan {
  records: PlanRecord[];
  /** Bytes of memory the plan reads. */
  bytes: number;
  /** System RAM the source does not map (left out of the image and listed in the sidecar). */
  unmapped: PhysRange[];
  /** --max-size cut the plan short. */
  truncated: boolean;
}

/** Sources addressed by physical address (/dev/mem, /dev/crash): every byte is at its own address. */
export const IDENTITY: PhysPiece[] = [{ start: 0, end: 2 ** 52, position: 0, segment: -1 }];

/** RAM ranges ∩ the source's physical pieces (both sorted and non-overlapping), cut at maxBytes. */
export function buildPlan(ram: readonly PhysRange[], pieces: readonly PhysPiece[], maxBytes = Infinity): ReadPlan {
  const sorted = [...pieces].sort((a, b) => a.start - b.start);
  const records: PlanRecord[] = [];
  const unmapped: PhysRange[] = [];
  let bytes = 0;
  let truncated = false;
  let p = 0;
  for (const r of ram) {
    let cursor = r.start;
    while (p < sorted.length && sorted[p]!.end <= r.start) p++;
    for (let q = p; q < sorted.length && sorted[q]!.start < r.end; q++) {
      const piece = sorted[q]!;
      const from = Math.max(r.start, piece.start);
      const to = Math.min(r.end, piece.end);
      if (to <= from) continue;
      if (from > cursor) unmapped.push({ start: cursor, end: from });
      cursor = to;
      let length = to - from;
      if (bytes + length > maxBytes) {
        length = maxBytes - bytes;
        truncated = true;
      }
      if (length <= 0) continue;
      const read: ReadPiece = { address: from, position: piece.position + (from - piece.start), length };
      const last = records.at(-1);
      if (last && last.end === from) {
        last.end += length;
        last.pieces.push(read);
      } else {
        records.push({ start: from, end: from + length, pieces: [read] });
      }
      bytes += length;
    }
    if (cursor < r.end) unmapped.push({ start: cursor, end: r.end });
  }
  return { records, bytes, unmapped, truncated };
}
