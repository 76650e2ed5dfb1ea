import { termSafe } from '../../lib/terminal.js';

/** More problem lines than this are summed up in one: a feed of a million junk lines must not flood the terminal. */
export const MAX_PROBLEM_LINES = 20;

/**
 * Problems found while loading an indicator file, each one line, with the
 * hostile bytes of the file shown escaped and clipped.
 */
export class Problems {
  private readonly lines: string[] = [];
  private more = 0;
  private readonly grouped = new Map<string, number>();
  private readonly notes: string[] = [];

  private readonly fileName: string;

  constructor(fileName: string) {
    this.fileName = termSafe(fileName);
  }

  /** A problem at one line of the file. */
  at(line: number | null, what: string, value?: string): void {
    if (this.lines.length >= MAX_PROBLEM_LINES) {
      this.more++;
      return;
    }
    const where = line === null ? this.fileName : `${this.fileName}:${line}`;
    this.lines.push(`${where}: ${safe(what)}${value === undefined ? '' : `: ${quote(value)}`}`);
  }

  /** A problem about the whole file, listed whatever the cap. */
  note(what: string): void {
    this.notes.push(`${this.fileName}: ${safe(what)}`);
  }

  /** A problem counted rather than listed (the same reason on many lines). */
  count(what: string): void {
    const key = safe(what);
    this.grouped.set(key, (this.grouped.get(key) ?? 0) + 1);
  }

  list(): string[] {
    const out = [...this.lines];
    if (this.more > 0) out.push(`${this.fileName}: ${this.more} more lines with problems not listed`);
    for (const [what, n] of this.grouped) out.push(`${this.fileName}: ${what} (${n} ${n === 1 ? 'time' : 'times'})`);
    return [...out, ...this.notes];
  }
}

/** Problem texts quote the file (a STIX id, a type name, a JSON error): escaped and clipped like values. */
function safe(what: string): string {
  return termSafe(what.length > 300 ? `${what.slice(0, 300)}…` : what);
}

export function quote(value: string, max = 80): string {
  const clipped = value.length > max ? `${value.slice(0, max)}…` : value;
  return `"${termSafe(clipped).replace(/"/g, '\\"')}"`;
}
