/**
 * Output of `rpm -Va` (rpm(8), VERIFY OPTIONS): one line per file that
 * differs, "SM5DLUGTP" flags (a dot where the check passed, '?' where it could
 * not be made) or "missing", then an attribute marker (c config, d doc,
 * g ghost, l license, r readme, a artifact, P public key) and the path. Output is read as
 * bytes; a path with a newline in it spills onto the next line, which then
 * does not parse and is returned as `bad` with its text.
 */
export interface RpmVerifyLine {
  line: number;
  /** The flag column as printed ("S.5....T." or "missing"). */
  flags: string;
  missing: boolean;
  sizeDiffers: boolean;
  modeDiffers: boolean;
  digestDiffers: boolean;
  /** c config, d doc, g ghost, l license, r readme, a artifact, P public key, or null. */
  attr: string | null;
  path: Buffer;
  /** For a missing file that could not be examined for another reason than ENOENT: rpm's error text. */
  error: string | null;
}

const LINE = /^([.SM5DLUGTP?]{8,9}|missing)( +)([cdglraP] )?(\/.*)$/s;
/** rpm appends " (strerror)" to a missing file when the error was not ENOENT. */
const ERRNO_SUFFIX = / \(([A-Z][A-Za-z ]+)\)$/;

export function parseRpmVerify(out: Buffer): { entries: RpmVerifyLine[]; bad: { line: number; text: string }[] } {
  const entries: RpmVerifyLine[] = [];
  const bad: { line: number; text: string }[] = [];
  let start = 0;
  let line = 0;
  while (start < out.length) {
    let end = out.indexOf(0x0a, start);
    if (end === -1) end = out.length;
    line++;
    const raw = out.subarray(start, end);
    start = end + 1;
    if (raw.length === 0) continue;
    // latin1 maps each byte to one char, so the path bytes can be recovered exactly.
    const text = raw.toString('latin1');
    const m = LINE.exec(text);
    if (!m) {
      bad.push({ line, text: raw.toString('utf8') });
      continue;
    }
    const flags = m[1]!;
    let pathText = m[4]!;
    let error: string | null = null;
    const e = flags === 'missing' ? ERRNO_SUFFIX.exec(pathText) : null;
    if (e) {
      error = e[1]!;
      pathText = pathText.slice(0, e.index);
    }
    entries.push({
      line,
      flags,
      missing: flags === 'missing',
      sizeDiffers: flags[0] === 'S',
      modeDiffers: flags[1] === 'M',
      digestDiffers: flags[2] === '5',
      attr: m[3] ? m[3][0]! : null,
      path: Buffer.from(pathText, 'latin1'),
      error,
    });
  }
  return { entries, bad };
}
