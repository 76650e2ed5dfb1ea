import { logErr } from '../../lib/terminal.js';
import { SIGNAL_EXIT } from '../../pipeline/interrupt.js';

/** `pcap --stop` asks with SIGUSR2: Node keeps SIGUSR1 for its debugger. */
export const STOP_REQUEST_SIGNAL = 'SIGUSR2';

/**
 * Signals that end a capture. Whoever receives one stops the tool in order
 * and seals; a second one leaves at once (the tool then dies with goldhour).
 * Which stops count as planned is the caller's decision.
 */
export function stopOnSignals(onStop: (sig: NodeJS.Signals) => void): { dispose(): void } {
  let received: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals) => {
    if (received) {
      logErr(`goldhour pcap: second signal (${sig}), leaving without sealing`);
      process.exit(SIGNAL_EXIT[sig] ?? 1);
    }
    received = sig;
    onStop(sig);
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', STOP_REQUEST_SIGNAL];
  for (const s of sigs) process.on(s, handler);
  return { dispose: () => sigs.forEach((s) => process.off(s, handler)) };
}
