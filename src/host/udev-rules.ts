/**
 * udev rules files: one rule per line (a trailing backslash continues it),
 * '#' comments, and comma-separated `KEY{attr}OP"value"` pairs. Rows are
 * wanted for the keys that run programs: RUN (RUN{program}, RUN{builtin}),
 * PROGRAM and IMPORT{program}.
 */
export interface UdevKey {
  key: string;
  attr: string | null;
  op: string;
  value: string;
}

export interface UdevRule {
  /** 1-based line where the rule starts. */
  line: number;
  /** The rule as written (continuations joined). */
  raw: string;
  keys: UdevKey[];
  /** Text that did not parse as a key (udev would reject the rule). */
  rest: string | null;
}

const PAIR = /^[\s,]*([A-Za-z_][A-Za-z0-9_]*)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*(e?)"((?:[^"\\]|\\.)*)"/;

function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => (e[0] === 'x' && e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 'a' ? '\x07' : e === 'b' ? '\b' : e === 'f' ? '\f' : e === 'v' ? '\v' : e));
}

export function parseUdevRules(text: string): UdevRule[] {
  const rules: UdevRule[] = [];
  const lines = text.split('\n');
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i]!.replace(/\r$/, '');
    if (buf === '') {
      start = i + 1;
      if (/^\s*(#|$)/.test(l)) continue;
    }
    if (l.endsWith('\\')) {
      buf += l.slice(0, -1);
      continue;
    }
    l = buf + l;
    buf = '';
    rules.push(parseRule(l, start));
  }
  if (buf !== '') rules.push(parseRule(buf, start));
  return rules;
}

function parseRule(text: string, line: number): UdevRule {
  const keys: UdevKey[] = [];
  let rest = text;
  for (;;) {
    const m = rest.match(PAIR);
    if (!m) break;
    keys.push({ key: m[1]!, attr: m[2] ?? null, op: m[3]!, value: m[4] === 'e' ? unescape(m[5]!) : m[5]!.replace(/\\"/g, '"') });
    rest = rest.slice(m[0].length);
  }
  rest = rest.replace(/^[\s,]+/, '');
  return { line, raw: text, keys, rest: rest === '' ? null : rest };
}

/** Keys that run a program (or a builtin) when the rule matches. */
export function isUdevExecKey(k: UdevKey): boolean {
  return k.key === 'RUN' || k.key === 'PROGRAM' || (k.key === 'IMPORT' && k.attr === 'program');
}
