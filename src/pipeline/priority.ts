import os from 'node:os';
import type { CaseWriter } from '../evidence/case-writer.js';
import { errorMessage } from '../lib/user-error.js';
import { execProgram, locateProgram, programSha256 } from './external-tool.js';

export type PriorityMode = 'full-speed' | 'low' | 'gentle';

/**
 * Production comes first: a live triage takes only what the server's own work
 * leaves. CPU niceness is set directly; idle I/O class and the one-core cap
 * have no Node API, so util-linux's ionice and taskset are run on our own pid
 * (recorded like any external program). A missing tool is noted, not fatal.
 */
export async function yieldToProduction(mode: PriorityMode, writer: CaseWriter, signal: AbortSignal): Promise<string[]> {
  if (mode === 'full-speed') return [];
  const notes: string[] = [];
  try {
    os.setPriority(0, 19);
    notes.push('nice 19');
  } catch (err) {
    writer.recordError({ collector: null, path: null, code: 'EPRIORITY', message: `could not lower CPU priority: ${errorMessage(err)}` });
  }
  const pid = String(process.pid);
  const steps: [string, string[], string][] = [['ionice', ['-c', '3', '-p', pid], 'idle I/O priority for goldhour itself']];
  if (mode === 'gentle') steps.push(['taskset', ['-a', '-p', '-c', String(leastBusyCpu()), pid], 'confine goldhour to one CPU (--gentle)']);
  for (const [program, args, purpose] of steps) {
    const p = await locateProgram(program);
    if (!p) {
      writer.recordError({ collector: null, path: null, code: 'ENOTOOL', message: `${program} not found: ${purpose} not applied` });
      continue;
    }
    const r = await execProgram(p, args, { timeoutMs: 5000, maxBytes: 64 * 1024, signal });
    writer.recordTool({ path: p, sha256: await programSha256(p), args, purpose, exitCode: r.exitCode });
    if (r.exitCode === 0) notes.push(purpose);
    else writer.recordError({ collector: null, path: null, code: 'EPRIORITY', message: `${program} exited ${r.exitCode}: ${r.stderr.toString().trim().slice(0, 200)}` });
  }
  return notes;
}

/** The last CPU: on most servers interrupts and the first workers land on CPU 0. */
function leastBusyCpu(): number {
  return Math.max(0, os.availableParallelism() - 1);
}
