/**
 * The dynamic loader's configuration: /etc/ld.so.preload (libraries loaded
 * into every dynamically linked program) and /etc/ld.so.conf with its
 * includes (directories searched for libraries, via ldconfig's cache).
 */

export interface PreloadEntry {
  line: number;
  /** The library as written: an absolute path, a bare name, or a name with $LIB/$PLATFORM tokens. */
  library: string;
}

/**
 * ld.so splits /etc/ld.so.preload on spaces, tabs, newlines and colons and
 * has no comment syntax: a '#' word is taken as a library name like any other,
 * so it is kept here too.
 */
export function parsePreload(text: string): PreloadEntry[] {
  const out: PreloadEntry[] = [];
  text.split('\n').forEach((l, i) => {
    for (const w of l.split(/[ \t:\r]+/)) if (w !== '') out.push({ line: i + 1, library: w });
  });
  return out;
}

export type LdConfDirective =
  | { line: number; directive: 'include'; value: string }
  | { line: number; directive: 'directory'; value: string }
  | { line: number; directive: 'hwcap'; value: string };

/**
 * ldconfig's parse_conf: '#' starts a comment anywhere on a line; `include`
 * takes one or more glob patterns (relative ones are relative to the including
 * file's directory); `hwcap` is a legacy directive; anything else is a directory.
 */
export function parseLdSoConf(text: string): LdConfDirective[] {
  const out: LdConfDirective[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const hash = raw.indexOf('#');
    const s = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (s === '') return;
    const inc = /^include[ \t]+(.+)$/.exec(s);
    if (inc) {
      for (const p of inc[1]!.split(/[ \t]+/)) out.push({ line, directive: 'include', value: p });
      return;
    }
    const hw = /^hwcap[ \t]+(.+)$/.exec(s);
    if (hw) {
      out.push({ line, directive: 'hwcap', value: hw[1]! });
      return;
    }
    out.push({ line, directive: 'directory', value: s });
  });
  return out;
}

/** Which loader variables an /etc/environment-style line sets; only those that load or steer code. */
export const LOADER_VARIABLES = ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT'] as const;

export interface LoaderAssignment {
  line: number;
  name: (typeof LOADER_VARIABLES)[number];
  /** Value with one pair of surrounding quotes removed. */
  value: string;
}

/** LD_PRELOAD=…, LD_LIBRARY_PATH=…, LD_AUDIT=… lines of /etc/environment (pam_env reads KEY=VAL, optional `export `). */
export function loaderAssignments(text: string): LoaderAssignment[] {
  const out: LoaderAssignment[] = [];
  text.split('\n').forEach((raw, i) => {
    const m = /^[ \t]*(?:export[ \t]+)?(LD_PRELOAD|LD_LIBRARY_PATH|LD_AUDIT)[ \t]*=(.*)$/.exec(raw.replace(/\r$/, ''));
    if (!m) return;
    out.push({ line: i + 1, name: m[1] as LoaderAssignment['name'], value: m[2]!.trim().replace(/^(['"])(.*)\1$/, '$2') });
  });
  return out;
}
