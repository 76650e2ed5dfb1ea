/**
 * /proc/iomem: the physical address map, one resource a line, nested by two
 * spaces of indent. Physical RAM is every entry named "System RAM" at any
 * depth, with or without a qualifier ("System RAM (virtio_mem)", "System RAM
 * (kmem)"); the end address is inclusive. Without CAP_SYS_ADMIN the kernel
 * shows every address as zero, which is not a memory map at all.
 */
export interface PhysRange {
  /** First byte. */
  start: number;
  /** One past the last byte (iomem's inclusive end + 1). */
  end: number;
}

export interface IomemMap {
  /** System RAM, sorted, overlaps and touching ranges merged. */
  ram: PhysRange[];
  /** Every address in the file was zero: the reader lacked CAP_SYS_ADMIN. */
  zeroed: boolean;
  /** Lines that were not "START-END : NAME" (kept for the sidecar, never fatal). */
  badLines: number;
}

const LINE = /^( *)([0-9a-fA-F]{1,16})-([0-9a-fA-F]{1,16}) : (.*)$/;
const RAM_NAME = /^System RAM(?: \(.*\))?$/;
/** Above this no machine has RAM and numbers stop being exact in a double. */
const MAX_PHYS = 2 ** 52;

export function parseIomem(text: string): IomemMap {
  const found: PhysRange[] = [];
  let entries = 0;
  let nonZero = 0;
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) {
      badLines++;
      continue;
    }
    entries++;
    const start = BigInt(`0x${m[2]}`);
    const last = BigInt(`0x${m[3]}`);
    if (start !== 0n || last !== 0n) nonZero++;
    if (!RAM_NAME.test(m[4]!) || last < start || last >= BigInt(MAX_PHYS)) continue;
    found.push({ start: Number(start), end: Number(last) + 1 });
  }
  const zeroed = entries > 0 && nonZero === 0;
  return { ram: zeroed ? [] : mergeRanges(found), zeroed, badLines };
}

/** Sorted, with overlapping or touching ranges joined (a nested System RAM lies inside its parent). */
export function mergeRanges(ranges: readonly PhysRange[]): PhysRange[] {
  const sorted = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start || a.end - b.end);
  const out: PhysRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}
