/**
 * /var/lib/dpkg/info/PKG.md5sums: one "MD5  path" line per regular file the
 * package shipped (conffiles excluded), paths relative to / without a leading
 * slash. Parsed as bytes so a path that is not valid UTF-8 is kept exactly.
 * md5sum's binary marker (" *path") and CRLF line ends are accepted.
 */
export interface Md5sumEntry {
  /** 1-based line number. */
  line: number;
  md5: string;
  /** Absolute path as bytes ("/" + what the file holds). */
  path: Buffer;
}

const HEX = /^[0-9a-fA-F]{32}$/;

export function parseMd5sums(data: Buffer): { entries: Md5sumEntry[]; bad: number[] } {
  const entries: Md5sumEntry[] = [];
  const bad: number[] = [];
  let start = 0;
  let line = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    if (end === -1) end = data.length;
    line++;
    let l = data.subarray(start, end);
    start = end + 1;
    if (l.length > 0 && l[l.length - 1] === 0x0d) l = l.subarray(0, l.length - 1);
    if (l.length === 0) continue;
    const md5 = l.subarray(0, 32).toString('latin1');
    // "MD5" then one space then " " (text) or "*" (binary) then the path; tolerate runs of spaces.
    let p = 32;
    if (!HEX.test(md5) || l.length < 35 || l[p] !== 0x20) {
      bad.push(line);
      continue;
    }
    p++;
    if (l[p] === 0x20 || l[p] === 0x2a) p++;
    let rel = l.subarray(p);
    while (rel.length > 0 && rel[0] === 0x2f) rel = rel.subarray(1);
    if (rel.length === 0) {
      bad.push(line);
      continue;
    }
    entries.push({ line, md5: md5.toLowerCase(), path: Buffer.concat([Buffer.from('/'), rel]) });
  }
  return { entries, bad };
}
