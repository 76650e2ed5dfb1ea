import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { TRUSTED_DIRS } from '../../pipeline/external-tool.js';

/** The tool's stderr kept: its start (what went wrong) and its end (the statistics it prints on exit). */
const STDERR_HEAD_BYTES = 48 * 1024;
const STDERR_TAIL_BYTES = 16 * 1024;

export interface StopLadder {
  /**
   * How long the tool keeps running after the stop is asked for, before the
   * first signal. libpcap's TPACKET_V3 ring hands packets over a block at a
   * time, when a block fills or its timeout (1 s in tcpdump) passes; a tool
   * stopped by a signal exits without reading the block still open, so the
   * last second of packets would be lost (measured: all 50 of a burst sent
   * just before SIGINT). Waiting longer than that timeout delivers them.
   */
  drainMs: number;
  /** How long each signal is given before the next: SIGINT, then SIGTERM, then SIGKILL. */
  graceMs: number;
}

export interface ProcessEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One capture tool running with its pcap stream on a pipe. It gets its own
 * session (a Ctrl-C at the terminal reaches goldhour only, which then stops
 * the tool in order) and a clean environment; never a shell.
 */
export class CaptureProcess {
  readonly stdout: Readable;
  readonly ended: Promise<ProcessEnd>;
  readonly signalsSent: NodeJS.Signals[] = [];
  private head = Buffer.alloc(0);
  private tail = Buffer.alloc(0);
  private skipped = 0;
  private done = false;

  private constructor(private readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    this.stdout = child.stdout;
    child.stderr.on('data', (d: Buffer) => this.keepStderr(d));
    this.ended = new Promise((resolve) => {
      const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
        this.done = true;
        resolve({ exitCode, signal });
      };
      child.on('error', () => finish(null, null));
      child.on('close', finish);
    });
  }

  static start(argv: string[]): CaptureProcess {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      shell: false,
      env: { PATH: TRUSTED_DIRS.join(':'), LC_ALL: 'C' },
    });
    return new CaptureProcess(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.done;
  }

  /** What the tool said on stderr, as text; beyond 64 KiB the middle is left out (and says so). */
  stderr(): string {
    const gap = this.skipped > 0 ? Buffer.from(`\n[${this.skipped} bytes left out]\n`) : Buffer.alloc(0);
    return Buffer.concat([this.head, gap, this.tail]).toString('utf8');
  }

  private keepStderr(d: Buffer): void {
    const room = STDERR_HEAD_BYTES - this.head.length;
    if (room > 0) this.head = Buffer.concat([this.head, d.subarray(0, room)]);
    const rest = d.subarray(Math.max(room, 0));
    if (rest.length === 0) return;
    const joined = Buffer.concat([this.tail, rest]);
    const drop = Math.max(0, joined.length - STDERR_TAIL_BYTES);
    this.skipped += drop;
    this.tail = joined.subarray(drop);
  }

  /** After `drainMs`: SIGINT, then SIGTERM, then SIGKILL, each after `graceMs` without an exit; resolves when the process is gone. */
  async stop(ladder: StopLadder): Promise<ProcessEnd> {
    if (ladder.drainMs > 0) await this.endedWithin(ladder.drainMs);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
      if (this.done) break;
      this.signalsSent.push(sig);
      try {
        this.child.kill(sig);
      } catch {
        // already gone
      }
      if (sig === 'SIGKILL') break;
      if (await this.endedWithin(ladder.graceMs)) break;
    }
    return this.ended;
  }

  private async endedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([this.ended.then(() => true), elapsed]);
    } finally {
      clearTimeout(timer);
    }
  }
}
