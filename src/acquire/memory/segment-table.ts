import { ElfFormatError, NO_PADDR, PT_LOAD, type ProgramHeader } from './elf64.js';

/** What became of one kcore program header. */
export type SegmentUse = 'ram' | 'alias' | 'partial-alias' | 'no-physical-address' | 'not-loadable' | 'empty' | 'out-of-range';

export interface SegmentRow {
  index: number;
  type: number;
  vaddr: string;
  /** Hex, or null where kcore says the segment has none (vmalloc, vmemmap, modules). */
  paddr: string | null;
  offset: number | null;
  size: number;
  use: SegmentUse;
  /** Bytes of this segment that are the source of some physical range. */
  usedBytes: number;
}

/** A physical range and where the source holds it. */
export interface PhysPiece {
  start: number;
  end: number;
  position: number;
  segment: number;
}

const MAX_PHYS = 2 ** 52;

interface Candidate {
  ph: ProgramHeader;
  start: number;
  end: number;
  position: number;
  vaddr: bigint;
}

/**
 * Which source each physical byte is read from. kcore maps the same RAM more
 * than once: the direct map (KCORE_RAM) and the kernel text mapping
 * (KCORE_TEXT) both carry a physical address. Where segments overlap
 * physically the larger segment wins (the direct map covers whole RAM blocks;
 * the text mapping is a window into one of them), then the lower virtual
 * address (the direct map sits below the kernel text), so every physical byte
 * is read exactly once and from the same kind of mapping.
 */
export function physicalPieces(phdrs: readonly ProgramHeader[]): { pieces: PhysPiece[]; table: SegmentRow[] } {
  const table: SegmentRow[] = [];
  const candidates: Candidate[] = [];
  for (const ph of phdrs) {
    const row: SegmentRow = {
      index: ph.index,
      type: ph.type,
      vaddr: hex(ph.vaddr),
      paddr: ph.paddr === NO_PADDR ? null : hex(ph.paddr),
      offset: ph.offset <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ph.offset) : null,
      size: Number(ph.filesz),
      use: 'ram',
      usedBytes: 0,
    };
    table.push(row);
    if (ph.type !== PT_LOAD) row.use = 'not-loadable';
    else if (ph.paddr === NO_PADDR) row.use = 'no-physical-address';
    else if (ph.filesz === 0n) row.use = 'empty';
    else if (ph.paddr + ph.filesz > BigInt(MAX_PHYS) || ph.offset + ph.filesz > BigInt(Number.MAX_SAFE_INTEGER)) row.use = 'out-of-range';
    else candidates.push({ ph, start: Number(ph.paddr), end: Number(ph.paddr + ph.filesz), position: Number(ph.offset), vaddr: ph.vaddr });
  }
  if (candidates.filter((c) => c.start === 0).length > 1) {
    throw new ElfFormatError('several segments claim physical address 0: this kcore does not record physical addresses (a kernel older than 4.13?)');
  }
  const pieces = sweep(candidates);
  const byIndex = new Map(table.map((r) => [r.index, r]));
  for (const p of pieces) byIndex.get(p.segment)!.usedBytes += p.end - p.start;
  for (const c of candidates) {
    const row = byIndex.get(c.ph.index)!;
    row.use = row.usedBytes === row.size ? 'ram' : row.usedBytes === 0 ? 'alias' : 'partial-alias';
  }
  return { pieces, table };
}

/** Better source first: larger segment, then lower virtual address, then earlier header. */
function better(a: Candidate, b: Candidate): boolean {
  const sa = a.end - a.start;
  const sb = b.end - b.start;
  if (sa !== sb) return sa > sb;
  if (a.vaddr !== b.vaddr) return a.vaddr < b.vaddr;
  return a.ph.index < b.ph.index;
}

/** A sweep over segment boundaries with a heap of the segments covering each point: O(n log n) for kcores of 65,535+ headers. */
function sweep(candidates: Candidate[]): PhysPiece[] {
  const byStart = [...candidates].sort((a, b) => a.start - b.start);
  const points = [...new Set(candidates.flatMap((c) => [c.start, c.end]))].sort((a, b) => a - b);
  const heap = new Heap<Candidate>(better);
  const pieces: PhysPiece[] = [];
  let next = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const x = points[k]!;
    const to = points[k + 1]!;
    while (next < byStart.length && byStart[next]!.start <= x) heap.push(byStart[next++]!);
    while (heap.top !== undefined && heap.top.end <= x) heap.pop();
    const top = heap.top;
    if (!top) continue;
    const last = pieces.at(-1);
    if (last && last.segment === top.ph.index && last.end === x) last.end = to;
    else pieces.push({ start: x, end: to, position: top.position + (x - top.start), segment: top.ph.index });
  }
  return pieces;
}

class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get top(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): void {
    const a = this.items;
    const last = a.pop();
    if (a.length === 0 || last === undefined) return;
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < a.length && this.before(a[l]!, a[best]!)) best = l;
      if (r < a.length && this.before(a[r]!, a[best]!)) best = r;
      if (best === i) break;
      [a[i], a[best]] = [a[best]!, a[i]!];
      i = best;
    }
  }
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}
