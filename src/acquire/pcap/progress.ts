import { logErr } from '../../lib/terminal.js';

export interface ProgressSample {
  bytes: number;
  packets: number;
  file: number;
  /** Milliseconds left of --duration, or null when the capture runs until stopped. */
  leftMs: number | null;
}

/**
 * A progress line on stderr: rewritten in place on a terminal every second,
 * a new line every 10 s otherwise (a log, or an SSH session without a tty).
 */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private last = { at: 0, bytes: 0 };
  private drawn = false;

  constructor(
    private readonly sample: () => ProgressSample,
    private readonly tty = process.stderr.isTTY === true,
  ) {}

  start(): void {
    this.last = { at: performance.now(), bytes: this.sample().bytes };
    this.timer = setInterval(() => this.draw(), this.tty ? 1000 : 10_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.drawn && this.tty) logErr('');
  }

  private draw(): void {
    const s = this.sample();
    const now = performance.now();
    const rate = ((s.bytes - this.last.bytes) / Math.max(now - this.last.at, 1)) * 1000;
    this.last = { at: now, bytes: s.bytes };
    const line = progressLine(s, rate);
    this.drawn = true;
    if (this.tty) {
      try {
        process.stderr.write(`\r${line.padEnd(78)}`);
      } catch {
        // stderr gone with the SSH session
      }
    } else {
      logErr(line);
    }
  }
}

export function progressLine(s: ProgressSample, bytesPerSecond: number): string {
  const left = s.leftMs === null ? 'until stopped' : `${Math.max(0, Math.ceil(s.leftMs / 1000))} s left`;
  return `pcap: ${mb(s.bytes)} MB, ${s.packets.toLocaleString('en-US')} packet${s.packets === 1 ? '' : 's'}, ${mb(bytesPerSecond)} MB/s, file ${s.file}, ${left}`;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes >= 1e8 ? 0 : 1);
}
