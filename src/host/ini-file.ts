/**
 * Simple INI files: XDG .desktop entries (/etc/xdg/autostart, ~/.config/autostart)
 * and yum/dnf plugin configuration. `[group]` headers, `key=value` lines, '#'
 * (and for plugin files ';') comments, no continuations. A repeated key keeps
 * its last value, as the XDG spec's readers do. Line numbers are kept.
 */
export interface IniValue {
  value: string;
  line: number;
}

export type IniFile = Record<string, Record<string, IniValue>>;

export function parseIniFile(text: string): { groups: IniFile; badLines: number[] } {
  const groups: IniFile = Object.create(null) as IniFile;
  const badLines: number[] = [];
  let group: string | null = null;
  text.split('\n').forEach((raw, i) => {
    const l = raw.replace(/\r$/, '').trim();
    if (l === '' || l.startsWith('#') || l.startsWith(';')) return;
    if (l.startsWith('[') && l.endsWith(']')) {
      group = l.slice(1, -1);
      groups[group] ??= Object.create(null) as Record<string, IniValue>;
      return;
    }
    const eq = l.indexOf('=');
    if (group === null || eq <= 0) {
      badLines.push(i + 1);
      return;
    }
    groups[group]![l.slice(0, eq).trim()] = { value: l.slice(eq + 1).trim(), line: i + 1 };
  });
  return { groups, badLines };
}
