/**
 * SysV init: the LSB header of an /etc/init.d script and the names of the
 * /etc/rcN.d links (S20foo: start foo at order 20; K01foo: stop it).
 */
export interface LsbHeader {
  provides: string[];
  defaultStart: string[];
  defaultStop: string[];
  requiredStart: string[];
  shortDescription: string | null;
}

/** The `### BEGIN INIT INFO` … `### END INIT INFO` block, or null when the script has none. */
export function parseLsbHeader(text: string): LsbHeader | null {
  const lines = text.split('\n');
  const begin = lines.findIndex((l) => l.trim() === '### BEGIN INIT INFO');
  if (begin < 0) return null;
  const h: LsbHeader = { provides: [], defaultStart: [], defaultStop: [], requiredStart: [], shortDescription: null };
  for (let i = begin + 1; i < lines.length && i < begin + 200; i++) {
    const l = lines[i]!.replace(/\r$/, '');
    if (l.trim() === '### END INIT INFO') break;
    const m = l.match(/^#\s*([A-Za-z-]+):\s*(.*)$/);
    if (!m) continue;
    const words = m[2]!.trim().split(/\s+/).filter(Boolean);
    switch (m[1]!.toLowerCase()) {
      case 'provides':
        h.provides = words;
        break;
      case 'default-start':
        h.defaultStart = words;
        break;
      case 'default-stop':
        h.defaultStop = words;
        break;
      case 'required-start':
        h.requiredStart = words;
        break;
      case 'short-description':
        h.shortDescription = m[2]!.trim();
        break;
    }
  }
  return h;
}

export interface RcLinkName {
  action: 'start' | 'kill';
  order: number;
  service: string;
}

/** S20foo / K01foo; null for names rc ignores (README, anything else). */
export function parseRcLinkName(name: string): RcLinkName | null {
  const m = name.match(/^([SK])(\d{2})(.+)$/);
  if (!m) return null;
  return { action: m[1] === 'S' ? 'start' : 'kill', order: Number(m[2]), service: m[3]! };
}
