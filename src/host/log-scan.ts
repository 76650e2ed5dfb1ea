import { parseLogTime, type LogStamp } from './syslog-time.js';

/**
 * Facts about a text log gathered in one streaming pass, whatever its size:
 * bytes, lines, NUL bytes and runs of them (a log wiped with zeros, or
 * truncated while its writer kept its offset, leaves NUL runs), and the first
 * and last timestamps found. Memory stays at two 64 KiB windows.
 */
export interface LogScan {
  bytes: number;
  /** Newline-terminated lines, plus a last line without one. */
  lines: number;
  nulBytes: number;
  /** Separate runs of NUL bytes. */
  nulRuns: number;
  firstStamp: LogStamp | null;
  lastStamp: LogStamp | null;
}

const WINDOW = 64 * 1024;
const MAX_LINES_TRIED = 2000;
const ZERO_BLOCK = Buffer.alloc(4096);

export class LogScanner {
  private bytes = 0;
  private newlines = 0;
  private nulBytes = 0;
  private nulRuns = 0;
  private inNul = false;
  private lastByte = -1;
  private head: Buffer[] = [];
  private headLen = 0;
  /** The last chunks, holding at least the last WINDOW bytes (chunks are kept, not copied: callers must not reuse them). */
  private tail: Buffer[] = [];
  private tailLen = 0;

  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    this.countNuls(chunk);
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.newlines++;
    if (this.headLen < WINDOW) {
      // the head starts at the first byte that is not NUL, so a zeroed start does not hide the first line
      let start = 0;
      if (this.headLen === 0) while (start < n && chunk[start] === 0) start++;
      const part = chunk.subarray(start, start + WINDOW - this.headLen);
      if (part.length > 0) {
        this.head.push(Buffer.from(part));
        this.headLen += part.length;
      }
    }
    this.tail.push(chunk);
    this.tailLen += n;
    while (this.tail.length > 1 && this.tailLen - this.tail[0]!.length >= WINDOW) this.tailLen -= this.tail.shift()!.length;
    this.bytes += n;
    this.lastByte = chunk[n - 1]!;
  }

  private countNuls(chunk: Buffer): void {
    const n = chunk.length;
    let p = 0;
    while (p < n) {
      if (this.inNul) {
        let q = p;
        while (q + ZERO_BLOCK.length <= n && chunk.compare(ZERO_BLOCK, 0, ZERO_BLOCK.length, q, q + ZERO_BLOCK.length) === 0) q += ZERO_BLOCK.length;
        while (q < n && chunk[q] === 0) q++;
        this.nulBytes += q - p;
        p = q;
        if (q < n) this.inNul = false;
      } else {
        const i = chunk.indexOf(0, p);
        if (i === -1) break;
        this.nulRuns++;
        this.inNul = true;
        p = i;
      }
    }
  }

  finish(): LogScan {
    const whole = this.bytes <= WINDOW;
    return {
      bytes: this.bytes,
      lines: this.newlines + (this.bytes > 0 && this.lastByte !== 10 ? 1 : 0),
      nulBytes: this.nulBytes,
      nulRuns: this.nulRuns,
      firstStamp: firstStampIn(Buffer.concat(this.head)),
      lastStamp: lastStampIn(Buffer.concat(this.tail).subarray(-WINDOW), whole),
    };
  }
}

function splitLines(buf: Buffer): string[] {
  return buf.toString('latin1').split('\n');
}

/** The first timestamp among the first lines of a buffer that starts at a line start. */
export function firstStampIn(buf: Buffer): LogStamp | null {
  const lines = splitLines(buf);
  for (let i = 0; i < lines.length && i < MAX_LINES_TRIED; i++) {
    const s = parseLogTime(lines[i]!);
    if (s) return s;
  }
  return null;
}

/** The last timestamp among the last lines of a buffer; its first line is partial unless it starts the file. */
export function lastStampIn(buf: Buffer, startsAtLineStart: boolean): LogStamp | null {
  const lines = splitLines(buf);
  const stop = startsAtLineStart ? 0 : 1;
  for (let i = lines.length - 1, tried = 0; i >= stop && tried < MAX_LINES_TRIED; i--, tried++) {
    const s = parseLogTime(lines[i]!);
    if (s) return s;
  }
  return null;
}

/** Scans a whole buffer (tests, small files). */
export function scanLog(buf: Buffer): LogScan {
  const s = new LogScanner();
  s.push(buf);
  return s.finish();
}
