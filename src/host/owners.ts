import { HostReadError, type Host } from './host.js';
import { parseGroup, parsePasswd, userNames, type PasswdEntry } from './passwd.js';

/** uid and gid → names as the examined host's own /etc/passwd and /etc/group have them (not this machine's). */
export interface Owners {
  user(uid: number | bigint): string | null;
  group(gid: number | bigint): string | null;
  passwd: PasswdEntry[];
}

export async function readOwners(host: Host, onError?: (e: HostReadError) => void): Promise<Owners> {
  const text = async (p: string) => {
    try {
      return (await host.readFile(p, { maxBytes: 16 * 1024 * 1024 })).data.toString('utf8');
    } catch (err) {
      if (!(err instanceof HostReadError)) throw err;
      if (err.code !== 'ENOENT') onError?.(err);
      return '';
    }
  };
  const passwd = parsePasswd(await text('/etc/passwd')).entries;
  const users = userNames(passwd);
  const groups = new Map<number, string>();
  for (const g of parseGroup(await text('/etc/group')).entries) if (!groups.has(g.gid)) groups.set(g.gid, g.name);
  return {
    user: (uid) => users.get(Number(uid)) ?? null,
    group: (gid) => groups.get(Number(gid)) ?? null,
    passwd,
  };
}
