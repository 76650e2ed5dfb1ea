/**
 * Output of `lsattr -d FILE…` (e2fsprogs): "FLAGS PATH" per file it could read,
 * in argument order; failures go to stderr. FLAGS is a run of letters and
 * dashes whose width depends on the e2fsprogs version
 * ("----i---------e-------"). Output is matched against the argument list in
 * order, so a path holding spaces or newlines cannot be mistaken for another.
 */
export interface LsattrEntry {
  path: Buffer;
  flags: string;
  /** 'i': the file cannot be changed, renamed, linked to or deleted, even by root, until the flag is removed. */
  immutable: boolean;
  /** 'a': the file can only be appended to. */
  appendOnly: boolean;
}

export function parseLsattr(out: Buffer, args: Buffer[]): { entries: LsattrEntry[]; missing: Buffer[]; unmatched: string[] } {
  const entries: LsattrEntry[] = [];
  const missing: Buffer[] = [];
  let pos = 0;
  for (const p of args) {
    let i = pos;
    while (i < out.length && isFlagByte(out[i]!)) i++;
    const flagsEnd = i;
    const ok =
      flagsEnd > pos &&
      out[flagsEnd] === 0x20 &&
      out.length >= flagsEnd + 1 + p.length &&
      out.subarray(flagsEnd + 1, flagsEnd + 1 + p.length).equals(p) &&
      (out.length === flagsEnd + 1 + p.length || out[flagsEnd + 1 + p.length] === 0x0a);
    if (!ok) {
      missing.push(p);
      continue;
    }
    const flags = out.subarray(pos, flagsEnd).toString('latin1');
    entries.push({ path: p, flags, immutable: flags.includes('i'), appendOnly: flags.includes('a') });
    pos = flagsEnd + 1 + p.length + 1;
  }
  const unmatched: string[] = [];
  if (pos < out.length) for (const l of out.subarray(pos).toString('utf8').split('\n')) if (l.trim() !== '') unmatched.push(l.slice(0, 300));
  return { entries, missing, unmatched };
}

function isFlagByte(c: number): boolean {
  return c === 0x2d || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
