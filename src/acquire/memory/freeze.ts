import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseStat } from '../../host/proc-pid.js';
import { UserError } from '../../lib/user-error.js';

export interface FreezeRecord {
  /** SIGSTOP, or none when the process was already stopped (it is then left as it was). */
  method: 'SIGSTOP' | 'none';
  stateBefore: string | null;
  stoppedAt: string | null;
  resumedAt: string | null;
}

export interface Frozen {
  record: FreezeRecord;
  /** Idempotent; also runs if goldhour exits without unwinding (a second Ctrl-C calls process.exit). */
  resume(): void;
}

function stateOf(pid: number): string | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`))?.state ?? null;
  } catch {
    return null;
  }
}

/** Goldhour itself and its ancestors (the shell, sudo, sshd): stopping one would hang the responder's session. */
export function ancestors(): Set<number> {
  const seen = new Set<number>();
  for (let pid = process.pid; pid > 1 && !seen.has(pid); ) {
    seen.add(pid);
    try {
      pid = parseStat(readFileSync(`/proc/${pid}/stat`))?.ppid ?? 0;
    } catch {
      break;
    }
  }
  return seen;
}

/**
 * Stops a process with SIGSTOP for a consistent dump. SIGSTOP rather than the
 * cgroup freezer: the freezer stops every process of the cgroup (a whole
 * service), and needs cgroup v2 write access. The process is resumed by
 * resume(), which the caller runs in a finally, and from an 'exit' hook as well.
 */
export async function freezeProcess(pid: number): Promise<Frozen> {
  if (ancestors().has(pid)) throw new UserError(`--freeze ${pid}: that is goldhour itself or one of its parents; stopping it would hang this session`);
  const before = stateOf(pid);
  const record: FreezeRecord = { method: 'none', stateBefore: before, stoppedAt: null, resumedAt: null };
  if (before === 'T' || before === 't') return { record, resume: () => undefined };
  let resumed = false;
  const resume = () => {
    if (resumed) return;
    resumed = true;
    process.off('exit', resume);
    try {
      process.kill(pid, 'SIGCONT');
      record.resumedAt = new Date().toISOString();
    } catch {
      // already gone
    }
  };
  process.on('exit', resume);
  record.method = 'SIGSTOP';
  try {
    process.kill(pid, 'SIGSTOP');
  } catch (err) {
    resume();
    throw err;
  }
  record.stoppedAt = new Date().toISOString();
  // Stopping is asynchronous: wait (briefly) until every thread has taken the signal.
  for (let i = 0; i < 100 && stateOf(pid) !== 'T' && stateOf(pid) !== null; i++) await sleep(10);
  return { record, resume };
}
