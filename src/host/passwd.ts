/**
 * /etc/passwd and /etc/group as the examined host has them. Intruders edit
 * these by hand, so lines may be malformed, duplicated, or hold odd bytes:
 * nothing is dropped silently; unparseable lines come back with their number.
 */
export interface PasswdEntry {
  line: number;
  name: string;
  password: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  line: number;
  name: string;
  password: string;
  gid: number;
  members: string[];
}

function lines(text: string): [number, string][] {
  return text
    .split('\n')
    .map((l, i): [number, string] => [i + 1, l.replace(/\r$/, '')])
    .filter(([, l]) => l.trim() !== '' && !l.startsWith('#'));
}

const isId = (s: string | undefined) => s !== undefined && /^\d+$/.test(s);

export function parsePasswd(text: string): { entries: PasswdEntry[]; bad: number[] } {
  const entries: PasswdEntry[] = [];
  const bad: number[] = [];
  for (const [line, l] of lines(text)) {
    const f = l.split(':');
    if (f.length !== 7 || !isId(f[2]) || !isId(f[3])) {
      bad.push(line);
      continue;
    }
    entries.push({ line, name: f[0]!, password: f[1]!, uid: Number(f[2]), gid: Number(f[3]), gecos: f[4]!, home: f[5]!, shell: f[6]! });
  }
  return { entries, bad };
}

export function parseGroup(text: string): { entries: GroupEntry[]; bad: number[] } {
  const entries: GroupEntry[] = [];
  const bad: number[] = [];
  for (const [line, l] of lines(text)) {
    const f = l.split(':');
    if (f.length !== 4 || !isId(f[2])) {
      bad.push(line);
      continue;
    }
    entries.push({ line, name: f[0]!, password: f[1]!, gid: Number(f[2]), members: f[3] === '' ? [] : f[3]!.split(',') });
  }
  return { entries, bad };
}

/** uid → first name with that uid (what `ls -l` would show), from the examined host's own passwd. */
export function userNames(entries: PasswdEntry[]): Map<number, string> {
  const m = new Map<number, string>();
  for (const e of entries) if (!m.has(e.uid)) m.set(e.uid, e.name);
  return m;
}
