/**
 * binfmt_misc: the kernel runs a registered interpreter for every executed
 * file whose bytes (magic) or name (extension) match, which makes a handler a
 * way to run code whenever some kind of file is executed.
 *
 * Two formats: an entry as /proc/sys/fs/binfmt_misc/NAME shows it, and the
 * registration string `:name:type:offset:magic:mask:interpreter:flags` that
 * binfmt.d(5) files hold (the first character is the field separator).
 */
export interface BinfmtEntry {
  enabled: boolean | null;
  interpreter: string | null;
  /** Flag letters: P preserve argv[0], O open binary, C credentials of the binary, F fix (interpreter opened at registration). */
  flags: string;
  offset: number | null;
  /** Hex bytes (from the kernel) of the magic to match, or null for extension handlers. */
  magic: string | null;
  mask: string | null;
  extension: string | null;
}

/** Parses what the kernel shows for one handler. */
export function parseBinfmtEntry(text: string): BinfmtEntry {
  const e: BinfmtEntry = { enabled: null, interpreter: null, flags: '', offset: null, magic: null, mask: null, extension: null };
  for (const raw of text.split('\n')) {
    const l = raw.replace(/\r$/, '');
    if (l === 'enabled') e.enabled = true;
    else if (l === 'disabled') e.enabled = false;
    else if (l.startsWith('interpreter ')) e.interpreter = l.slice(12);
    else if (l.startsWith('flags:')) e.flags = l.slice(6).trim();
    else if (l.startsWith('offset ')) e.offset = /^\d+$/.test(l.slice(7)) ? Number(l.slice(7)) : null;
    else if (l.startsWith('magic ')) e.magic = l.slice(6);
    else if (l.startsWith('mask ')) e.mask = l.slice(5);
    else if (l.startsWith('extension ')) e.extension = l.slice(10);
  }
  return e;
}

export interface BinfmtRegistration {
  line: number;
  name: string;
  /** M: match magic bytes; E: match the file name extension. */
  type: string;
  offset: string;
  /** Magic (for M) or extension (for E) as written, escapes such as \x7f kept. */
  magic: string;
  mask: string;
  interpreter: string;
  flags: string;
  raw: string;
}

/** One registration string; null when it does not have the seven fields the kernel wants. */
export function parseRegistration(raw: string, line: number): BinfmtRegistration | null {
  const s = raw.replace(/\r$/, '').trim();
  if (s.length < 2) return null;
  const sep = s[0]!;
  const f = s.slice(1).split(sep);
  // the kernel accepts a missing trailing flags field
  if (f.length < 6 || f.length > 7) return null;
  const [name, type, offset, magic, mask, interpreter, flags] = f;
  if (!name || (type !== 'M' && type !== 'E')) return null;
  return { line, name, type, offset: offset!, magic: magic!, mask: mask!, interpreter: interpreter!, flags: flags ?? '', raw };
}

/** binfmt.d: one registration a line; '#' and ';' start comments. */
export function parseBinfmtD(text: string): { registrations: BinfmtRegistration[]; bad: number[] } {
  const registrations: BinfmtRegistration[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) return;
    const r = parseRegistration(raw, i + 1);
    if (r) registrations.push(r);
    else bad.push(i + 1);
  });
  return { registrations, bad };
}
