/**
 * APT configuration (/etc/apt/apt.conf, /etc/apt/apt.conf.d/*): nested scopes
 * (`DPkg { Post-Invoke { "cmd"; }; };`), `::`-joined keys
 * (`DPkg::Post-Invoke { "cmd"; };`), quoted or bare values, `//`, `/* *\/` and
 * `#` comments, and the `#include` / `#clear` directives. Every value comes
 * back with its full key and the line it was written on, so hooks that APT
 * runs through a shell (Pre-Invoke, Post-Invoke, Pre-Install-Pkgs) can be
 * picked out. Keys are case-insensitive in APT; they are returned as written.
 */
export interface AptAssignment {
  /** Full key (`DPkg::Post-Invoke`); `#include` / `#clear` for those directives. */
  key: string;
  value: string;
  /** 1-based line where the value starts. */
  line: number;
}

interface Token {
  type: 'word' | 'string' | '{' | '}' | ';' | 'directive';
  text: string;
  line: number;
}

function tokenize(text: string): { tokens: Token[]; unterminated: number | null } {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  let atLineStart = true;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '#' && atLineStart) {
      const end = text.indexOf('\n', i);
      const body = text.slice(i, end < 0 ? n : end).replace(/\r$/, '');
      const m = body.match(/^#(include|clear)\s+(.*?)\s*;?\s*$/);
      if (m) tokens.push({ type: 'directive', text: `#${m[1]} ${m[2]}`, line });
      i = end < 0 ? n : end;
      continue;
    }
    atLineStart = false;
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (text[k] === '\n') line++;
      i = stop;
      continue;
    }
    if (c === '{' || c === '}' || c === ';') {
      tokens.push({ type: c, text: c, line });
      i++;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return { tokens, unterminated: line };
      const s = text.slice(i + 1, end);
      tokens.push({ type: 'string', text: s, line });
      for (const ch of s) if (ch === '\n') line++;
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < n && !/[\s{};"]/.test(text[j]!) && !(text[j] === '/' && (text[j + 1] === '/' || text[j + 1] === '*'))) j++;
    tokens.push({ type: 'word', text: text.slice(i, j), line });
    i = j;
  }
  return { tokens, unterminated: null };
}

export function parseAptConf(text: string): { assignments: AptAssignment[]; unterminatedString: number | null } {
  const { tokens, unterminated } = tokenize(text);
  const out: AptAssignment[] = [];
  const scope: string[] = [];
  let stmt: Token[] = [];
  const join = (...parts: string[]) => parts.filter((p) => p !== '').map((p) => p.replace(/::$/, '')).join('::');
  const finish = () => {
    if (stmt.length === 0) return;
    const [first, ...rest] = stmt;
    if (rest.length === 0) {
      // a lone value inside a block is a list item of the block's key
      out.push({ key: join(...scope), value: first!.text, line: first!.line });
    } else {
      out.push({ key: join(...scope, first!.text), value: rest.map((t) => t.text).join(' '), line: rest[0]!.line });
    }
    stmt = [];
  };
  for (const t of tokens) {
    switch (t.type) {
      case 'directive':
        out.push({ key: t.text.split(' ')[0]!, value: t.text.slice(t.text.indexOf(' ') + 1), line: t.line });
        break;
      case '{': {
        const [first, ...rest] = stmt;
        if (first && rest.length > 0) out.push({ key: join(...scope, first.text), value: rest.map((x) => x.text).join(' '), line: rest[0]!.line });
        scope.push(first ? first.text : '');
        stmt = [];
        break;
      }
      case '}':
        finish();
        scope.pop();
        break;
      case ';':
        finish();
        break;
      default:
        stmt.push(t);
    }
  }
  finish();
  return { assignments: out, unterminatedString: unterminated };
}

/** Keys whose values APT or dpkg run as shell commands, or that replace the programs APT runs. */
export function isAptHookKey(key: string): boolean {
  return /(^|::)(Pre-Invoke|Post-Invoke|Post-Invoke-Success|Pre-Install-Pkgs|Post-Install-Pkgs)$/i.test(key) || /^Dir::Bin::/i.test(key) || /^#include$/.test(key);
}
