import { errnoCode, errorMessage } from '../../lib/user-error.js';
import type { CaseWriter } from '../../evidence/case-writer.js';
import type { CaptureFiles } from './capture-files.js';
import { CaptureProcess, type ProcessEnd, type StopLadder } from './capture-process.js';
import { Progress } from './progress.js';
import type { StopReason } from './sidecar.js';
import { STOP_REQUEST_SIGNAL, stopOnSignals } from './stop-signals.js';

/** A tool that has not written its pcap header by then is not capturing. */
export const HEADER_TIMEOUT_MS = 30_000;

export interface SessionPlan {
  durationMs: number | null;
  rotateMs: number | null;
  ladder: StopLadder;
  quiet: boolean;
}

export interface SessionEnd {
  end: ProcessEnd;
  reason: StopReason;
  signal: NodeJS.Signals | null;
  requested: Date | null;
  capturingAt: number | null;
  stagingError: string | null;
}

/**
 * Runs the capture tool and keeps time: its stdout goes into the capture
 * files, --rotate cuts them on a timer aligned to the moment the capture
 * began, and the tool is stopped (drain, SIGINT, SIGTERM, SIGKILL) when
 * --duration is up, when goldhour gets a signal, when staging fails, or when
 * the tool never starts writing. Progress goes to stderr meanwhile.
 */
export class CaptureSession {
  readonly proc: CaptureProcess;
  private capturingAt: number | null = null;
  private reason: StopReason | null = null;
  private signal: NodeJS.Signals | null = null;
  private requested: Date | null = null;
  private stopping: Promise<ProcessEnd> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly progress: Progress;

  constructor(
    argv: string[],
    private readonly files: CaptureFiles,
    private readonly writer: CaseWriter,
    private readonly plan: SessionPlan,
    private readonly log: (line: string) => void,
  ) {
    this.proc = CaptureProcess.start(argv);
    this.progress = new Progress(() => ({
      bytes: files.bytes,
      packets: files.packets,
      file: Math.max(files.fileCount, 1),
      leftMs: plan.durationMs === null || this.capturingAt === null ? null : this.capturingAt + plan.durationMs - Date.now(),
    }));
  }

  /** The capture files call this when the tool's pcap header arrives: the capture is running, the clocks start. */
  capturing(): void {
    this.capturingAt = Date.now();
    if (this.plan.durationMs !== null) this.timers.push(setTimeout(() => this.requestStop('duration'), this.plan.durationMs));
    if (this.plan.rotateMs !== null) this.scheduleRotation(1);
    if (!this.plan.quiet) this.progress.start();
  }

  async run(): Promise<SessionEnd> {
    const signals = stopOnSignals((sig) => {
      this.signal = sig;
      this.log(`goldhour pcap: ${sig}: stopping the capture and sealing the bundle`);
      this.requestStop(sig === STOP_REQUEST_SIGNAL ? 'stop-request' : 'signal');
    });
    this.timers.push(
      setTimeout(() => {
        if (this.capturingAt === null) this.requestStop('no-header');
      }, HEADER_TIMEOUT_MS),
    );
    let stagingError: string | null = null;
    let end: ProcessEnd;
    try {
      for await (const chunk of this.proc.stdout as AsyncIterable<Buffer>) {
        if (stagingError) continue; // keep draining, so the tool is never stuck on a full pipe while it is stopped
        await this.files.take(chunk).catch((err: unknown) => {
          stagingError = errorMessage(err);
          this.writer.recordError({ collector: 'pcap', path: null, code: errnoCode(err) ?? 'EWRITE', message: `staging failed: ${stagingError}` });
          this.requestStop('staging-failed');
        });
      }
      end = await (this.stopping ?? this.proc.ended);
    } finally {
      for (const t of this.timers) clearTimeout(t);
      this.progress.stop();
      signals.dispose();
      if (!this.proc.exited) await this.proc.stop({ drainMs: 0, graceMs: this.plan.ladder.graceMs });
    }
    return { end, reason: this.reason ?? 'tool-exited', signal: this.signal, requested: this.requested, capturingAt: this.capturingAt, stagingError };
  }

  private requestStop(reason: StopReason): void {
    this.reason ??= reason;
    this.requested ??= new Date();
    this.stopping ??= this.proc.stop(this.plan.ladder);
  }

  /** Cut k falls at k × --rotate after the capture began (no drift), and none at or after the end of --duration. */
  private scheduleRotation(k: number): void {
    const start = this.capturingAt!;
    const at = start + k * this.plan.rotateMs!;
    if (this.plan.durationMs !== null && at >= start + this.plan.durationMs) return;
    this.timers.push(
      setTimeout(() => {
        this.files.rotate().catch((err: unknown) => {
          this.writer.recordError({ collector: 'pcap', path: null, code: errnoCode(err) ?? 'EROTATE', message: `rotation failed: ${errorMessage(err)}` });
        });
        this.scheduleRotation(k + 1);
      }, at - Date.now()),
    );
  }
}
