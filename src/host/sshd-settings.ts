import type { SshdDirective } from './sshd-config.js';

/**
 * The effective value of the sshd settings that decide who can get in, from
 * the directives sshd-config.ts read (main file plus Includes, in order). As
 * in sshd, the first value given outside any Match block wins; keywords that
 * take lists (AllowUsers, Port, ListenAddress…) add up over every line. A
 * setting never given takes OpenSSH's compiled-in default (portable OpenSSH
 * 9.x), and is reported as such. Values inside Match blocks apply only to the
 * connections they match and are reported separately, with their condition.
 *
 * (The reading of the files, quoting and Includes is shared with the ssh-keys
 * collector's src/host/sshd-config.ts; this file only adds the effective view.)
 */
export interface SshdSetting {
  /** Keyword as sshd_config(5) spells it. */
  keyword: string;
  /** Arguments joined by spaces; null for a list keyword never given (no restriction). */
  value: string | null;
  /** No line set it: the value is OpenSSH's default. */
  isDefault: boolean;
  file: string | null;
  line: number | null;
  /** The Match condition the value is under, or null for the global value. */
  match: string | null;
}

interface Known {
  keyword: string;
  default: string | null;
  /** Every line adds to the list instead of the first one winning. */
  list?: boolean;
}

export const SSHD_SETTINGS: Known[] = [
  { keyword: 'PermitRootLogin', default: 'prohibit-password' },
  { keyword: 'PasswordAuthentication', default: 'yes' },
  { keyword: 'PermitEmptyPasswords', default: 'no' },
  { keyword: 'KbdInteractiveAuthentication', default: 'yes' },
  { keyword: 'PubkeyAuthentication', default: 'yes' },
  { keyword: 'HostbasedAuthentication', default: 'no' },
  { keyword: 'MaxAuthTries', default: '6' },
  { keyword: 'AuthorizedKeysFile', default: '.ssh/authorized_keys .ssh/authorized_keys2' },
  { keyword: 'AuthorizedKeysCommand', default: 'none' },
  { keyword: 'AuthorizedKeysCommandUser', default: null },
  { keyword: 'AuthorizedPrincipalsFile', default: 'none' },
  { keyword: 'TrustedUserCAKeys', default: 'none' },
  { keyword: 'UsePAM', default: 'no' },
  { keyword: 'PermitUserEnvironment', default: 'no' },
  { keyword: 'X11Forwarding', default: 'no' },
  { keyword: 'AllowTcpForwarding', default: 'yes' },
  { keyword: 'GatewayPorts', default: 'no' },
  { keyword: 'PermitTunnel', default: 'no' },
  { keyword: 'ForceCommand', default: 'none' },
  { keyword: 'AllowUsers', default: null, list: true },
  { keyword: 'AllowGroups', default: null, list: true },
  { keyword: 'DenyUsers', default: null, list: true },
  { keyword: 'DenyGroups', default: null, list: true },
  { keyword: 'Port', default: '22', list: true },
  { keyword: 'ListenAddress', default: '0.0.0.0 ::', list: true },
  { keyword: 'LogLevel', default: 'INFO' },
  { keyword: 'PrintLastLog', default: 'yes' },
  { keyword: 'IgnoreRhosts', default: 'yes' },
];

/** Deprecated spellings sshd still accepts. */
const ALIASES: Record<string, string> = {
  challengeresponseauthentication: 'kbdinteractiveauthentication',
  authorizedkeysfile2: 'authorizedkeysfile',
};

export function effectiveSshdSettings(directives: SshdDirective[]): SshdSetting[] {
  const known = new Map(SSHD_SETTINGS.map((k) => [k.keyword.toLowerCase(), k]));
  const global = new Map<string, SshdSetting>();
  const matched = new Map<string, SshdSetting>();
  const matchedOrder: string[] = [];
  for (const d of directives) {
    const key = ALIASES[d.key] ?? d.key;
    const k = known.get(key);
    if (!k) continue;
    const value = d.args.join(' ');
    if (d.match === null) {
      const prev = global.get(key);
      if (!prev) global.set(key, { keyword: k.keyword, value, isDefault: false, file: d.file, line: d.line, match: null });
      else if (k.list) prev.value = `${prev.value ?? ''} ${value}`.trim();
    } else {
      const mk = `${d.match}\u0000${key}`;
      const prev = matched.get(mk);
      if (!prev) {
        matched.set(mk, { keyword: k.keyword, value, isDefault: false, file: d.file, line: d.line, match: d.match });
        matchedOrder.push(mk);
      } else if (k.list) prev.value = `${prev.value ?? ''} ${value}`.trim();
    }
  }
  const out: SshdSetting[] = SSHD_SETTINGS.map(
    (k) => global.get(k.keyword.toLowerCase()) ?? { keyword: k.keyword, value: k.default, isDefault: true, file: null, line: null, match: null },
  );
  for (const mk of matchedOrder) out.push(matched.get(mk)!);
  return out;
}
