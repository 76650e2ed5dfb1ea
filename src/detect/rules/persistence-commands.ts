import type { Evidence, Severity } from '../finding.js';
import { rowRule, type Hit, type Rule } from '../rule.js';
import type { RowOf, Source } from '../rows.js';
import { commandSigns, type CommandSign } from '../signs/commands.js';
import { clip, tsOf } from './evidence.js';

/** One command a persistence mechanism will run, with where it is written. */
interface Command {
  text: string;
  path: string;
  line: number | null;
  user?: string | null;
  mtime?: string | null;
}

/** A place commands persist in, read from one collector's rows. */
interface Place<S extends Source> {
  key: string;
  collector: S;
  /** How the rule titles call one of its commands. */
  noun: string;
  attack: readonly string[];
  /** What to read and undo, for the description. */
  next: string;
  commands(row: RowOf<S>): Command[];
  /** Signs judged here (shell start-up files also flag programs started in the background). */
  signs: readonly CommandSign[];
}

const BASIC: readonly CommandSign[] = ['download-exec', 'decode', 'reverse-shell', 'temp-exec'];

/** Script text from a firstLines column: one command per line that is not blank or a comment. */
function scriptLines(text: string | null, path: string, mtime: string | null): Command[] {
  if (!text) return [];
  return text.split('\n').flatMap((l, i) => (l.trim() === '' || l.trim().startsWith('#') ? [] : [{ text: l, path, line: i + 1, mtime }]));
}

const PLACES = [
  {
    key: 'cron',
    collector: 'cron',
    noun: 'cron job',
    attack: ['T1053.003'],
    next: 'Keep the crontab copy under files/, note the URL or address, find who wrote the file (its owner and mtime against auth.log and the web or Redis logs), then remove the job; Redis-written crontabs have binary junk around the line.',
    signs: BASIC,
    commands: (r: RowOf<'cron'>) => {
      if ((r.kind === 'job' || r.kind === 'at-job') && r.command) return [{ text: r.command, path: r.file, line: r.line, user: r.user, mtime: r.mtime }];
      if (r.kind === 'script') return scriptLines(r.firstLines, r.file, r.mtime);
      return [];
    },
  } satisfies Place<'cron'>,
  {
    key: 'systemd',
    collector: 'systemd',
    noun: 'systemd unit command',
    attack: ['T1543.002'],
    next: 'Keep the unit copy, check whether a package owns the unit file (a drop-in or a unit in /etc overriding a packaged one is the usual trick), stop and disable the unit after preserving what it runs, and look at its enabling links.',
    signs: BASIC,
    commands: (r: RowOf<'systemd'>) =>
      r.kind === 'exec' && r.active !== false && r.command ? [{ text: r.command, path: r.path, line: r.line, user: r.owner, mtime: r.mtime }] : [],
  } satisfies Place<'systemd'>,
  {
    key: 'rc',
    collector: 'init-scripts',
    noun: 'init script or rc.local line',
    attack: ['T1037.004'],
    next: 'Keep the script copy, check whether a package owns it (dpkg -S), look at its rc links and mtime, and remove it with its links after preserving it.',
    signs: BASIC,
    commands: (r: RowOf<'init-scripts'>) => {
      if (r.kind === 'rc-local-line' && r.raw) return [{ text: r.raw, path: r.path, line: r.line, mtime: r.mtime }];
      if (r.kind === 'script' || r.kind === 'rc-local' || r.kind === 'rc-link') return scriptLines(r.firstLines, r.path, r.mtime);
      return [];
    },
  } satisfies Place<'init-scripts'>,
  {
    key: 'shell-startup',
    collector: 'shell-startup',
    noun: 'shell start-up file line',
    attack: ['T1546.004'],
    next: 'Keep the file copy; every login or interactive shell of the users it belongs to has run this line, so look at what it started (processes, sockets) and at the file\'s owner and mtime, then remove the line.',
    signs: [...BASIC, 'background'],
    commands: (r: RowOf<'shell-startup'>) =>
      r.kind === 'line' && r.raw ? [{ text: r.raw, path: r.path, line: r.lineNumber, user: r.users.join(',') || null, mtime: r.mtime }] : [],
  } satisfies Place<'shell-startup'>,
  {
    key: 'autostart',
    collector: 'autostart',
    noun: 'autostart, motd, package-manager hook or udev command',
    attack: ['T1546'],
    next: 'Keep the file copy, check whether a package owns it, and remove the entry after preserving it; motd scripts run as root at every SSH login, APT hooks at every package operation, udev rules when a device appears.',
    signs: BASIC,
    commands: (r: RowOf<'autostart'>) => {
      if (r.command) return [{ text: r.command, path: r.path, line: r.line, user: r.owner, mtime: r.mtime }];
      if (r.kind === 'motd') return scriptLines(r.firstLines, r.path, r.mtime);
      return [];
    },
  } satisfies Place<'autostart'>,
  {
    key: 'modprobe',
    collector: 'kernel-modules',
    noun: 'modprobe install or remove command',
    attack: ['T1547.006'],
    next: 'Keep the modprobe.d file copy: its command runs as root each time the module is requested. Remove the directive after preserving it and check what the command fetched or started.',
    signs: BASIC,
    commands: (r: RowOf<'kernel-modules'>) =>
      r.kind === 'config' && (r.directive === 'install' || r.directive === 'remove') && r.args ? [{ text: r.args, path: r.source ?? r.path, line: r.lineNumber, mtime: r.mtime }] : [],
  } satisfies Place<'kernel-modules'>,
];

/** What each sign means, how bad it is, and what it adds to the technique of the place. */
const SIGNS: Record<CommandSign, { severity: Severity; attack: readonly string[]; id: string; title: string; means: string; falsepositives: readonly string[] }> = {
  'download-exec': {
    severity: 'high',
    attack: ['T1105'],
    id: 'download-exec',
    title: 'downloads and runs code',
    means:
      'fetches something from the network and runs it (curl or wget piped to a shell, a download made executable): the persistence of mass-exploitation campaigns (Kinsing, TeamTNT, 8220, Redis worms), which re-fetch their payload so that deleting it is not enough.',
    falsepositives: ['update scripts written by administrators that pipe a vendor installer to a shell'],
  },
  decode: {
    severity: 'high',
    attack: ['T1027'],
    id: 'decode-exec',
    title: 'decodes a hidden payload',
    means: 'decodes base64 (or hex) at run time: the command it runs is hidden from whoever reads the file. Decode the payload from the copy and judge what it does.',
    falsepositives: ['scripts that decode configuration or certificates'],
  },
  'reverse-shell': {
    severity: 'critical',
    attack: ['T1059.004'],
    id: 'reverse-shell',
    title: 'opens a network shell',
    means: 'opens /dev/tcp or /dev/udp, or hands a shell to nc, socat or a scripting one-liner: every run gives the intruder a shell on this host. Block the address it names.',
    falsepositives: ['health checks written with bash /dev/tcp (they redirect no shell, but read the line)'],
  },
  'temp-exec': {
    severity: 'high',
    attack: ['T1105'],
    id: 'temp-exec',
    title: 'runs a program from a temporary directory',
    means: 'runs a program or script from /tmp, /var/tmp or /dev/shm, where dropped tools live and nothing installed does. Copy the program it names (if still there) and hash it.',
    falsepositives: ['jobs that run a vendor installer unpacked in /tmp'],
  },
  background: {
    severity: 'high',
    attack: [],
    id: 'background',
    title: 'starts a program in the background',
    means: 'starts a program in the background (&, nohup, setsid, screen -dm) each time a shell starts: a way to relaunch an implant at every login.',
    falsepositives: ['users who start an agent (ssh-agent, gpg-agent) or a session manager from their profile'],
  },
};

function placeRules<S extends Source>(place: Place<S>): Rule[] {
  return place.signs.map((sign) => {
    const s = SIGNS[sign];
    return rowRule<S>({
      id: `persistence.${place.key}.${s.id}`,
      title: `${place.noun} ${s.title}`,
      severity: s.severity,
      attack: [...place.attack, ...s.attack],
      description: `${/^[aeiou]/.test(place.noun) ? 'An' : 'A'} ${place.noun} ${s.means} ${place.next}`,
      falsepositives: s.falsepositives,
      references: place.attack.map((a) => `https://attack.mitre.org/techniques/${a.replace('.', '/')}/`),
      reads: [place.collector],
      match: (row: RowOf<S>) => place.commands(row).flatMap((c) => (commandSigns(c.text).has(sign) ? [commandHit(c)] : [])),
    });
  });
}

function commandHit(c: Command): Hit {
  const evidence: Evidence = { path: c.path, text: clip(c.text) };
  if (c.line !== null) evidence.line = c.line;
  if (c.user) evidence.user = c.user;
  return { evidence, ts: tsOf(c.mtime) };
}

export const PERSISTENCE_COMMAND_RULES: Rule[] = PLACES.flatMap((p) => placeRules(p as Place<Source>));
