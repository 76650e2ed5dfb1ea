/**
 * Shell and REPL history files: which ones exist per home, and the facts of
 * one file — lines, and the first and last timestamps where the format keeps
 * them: bash with HISTTIMEFORMAT (`#1700000000` before each command), zsh's
 * extended history (`: 1700000000:0;cmd`) and fish (`  when: 1700000000`).
 * Commands themselves are not extracted: the raw copy holds them.
 */
export type HistoryFormat = 'bash' | 'zsh' | 'fish' | 'sh' | 'python' | 'mysql' | 'psql' | 'less' | 'vim' | 'node' | 'redis';

/** History files looked for in every home, relative to it. */
export const HISTORY_FILES: readonly { rel: string; format: HistoryFormat }[] = [
  { rel: '.bash_history', format: 'bash' },
  { rel: '.zsh_history', format: 'zsh' },
  { rel: '.zhistory', format: 'zsh' },
  { rel: '.histfile', format: 'zsh' },
  { rel: '.local/share/fish/fish_history', format: 'fish' },
  { rel: '.sh_history', format: 'sh' },
  { rel: '.ash_history', format: 'sh' },
  { rel: '.history', format: 'sh' },
  { rel: '.python_history', format: 'python' },
  { rel: '.mysql_history', format: 'mysql' },
  { rel: '.psql_history', format: 'psql' },
  { rel: '.lesshst', format: 'less' },
  { rel: '.viminfo', format: 'vim' },
  { rel: '.node_repl_history', format: 'node' },
  { rel: '.rediscli_history', format: 'redis' },
];

export interface HistoryFacts {
  lines: number;
  /** Lines that carry a timestamp in this format. */
  timestamps: number;
  /** UTC time of the first and last timestamp, in file order (not sorted: out-of-order stamps are kept as written). */
  firstTime: string | null;
  lastTime: string | null;
}

const PATTERNS: Partial<Record<HistoryFormat, RegExp>> = {
  bash: /^#(\d{1,11})\s*$/,
  zsh: /^: {0,2}(\d{1,11}):\d*;/,
  fish: /^\s+when:\s*(\d{1,11})\s*$/,
};

function secondsToIso(s: string): string | null {
  const n = Number(s);
  return Number.isFinite(n) && n > 0 ? new Date(n * 1000).toISOString() : null;
}

export function historyFacts(buf: Buffer, format: HistoryFormat): HistoryFacts {
  let lines = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
  if (buf.length > 0 && buf[buf.length - 1] !== 10) lines++;
  const re = PATTERNS[format];
  let timestamps = 0;
  let firstTime: string | null = null;
  let lastTime: string | null = null;
  if (re) {
    for (const l of buf.toString('latin1').split('\n')) {
      const m = re.exec(l.length > 64 ? l.slice(0, 64) : l);
      if (!m) continue;
      const t = secondsToIso(m[1]!);
      if (t === null) continue;
      timestamps++;
      firstTime ??= t;
      lastTime = t;
    }
  }
  return { lines, timestamps, firstTime, lastTime };
}
