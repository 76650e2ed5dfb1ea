
/**
 * One line of a syslog file, split into header and message: classic BSD
 * syslog (`Nov 23 10:00:01 web01 sshd[123]: …`, Debian's auth.log and RHEL's
 * secure), the same with an RFC 3339 stamp (rsyslog's high-precision format,
 * Debian 13), and RFC 5424 (`<38>1 2026-11-23T10:00:01Z web01 sshd 123 - [sd] …`).
 * Lines are attacker-controlled: anything else is null, never an exception.
 */
export interface SyslogLine {
  /** The timestamp as written (parse it with parseLogTime only for lines that matter: most do not). */
  time: string | null;
  host: string;
  /** Program name (APP-NAME in RFC 5424, the tag before [pid] otherwise). */
  tag: string;
  /** Null when the line carries none (RFC 5424 `-`, or a tag without [pid]). */
  pid: string | null;
  message: string;
}

const MON = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const CLASSIC = new RegExp(
  `^(?:<\\d{1,3}>)?(${MON} [ \\d]?\\d \\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,9})?|\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,9})?(?:Z|[+-]\\d\\d:?\\d\\d)?) ` +
    `(\\S{1,255}) ([^\\s\\[:]{1,64})(?:\\[(\\d{1,10})\\])?: ?([\\s\\S]*)$`,
);
const SD_ELEMENT = '\\[[^\\s\\]"=]{1,32}(?: [^\\s\\]"=]{1,32}="(?:[^"\\\\]|\\\\[\\s\\S])*")*\\]';
const RFC5424 = new RegExp(`^<\\d{1,3}>1 (\\S{1,64}) (\\S{1,255}) (\\S{1,48}) (\\S{1,128}) \\S{1,32} (-|(?:${SD_ELEMENT})+)(?: ([\\s\\S]*))?$`);

export function parseSyslogLine(line: string): SyslogLine | null {
  let m = CLASSIC.exec(line);
  if (m) return { time: m[1]!, host: m[2]!, tag: m[3]!, pid: m[4] ?? null, message: m[5]!.trimStart() };
  if (line.charCodeAt(0) !== 60 /* < */) return null;
  m = RFC5424.exec(line);
  if (!m) return null;
  const [, ts, host, app, procid, , msg] = m;
  return {
    time: ts === '-' ? null : ts!,
    host: host!,
    tag: app!,
    pid: procid === '-' ? null : procid!,
    message: (msg ?? '').replace(/^\uFEFF/, ''),
  };
}
