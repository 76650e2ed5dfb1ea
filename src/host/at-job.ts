import { splitLines } from './crontab.js';

/**
 * Jobs queued with at(1): files in /var/spool/cron/atjobs (Debian) or
 * /var/spool/at (RHEL). The file name encodes the queue letter, the job number
 * and the run time in minutes since the epoch (`%c%5lx%8lx`); the file is a
 * shell script at wrote, with `# atrun uid=N gid=N` and `# mail USER N` headers,
 * the submitter's environment, a `cd`, and the user's commands (inside a
 * `<< 'marcinDELIMITER…'` here-document in at 3.x).
 */
export interface AtJobName {
  /** Queue letter; '=' while the job is running. */
  queue: string;
  jobNumber: number;
  /** When at will run it (UTC ISO). */
  runAt: string;
}

export function parseAtJobName(name: string): AtJobName | null {
  const m = name.match(/^([A-Za-z=])([0-9a-f]{5})([0-9a-f]{8})$/);
  if (!m) return null;
  return { queue: m[1]!, jobNumber: parseInt(m[2]!, 16), runAt: new Date(parseInt(m[3]!, 16) * 60_000).toISOString() };
}

export interface AtJob {
  uid: number | null;
  gid: number | null;
  /** User mailed the output (from `# mail USER N`). */
  mailUser: string | null;
  /** Working directory from the `cd DIR ||` line. */
  cwd: string | null;
  /** The user's commands, exactly as bytes; the whole file when at's framing is not found. */
  command: Buffer;
  /** Line number (1-based) where the command starts. */
  commandLine: number;
}

export function parseAtJob(data: Buffer): AtJob {
  const lines = splitLines(data);
  let uid: number | null = null;
  let gid: number | null = null;
  let mailUser: string | null = null;
  let cwd: string | null = null;
  let start = -1;
  let end = lines.length;
  let afterCd = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.toString('utf8');
    const atrun = l.match(/^# atrun uid=(\d+) gid=(\d+)/);
    if (atrun) {
      uid = Number(atrun[1]);
      gid = Number(atrun[2]);
      continue;
    }
    const mail = l.match(/^# mail +(\S+)/);
    if (mail && mailUser === null) {
      mailUser = mail[1]!;
      continue;
    }
    const cd = l.match(/^cd (.*) \|\| \{$/);
    if (cd && cwd === null) {
      cwd = cd[1]!.replace(/\\(.)/g, '$1');
      continue;
    }
    if (cwd !== null && afterCd < 0 && l === '}') {
      afterCd = i + 1;
      continue;
    }
    const here = l.match(/<< '(marcinDELIMITER[0-9a-f]+)'$/);
    if (here && start < 0) {
      start = i + 1;
      const delim = here[1]!;
      end = lines.length;
      for (let k = start; k < lines.length; k++) {
        if (lines[k]!.toString('latin1') === delim) {
          end = k;
          break;
        }
      }
      break;
    }
  }
  if (start < 0) start = afterCd >= 0 ? afterCd : 0;
  if (start >= lines.length) return { uid, gid, mailUser, cwd, command: Buffer.alloc(0), commandLine: start + 1 };
  let body = Buffer.concat(lines.slice(start, end).flatMap((l, i) => (i === 0 ? [l] : [Buffer.from('\n'), l])));
  let trim = body.length;
  while (trim > 0 && body[trim - 1] === 0x0a) trim--; // at adds a blank line after the commands
  body = body.subarray(0, trim);
  return { uid, gid, mailUser, cwd, command: body, commandLine: start + 1 };
}
