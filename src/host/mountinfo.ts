/** /proc/PID/mountinfo (proc(5)); paths escape space, tab, newline and backslash as \ooo. */
export interface MountEntry {
  mountId: number;
  parentId: number;
  device: string;
  root: string;
  mountPoint: string;
  options: string;
  optionalFields: string[];
  fsType: string;
  source: string;
  superOptions: string;
}

export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Lines that do not parse are returned as `bad` (line numbers, 1-based) instead of being dropped silently. */
export function parseMountinfo(text: string): { mounts: MountEntry[]; bad: number[] } {
  const mounts: MountEntry[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const sep = line.indexOf(' - ');
    const left = (sep === -1 ? '' : line.slice(0, sep)).split(' ');
    const right = (sep === -1 ? '' : line.slice(sep + 3)).split(' ');
    if (left.length < 6 || right.length < 3 || !/^\d+$/.test(left[0]!) || !/^\d+$/.test(left[1]!)) {
      bad.push(i + 1);
      return;
    }
    mounts.push({
      mountId: Number(left[0]),
      parentId: Number(left[1]),
      device: left[2]!,
      root: unescapeMountPath(left[3]!),
      mountPoint: unescapeMountPath(left[4]!),
      options: left[5]!,
      optionalFields: left.slice(6),
      fsType: right[0]!,
      source: unescapeMountPath(right[1]!),
      superOptions: right.slice(2).join(' '),
    });
  });
  return { mounts, bad };
}

export interface FstabEntry {
  source: string;
  mountPoint: string;
  fsType: string;
  options: string;
}

export function parseFstab(text: string): FstabEntry[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .filter((f) => f.length >= 3)
    .map((f) => ({ source: unescapeMountPath(f[0]!), mountPoint: unescapeMountPath(f[1]!), fsType: f[2]!, options: f[3] ?? 'defaults' }));
}
