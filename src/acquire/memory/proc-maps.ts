/**
 * /proc/PID/maps, one mapping a line: "start-end perms offset major:minor
 * inode   path". The path is whatever the file was called (the kernel escapes
 * only the newline), so it is kept as bytes; addresses are kept as bigint
 * because [vsyscall] sits above 2^63.
 */
export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  offset: bigint;
  dev: string;
  inode: bigint;
  /** Empty for anonymous memory; "[heap]", "[stack]", "[vvar]"… for the kernel's named regions. */
  path: Buffer;
}

const LINE = /^([0-9a-f]{1,16})-([0-9a-f]{1,16}) ([r-][w-][x-][psS]) ([0-9a-f]{1,16}) ([0-9a-f]{1,8}:[0-9a-f]{1,8}) ([0-9]{1,20})(?: +([\s\S]*))?$/;

export function parseMapsLine(line: string): Mapping | null {
  const m = LINE.exec(line);
  if (!m) return null;
  const start = BigInt(`0x${m[1]}`);
  const end = BigInt(`0x${m[2]}`);
  if (end <= start) return null;
  return {
    start,
    end,
    perms: m[3]!,
    offset: BigInt(`0x${m[4]}`),
    dev: m[5]!,
    inode: BigInt(m[6]!),
    path: Buffer.from(m[7] ?? '', 'latin1'),
  };
}

/** Lines of maps (or the header lines of smaps) read as bytes; lines that are not mappings are counted, not fatal. */
export function parseMaps(data: Buffer): { mappings: Mapping[]; badLines: number } {
  const mappings: Mapping[] = [];
  let badLines = 0;
  for (const line of data.toString('latin1').split('\n')) {
    if (line === '') continue;
    const m = parseMapsLine(line);
    if (m) mappings.push(m);
    else badLines++;
  }
  return { mappings, badLines };
}

/** Resident bytes of each mapping in /proc/PID/smaps, by start address. */
export function parseSmapsRss(data: Buffer): Map<bigint, number> {
  const rss = new Map<bigint, number>();
  let current: bigint | null = null;
  for (const line of data.toString('latin1').split('\n')) {
    const m = parseMapsLine(line);
    if (m) {
      current = m.start;
      continue;
    }
    const r = /^Rss:\s+(\d{1,15}) kB$/.exec(line);
    if (r && current !== null && !rss.has(current)) rss.set(current, Number(r[1]) * 1024);
  }
  return rss;
}

/** The kernel's own pages mapped into every process: [vvar] gives EIO on every page, [vsyscall] lies above 2^63. */
export function kernelRegion(path: Buffer): string | null {
  const name = path.toString('latin1');
  if (name.startsWith('[vvar')) return 'kernel data page shared with every process ([vvar]); every read gives EIO';
  if (name === '[vsyscall]') return 'legacy vsyscall page above 2^63, the same in every process';
  return null;
}
