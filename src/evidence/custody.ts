import { createHash } from 'node:crypto';

/**
 * custody.jsonl: an append-only log in which each line carries the SHA-256 of
 * the line before it, so removing, reordering or editing any line breaks the
 * chain from that point on. The manifest records the count and the hash of the
 * last line, which catches a line cut from the end.
 */
export const GENESIS = '0'.repeat(64);

export interface CustodyEvent {
  event: string;
  [key: string]: unknown;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export class CustodyLog {
  private prev = GENESIS;
  private seq = 0;
  private readonly lines: string[] = [];

  /**
   * Returns the line (without newline) so a live writer can append it at once.
   * The chain's own fields come first and cannot be replaced by the entry's.
   */
  append(entry: CustodyEvent, at = new Date()): string {
    const { seq: _seq, at: _at, prev: _prev, ...rest } = entry;
    const line = JSON.stringify({ seq: ++this.seq, at: at.toISOString(), prev: this.prev, ...rest });
    this.prev = sha256Hex(line);
    this.lines.push(line);
    return line;
  }

  get head(): string {
    return this.prev;
  }

  get count(): number {
    return this.seq;
  }

  text(): string {
    return this.lines.map((l) => `${l}\n`).join('');
  }
}

export type ChainCheck =
  | { intact: true; lines: number; head: string }
  | { intact: false; lines: number; brokenAt: number; reason: string };

/**
 * Checks a custody.jsonl as bytes from an untrusted bundle. Each line is hashed
 * as the bytes on disk, not as decoded text (two byte strings can decode alike).
 * Line numbers are 1-based; an edit to line N shows as a break at N+1, whose
 * `prev` no longer matches, and the reason names both lines.
 */
export function checkCustodyChain(bytes: Buffer): ChainCheck {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(0x0a); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
  if (start < bytes.length) {
    return { intact: false, lines: lines.length + 1, brokenAt: lines.length + 1, reason: 'last line is cut off (no newline)' };
  }
  if (lines.length === 0) return { intact: false, lines: 0, brokenAt: 1, reason: 'custody log is empty' };
  let prev = GENESIS;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.toString('utf8'));
    } catch {
      return { intact: false, lines: lines.length, brokenAt: i + 1, reason: 'not valid JSON' };
    }
    const rec = parsed as { seq?: unknown; prev?: unknown };
    if (rec === null || typeof rec !== 'object' || rec.prev !== prev) {
      const reason = i === 0 ? 'the first line does not start the chain' : `line ${i + 1} does not carry the SHA-256 of line ${i}: line ${i} was changed, or lines were removed or moved`;
      return { intact: false, lines: lines.length, brokenAt: i + 1, reason };
    }
    if (rec.seq !== i + 1) {
      return { intact: false, lines: lines.length, brokenAt: i + 1, reason: `sequence number ${String(rec.seq)} where ${i + 1} was due` };
    }
    prev = sha256Hex(line);
  }
  return { intact: true, lines: lines.length, head: prev };
}
