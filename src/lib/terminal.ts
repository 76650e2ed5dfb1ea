/**
 * Attacker-controlled text (file names, process names, log lines) must never
 * reach the responder's terminal raw: an ANSI sequence could rewrite what was
 * already printed or retitle the window. Control bytes are shown as \xNN.
 */
export function termSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Writes to stderr without ever throwing: after an SSH drop stderr may be gone. */
export function logErr(line: string): void {
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    // stderr closed: nothing left to tell
  }
}
