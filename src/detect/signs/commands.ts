import { inTempDir } from './paths.js';

/**
 * What a persistence command line does that installed software does not:
 * fetch code and run it, decode a hidden payload, open a network shell, run a
 * program from a world-writable place, or start something in the background.
 * Judged on the text as written; an attacker can always obfuscate further, so
 * these catch the common forms (the ones Kinsing, TeamTNT, 8220 and the Redis
 * crontab worms use), not every possible one.
 */
export type CommandSign = 'download-exec' | 'decode' | 'reverse-shell' | 'temp-exec' | 'background';

const FETCHER = String.raw`(?:curl|wget|fetch|tftp|lwp-download|lwp-request|aria2c)`;
const RUNNER = String.raw`(?:(?:ba|da|z|k|a|c|tc|fi|mk)?sh|busybox\s+sh|python[0-9.]*|perl|ruby|php[0-9.]*|node)`;

const DOWNLOAD_EXEC = [
  // curl … | sh, wget -O- … | sudo bash
  new RegExp(String.raw`\b${FETCHER}\b[^|;&\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:\S*/)?${RUNNER}\b`),
  // sh -c "$(curl …)", bash <(wget …), eval `curl …`, . <(curl …)
  new RegExp(String.raw`(?:\b${RUNNER}|\bsource|\beval|(?:^|[\s;&|])\.)\s+(?:-c\s+)?["']?(?:\$\(|\x60|<\()\s*(?:\S*/)?${FETCHER}\b`),
  // a download made executable: curl -o x …; chmod +x x
  new RegExp(String.raw`\b${FETCHER}\b[\s\S]*\bchmod\s+(?:-\S+\s+)*(?:[ugoa]*\+[rw]*x|[0-7]?[0-7]*[1357][0-7]{0,2}\b)`),
];

const DECODE = [
  /\bbase(?:64|32)\s+(?:-[a-zA-Z]*[dD][a-zA-Z]*|--decode)\b/,
  /\bopenssl\s+(?:enc\s+)?(?:-\S+\s+)*-(?:a|base64)\b/,
  /\b(?:b64decode|base64_decode|decodebytes|FromBase64String|atob)\s*\(/i,
  /\bxxd\s+(?:-\S+\s+)*-r\b/,
];

const REVERSE_SHELL = [
  /\/dev\/(?:tcp|udp)\//,
  /\b(?:nc|ncat|netcat|nc\.traditional|nc\.openbsd|busybox\s+nc)\b[^|;&\n]*\s-[a-zA-Z]*[ec]\b/,
  /\bsocat\b[^|;&\n]*\b(?:exec|system):/i,
  /\b(?:ba|z|k)?sh\s+-i\b[^|;\n]*[<>]&/,
  /\bmkfifo\b[\s\S]*\b(?:nc|ncat|netcat|telnet|openssl\s+s_client)\b/,
  /\bpython[0-9.]*\s+-c\s+[\s\S]*\bsocket\b[\s\S]*\b(?:subprocess|pty\.spawn|dup2)\b/,
  /\bperl\s+-[a-zA-Z]*e\s+[\s\S]*\bSocket\b[\s\S]*\b(?:exec|system)\b/,
  /\bphp[0-9.]*\s+-r\s+[\s\S]*\bfsockopen\b/,
  /\bruby\s+-rsocket\b/,
];

/** Programs that run another one given after their own options. */
const WRAPPERS = new Set(['sudo', 'nohup', 'setsid', 'exec', 'env', 'nice', 'ionice', 'timeout', 'stdbuf', 'command', 'builtin', 'time', 'chrt', 'taskset', 'flock', 'doas', 'runuser', 'su']);
/** Wrapper options followed by a value (sudo -u USER, nice -n 10, ionice -c 3…). */
const VALUED_OPTIONS = new Set(['-u', '-g', '-n', '-c', '-p', '-U', '-C', '-h', '-D', '-r', '-t', '-s']);
/** Programs whose first argument is the script they run. */
const INTERPRETERS = /^(?:(?:ba|da|z|k|a|c|tc|fi|mk)?sh|busybox|python[0-9.]*|perl|ruby|php[0-9.]*|node|source|\.)$/;

/**
 * Commands longer than this are judged on their start: the patterns scan ahead
 * from each downloader word, and a megabyte of "curl curl curl…" must not cost
 * quadratic time.
 */
const MAX_JUDGED = 16 * 1024;

export function commandSigns(text: string): Set<CommandSign> {
  const command = text.length > MAX_JUDGED ? text.slice(0, MAX_JUDGED) : text;
  const signs = new Set<CommandSign>();
  if (DOWNLOAD_EXEC.some((r) => r.test(command))) signs.add('download-exec');
  if (DECODE.some((r) => r.test(command))) signs.add('decode');
  if (REVERSE_SHELL.some((r) => r.test(command))) signs.add('reverse-shell');
  const segs = segments(command);
  if (runsFromTemp(segs)) signs.add('temp-exec');
  if (startsInBackground(command, segs)) signs.add('background');
  return signs;
}

/** The simple commands of a line: split at ; && || | & and inside $( ), ` ` and ( ). */
function segments(command: string): string[] {
  const cleaned = command.replace(/\d*[<>]&\d*-?/g, ' ').replace(/&>>?/g, ' >');
  return cleaned
    .split(/&&|\|\||[;|&\n\r`()]|\$\(/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function words(segment: string): string[] {
  return segment.split(/\s+/).map((w) => w.replace(/^["']+|["']+$/g, ''));
}

/** The program a simple command runs and the words after it. */
function program(segment: string): { prog: string; rest: string[] } | null {
  const w = words(segment);
  let i = 0;
  for (;;) {
    while (i < w.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[i]!)) i++;
    const name = (w[i] ?? '').split('/').pop() ?? '';
    if (!WRAPPERS.has(name)) break;
    i++;
    while (i < w.length && (w[i]!.startsWith('-') || /^\d+[smhd]?$/.test(w[i]!))) i += VALUED_OPTIONS.has(w[i]!) ? 2 : 1;
  }
  return i < w.length ? { prog: w[i]!, rest: w.slice(i + 1) } : null;
}

function runsFromTemp(segs: string[]): boolean {
  let cwdTemp = false;
  for (const s of segs) {
    const p = program(s);
    if (!p) continue;
    if (p.prog === 'cd') {
      cwdTemp = p.rest[0] !== undefined && inTempDir(p.rest[0]);
      continue;
    }
    if (inTempDir(p.prog) || (cwdTemp && p.prog.startsWith('./'))) return true;
    if (INTERPRETERS.test(p.prog.split('/').pop() ?? '')) {
      const script = p.rest.find((a) => !a.startsWith('-'));
      if (script && (inTempDir(script) || (cwdTemp && script.startsWith('./')))) return true;
    }
  }
  return false;
}

const DETACHERS = new Set(['nohup', 'setsid', 'disown', 'daemonize', 'start-stop-daemon']);

function startsInBackground(command: string, segs: string[]): boolean {
  const cleaned = command.replace(/\d*[<>]&\d*-?/g, ' ').replace(/&>>?/g, ' >');
  if (/(?:^|[^&])&(?!&)\s*(?:$|[;)\n#])/.test(cleaned)) return true;
  return segs.some((s) => {
    const first = (words(s)[0] ?? '').split('/').pop() ?? '';
    if (DETACHERS.has(first)) return true;
    return /^(?:screen\s+(?:-\S+\s+)*-d\S*m|tmux\s+new(?:-session)?\s+(?:-\S+\s+)*-d)/.test(s);
  });
}
