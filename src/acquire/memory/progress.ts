/**
 * Bytes, rate and time left on stderr while an image is written. On a
 * terminal one line is rewritten in place; elsewhere (a log, a pipe over SSH)
 * a line is printed every few seconds so the log stays short.
 */
export class Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastShown = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream | null,
  ) {
    this.tty = out?.isTTY === true;
  }

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (this.out && now - this.lastShown >= (this.tty ? 250 : 5000)) {
      this.lastShown = now;
      this.write(this.line(now), false);
    }
  }

  finish(): void {
    if (this.out) this.write(this.line(Date.now()), true);
  }

  private line(now: number): string {
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = this.done / secs;
    const left = rate > 0 ? Math.ceil((this.total - this.done) / rate) : null;
    const pct = this.total > 0 ? Math.floor((this.done / this.total) * 100) : 100;
    return `${this.label}: ${size(this.done)} of ${size(this.total)} (${pct}%), ${(rate / 1e6).toFixed(0)} MB/s, ${left === null ? '?' : duration(left)} left`;
  }

  private write(line: string, final: boolean): void {
    try {
      if (this.tty) this.out!.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
      else this.out!.write(`${line}\n`);
    } catch {
      // stderr gone (SSH dropped): the acquisition goes on
    }
  }
}

function size(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

function duration(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}
