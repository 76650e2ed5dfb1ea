/**
 * Host paths are bytes. A name may be invalid UTF-8 (an intruder's favourite
 * trick to break tools), so where a path becomes a string for JSON or a bundle
 * entry name, invalid bytes are written as %XX and a literal '%' as %25 — but
 * only for names that need it, so ordinary names stay readable; such entries
 * also carry the raw bytes in base64 so nothing is lost.
 */
export interface EncodedPath {
  text: string;
  /** Present only when `text` is not the exact bytes (invalid UTF-8). */
  base64?: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeHostPath(raw: Buffer | string): EncodedPath {
  if (typeof raw === 'string') return { text: raw };
  try {
    return { text: decoder.decode(raw) };
  } catch {
    return { text: escapeInvalidUtf8(raw), base64: raw.toString('base64') };
  }
}

function escapeInvalidUtf8(raw: Buffer): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const len = utf8SequenceLength(raw, i);
    if (len === 0) {
      out += `%${raw[i]!.toString(16).toUpperCase().padStart(2, '0')}`;
      i += 1;
    } else {
      const chunk = raw.subarray(i, i + len).toString('utf8');
      out += chunk === '%' ? '%25' : chunk;
      i += len;
    }
  }
  return out;
}

/** Length of a valid UTF-8 sequence starting at i, or 0 if the byte there starts none. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xe0 && c1 < 0xa0) return 0;
    if (c === 0xed && c1 > 0x9f) return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 > 0x8f) return 0;
    return 4;
  }
  return 0;
}

/**
 * Where a raw copy of a host file goes inside the bundle: under files/, at the
 * host's own absolute path. '.' and '..' components can't occur in a path the
 * Host resolved, but they are neutralised anyway so a hostile name can never
 * climb out of files/ when someone extracts the bundle with an ordinary tool.
 */
export function bundlePathForHostFile(hostPath: string): string {
  const parts = hostPath.split('/').filter((p) => p !== '' && p !== '.');
  return ['files', ...parts.map((p) => (p === '..' ? '%2E%2E' : p))].join('/');
}
