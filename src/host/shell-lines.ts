/**
 * Lines of shell start-up files (profile, bashrc, zshrc, config.fish,
 * /etc/environment), sorted into what they do. Deliberately shallow: one
 * physical line at a time, no full shell grammar. The point is to keep every
 * line that can run something (commands, sourced files, functions, aliases,
 * command substitution, variables the shell or loader executes) and to leave
 * out plain `NAME=value` settings, so rows stay few and factual.
 */
export type ShellLineKind = 'command' | 'assignment' | 'source' | 'alias' | 'function';

export interface ShellLine {
  kind: ShellLineKind;
  /** For assignments: the variable name; for aliases and functions: the name defined. */
  name: string | null;
  /** For source lines: the file sourced, as written (unquoted). */
  target: string | null;
  /** Whether the line holds $(…) or `…` command substitution, or a process substitution <(…). */
  substitution: boolean;
}

/**
 * Variables whose value is run or steers what runs: shown even when assigned a
 * plain value (PROMPT_COMMAND runs before every prompt, LD_PRELOAD loads a
 * library into every program, BASH_ENV is sourced by every script…).
 */
export const EXECUTING_VARIABLES: ReadonlySet<string> = new Set([
  'PROMPT_COMMAND',
  'BASH_ENV',
  'ENV',
  'ZDOTDIR',
  'PATH',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'LD_AUDIT',
  'PYTHONSTARTUP',
  'PYTHONPATH',
  'PERL5OPT',
  'PERL5LIB',
  'RUBYOPT',
  'NODE_OPTIONS',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'SUDO_ASKPASS',
  'SSH_ASKPASS',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'MANPAGER',
  'HISTFILE',
  'HISTSIZE',
  'HISTFILESIZE',
  'HISTIGNORE',
  'LESSOPEN',
  'LESSCLOSE',
]);

const SUBSTITUTION = /\$\(|`|<\(|>\(/;
const ASSIGN = /^(?:(?:export|declare|typeset|readonly|local)(?:[ \t]+-[A-Za-z]+)*[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)(\+?=)/;

function unquote(word: string): string {
  return word.replace(/^(['"])(.*)\1$/, '$2');
}

/** Whether an assignment's value ends at the end of the line (no `NAME=x command` prefix form). */
function valueIsWholeRest(rest: string): boolean {
  let quote = '';
  let depth = 0; // inside $( … ) or ` … `
  let backtick = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c === '\\' && quote !== "'") {
      i++;
      continue;
    }
    if (quote === "'") {
      if (c === "'") quote = '';
      continue;
    }
    if (c === '$' && rest[i + 1] === '(') {
      depth++;
      i++;
      continue;
    }
    if (c === '`') {
      backtick = !backtick;
      continue;
    }
    if (depth > 0 || backtick) {
      if (c === ')' && depth > 0) depth--;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ' ' || c === '\t') return /^[ \t]*(?:#.*|;[ \t]*)?$/.test(rest.slice(i));
    else if (c === ';' || c === '&' || c === '|') return false;
  }
  return true;
}

/**
 * Classifies one line (already without \n; a trailing \r is ignored). Null for
 * blank lines and comments. `shell` 'fish' reads `set NAME value` as an assignment;
 * 'env' (/etc/environment) has only assignments.
 */
export function classifyShellLine(raw: string, shell: 'sh' | 'fish' | 'env' = 'sh'): ShellLine | null {
  const s = raw.replace(/\r$/, '').trim();
  if (s === '' || s.startsWith('#')) return null;
  const substitution = SUBSTITUTION.test(s);
  const base = { name: null, target: null, substitution };
  if (shell === 'env') {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(s);
    return { ...base, kind: m ? 'assignment' : 'command', name: m ? m[1]! : null };
  }
  const words = s.split(/[ \t]+/);
  const first = words[0]!;
  if (first === 'alias' || first === 'abbr') {
    const m = /^(?:alias|abbr)[ \t]+(?:-[A-Za-z-]+[ \t]+)*([^ \t=]+)/.exec(s);
    return { ...base, kind: 'alias', name: m ? unquote(m[1]!) : null };
  }
  if ((first === 'source' || first === '.') && words.length > 1) {
    return { ...base, kind: 'source', target: unquote(words[1]!.replace(/[;&|]+$/, '')) };
  }
  const fn = /^(?:function[ \t]+([^ \t(){}]+)|([A-Za-z_][A-Za-z0-9_:.-]*)[ \t]*\(\)[ \t]*(?:\{|\(|$))/.exec(s);
  if (fn) return { ...base, kind: 'function', name: fn[1] ?? fn[2]! };
  if (shell === 'fish' && first === 'set') {
    const name = words.slice(1).find((w) => !w.startsWith('-')) ?? null;
    return { ...base, kind: 'assignment', name };
  }
  const exported = /^(?:export|declare|typeset|readonly)(?:[ \t]+-[A-Za-z]+)*[ \t]+([A-Za-z_][A-Za-z0-9_]*)(?:[ \t]+[A-Za-z_][A-Za-z0-9_]*)*[ \t]*;?$/.exec(s);
  if (exported) return { ...base, kind: 'assignment', name: exported[1]! };
  const a = ASSIGN.exec(s);
  if (a && valueIsWholeRest(s.slice(a[0].length))) return { ...base, kind: 'assignment', name: a[1]! };
  return { ...base, kind: 'command' };
}

/**
 * Whether a classified line gets a row: everything except a plain assignment
 * (no command substitution, not a variable that executes or steers code).
 */
export function isNotable(l: ShellLine): boolean {
  if (l.kind !== 'assignment') return true;
  return l.substitution || (l.name !== null && EXECUTING_VARIABLES.has(l.name));
}
