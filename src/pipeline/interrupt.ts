import { logErr } from '../lib/terminal.js';

export const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * SIGINT, SIGTERM and SIGHUP (an SSH session dropping) abort the run so the
 * bundle can still be sealed as partial. A second signal leaves at once.
 */
export function interruptOnSignals(): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (ctl.signal.aborted) {
      logErr(`goldhour: second ${sig}, leaving without sealing`);
      process.exit(SIGNAL_EXIT[sig] ?? 1);
    }
    logErr(`goldhour: ${sig} received, sealing a partial bundle`);
    ctl.abort(sig);
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, handler);
  return { signal: ctl.signal, dispose: () => sigs.forEach((s) => process.off(s, handler)) };
}
