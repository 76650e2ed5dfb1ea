import { classify, INDICATOR_KINDS, parseAs, type IndicatorKind, type Parsed } from './indicator.js';
import type { IndicatorSet } from './indicator-set.js';
import type { Problems } from './problems.js';

/** "kind:" before a value says what a plain list means where the shape cannot (domain:update.sh). */
const PREFIX = new RegExp(`^(${[...INDICATOR_KINDS, 'hash', 'ipv4', 'ipv6', 'name'].join('|')}):(?!//)\\s*(.+)$`, 'i');
const PREFIX_KIND: Record<string, IndicatorKind | 'hash'> = { ipv4: 'ip', ipv6: 'ip', name: 'filename', ip: 'cidr' };

const HASHES = new Set(['md5', 'sha1', 'sha256']);

/**
 * One indicator a line, its kind told by its shape (src/detect/ioc/indicator.ts
 * classify): hashes, addresses and networks, URLs, absolute paths, names with a
 * file extension, domains. `#` starts a comment (at the start of a line or after
 * a blank). A hash may be followed by a name, kept as its label, so that
 * `sha256sum` output (HASH  NAME) loads as it is; any other line of several
 * words is reported.
 */
export function loadPlain(lines: readonly string[], fileName: string, into: IndicatorSet, problems: Problems): void {
  lines.forEach((raw, i) => {
    const line = stripComment(raw).trim();
    if (line === '') return;
    const [first, ...rest] = line.split(/\s+/);
    const parsed = parseWord(first!);
    // more than one word is an indicator only in md5sum/sha256sum output: HASH, then the file it was taken of
    if (!parsed || (rest.length > 0 && !HASHES.has(parsed.kind))) {
      problems.at(i + 1, 'not an indicator', raw);
      return;
    }
    into.add(parsed, `${fileName}:${i + 1}`, rest.length > 0 ? rest.join(' ').replace(/^\*/, '') : null);
  });
}

function parseWord(word: string): Parsed | null {
  const m = PREFIX.exec(word);
  if (!m) return classify(word);
  const k = m[1]!.toLowerCase();
  const kind = PREFIX_KIND[k] ?? (k as IndicatorKind | 'hash');
  return kind === 'hash' ? classify(m[2]!) : parseAs(kind, m[2]!);
}

function stripComment(line: string): string {
  const m = /(?:^|\s)#/.exec(line);
  return m ? line.slice(0, m.index) : line;
}
