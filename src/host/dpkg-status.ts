/**
 * /var/lib/dpkg/status (deb822 paragraphs, as dpkg writes them; see
 * deb-control(5) and dpkg(1)). Fields may continue over lines that start with
 * a space or tab, files may have been edited by hand with CRLF line ends, and a
 * paragraph without a Package field is reported, not dropped.
 */
export interface DpkgConffile {
  path: string;
  /** MD5 dpkg recorded when it installed the file ("newconffile" while unpacking). */
  md5: string;
  /** Marked obsolete (no longer shipped) or remove-on-upgrade. */
  obsolete: boolean;
}

export interface DpkgPackage {
  /** 1-based line where the paragraph starts. */
  line: number;
  name: string;
  version: string | null;
  arch: string | null;
  /** The Status field as written: "want flag state", e.g. "install ok installed". */
  status: string | null;
  /** The third word of Status: installed, config-files, half-configured, unpacked… */
  state: string | null;
  multiArch: string | null;
  conffiles: DpkgConffile[];
  /** Every field, names lower-cased, continuation lines joined with \n. */
  fields: Map<string, string>;
}

export interface Deb822Paragraph {
  line: number;
  fields: Map<string, string>;
}

/** Splits deb822 text into paragraphs of fields; lines that are neither a field nor a continuation are counted as bad. */
export function parseDeb822(text: string): { paragraphs: Deb822Paragraph[]; bad: number[] } {
  const paragraphs: Deb822Paragraph[] = [];
  const bad: number[] = [];
  let cur: Deb822Paragraph | null = null;
  let last: string | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.replace(/\r$/, '');
    if (l.trim() === '') {
      if (cur) paragraphs.push(cur);
      cur = null;
      last = null;
      continue;
    }
    if (l.startsWith('#') && cur === null) continue;
    if (l[0] === ' ' || l[0] === '\t') {
      if (cur && last !== null) {
        const body = l.slice(1);
        cur.fields.set(last, `${cur.fields.get(last)!}\n${body.trim() === '.' ? '' : body}`);
      } else {
        bad.push(i + 1);
      }
      continue;
    }
    const colon = l.indexOf(':');
    if (colon <= 0) {
      bad.push(i + 1);
      continue;
    }
    if (!cur) cur = { line: i + 1, fields: new Map() };
    last = l.slice(0, colon).trim().toLowerCase();
    cur.fields.set(last, l.slice(colon + 1).trim());
  }
  if (cur) paragraphs.push(cur);
  return { paragraphs, bad };
}

export function parseConffiles(value: string): DpkgConffile[] {
  const out: DpkgConffile[] = [];
  for (const raw of value.split('\n')) {
    const words = raw.trim().split(/\s+/).filter(Boolean);
    if (words.length < 2) continue;
    let obsolete = false;
    while (words.length > 2 && (words[words.length - 1] === 'obsolete' || words[words.length - 1] === 'remove-on-upgrade')) {
      words.pop();
      obsolete = true;
    }
    const md5 = words.pop()!;
    const path = words.join(' ');
    if (!path.startsWith('/')) continue;
    out.push({ path, md5: md5.toLowerCase(), obsolete });
  }
  return out;
}

export function parseDpkgStatus(text: string): { packages: DpkgPackage[]; bad: number[] } {
  const { paragraphs, bad } = parseDeb822(text);
  const packages: DpkgPackage[] = [];
  for (const p of paragraphs) {
    const name = p.fields.get('package');
    if (!name) {
      bad.push(p.line);
      continue;
    }
    const status = p.fields.get('status') ?? null;
    packages.push({
      line: p.line,
      name,
      version: p.fields.get('version') ?? null,
      arch: p.fields.get('architecture') ?? null,
      status,
      state: status?.split(/\s+/)[2] ?? null,
      multiArch: p.fields.get('multi-arch') ?? null,
      conffiles: parseConffiles(p.fields.get('conffiles') ?? ''),
      fields: p.fields,
    });
  }
  return { packages, bad };
}

/** States in which a package's files are (supposed to be) on disk. */
export function hasFilesOnDisk(state: string | null): boolean {
  return state !== null && state !== 'not-installed' && state !== 'config-files';
}

export interface DpkgDiversion {
  /** The path the package ships. */
  from: string;
  /** Where dpkg puts that package's file instead. */
  to: string;
  /** Package that set up the diversion (":" for a local diversion by the administrator — or an intruder). */
  by: string;
}

/** /var/lib/dpkg/diversions: records of three lines (from, to, diverting package). */
export function parseDiversions(text: string): { diversions: DpkgDiversion[]; trailingLines: number } {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const diversions: DpkgDiversion[] = [];
  let i = 0;
  for (; i + 3 <= lines.length; i += 3) diversions.push({ from: lines[i]!, to: lines[i + 1]!, by: lines[i + 2]! });
  return { diversions, trailingLines: lines.length - i };
}
