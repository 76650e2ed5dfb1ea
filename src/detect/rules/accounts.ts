import { joinRule, rowRule, type Rule } from '../rule.js';
import type { RowOf } from '../rows.js';
import { DAY_MS, RECENT_DAYS, ageMs, tsOf } from './evidence.js';

type A = RowOf<'accounts'>;
type L = RowOf<'logins'>;

const system = (a: A) => a.uid !== null && ((a.uid > 0 && a.uid < 1000) || a.uid === 65534);
const human = (a: A) => a.uid !== null && a.uid >= 1000 && a.uid !== 65534;
const usablePassword = (a: A) => (a.passwordState === 'hash' && a.passwordLocked !== true) || a.passwdField === 'hash';
const account = (a: A, extra: Record<string, string | number | boolean | null> = {}) => ({
  evidence: { path: a.file, ...(a.line !== null ? { line: a.line } : {}), user: a.name, uid: a.uid, shell: a.shell, ...extra },
});

/** Failed logins from one address needed before a success from it counts as a guessed password. */
export const FAILURES_BEFORE_SUCCESS = 10;

interface Attempts {
  /** Per address, the earliest FAILURES_BEFORE_SUCCESS failure times (ms), sorted, and the total. */
  failures: Map<string, { earliest: number[]; total: number }>;
  /** Per address, its latest successful logins (the ones likeliest to follow the failures). */
  successes: Map<string, L[]>;
}

const SUCCESSES_KEPT = 20;

/** The address a login record came from: the binary address when recorded, else the host text. */
const origin = (r: L) => (r.address && r.address !== '0.0.0.0' && r.address !== '::' ? r.address : r.host || null);
const isBtmp = (r: L) => /(?:^|\/)btmp[^/]*$/.test(r.source);
const isWtmp = (r: L) => /(?:^|\/)wtmp[^/]*$/.test(r.source);

export const ACCOUNT_RULES: Rule[] = [
  rowRule({
    id: 'accounts.uid0-extra',
    title: 'account other than root with uid 0',
    severity: 'critical',
    attack: ['T1136.001', 'T1078.003'],
    description:
      'An account not named root has uid 0: it is root under another name, the oldest Unix backdoor, and survives a change of root\'s password. Keep the copies of passwd and shadow (and their - backups, which show the state before the last change), note when its password was set (lastChange), lock it, and look for its logins in wtmp and auth logs.',
    falsepositives: ['toor-style recovery accounts some BSD-minded admins create'],
    references: ['https://attack.mitre.org/techniques/T1136/001/'],
    reads: ['accounts'],
    match: (a: A) => (a.kind === 'account' && a.uid === 0 && a.name !== 'root' ? account(a) : null),
  }),
  rowRule({
    id: 'accounts.empty-password',
    title: 'account with an empty password',
    severity: 'high',
    attack: ['T1078.003'],
    description:
      'The account\'s password field is empty: services that allow empty passwords (su, console login, sshd with PermitEmptyPasswords) let anyone in as it. Intruders blank a password to keep a way in. Lock or set the password, and check its logins.',
    falsepositives: ['kiosk or lab images set up without passwords on purpose'],
    references: ['https://attack.mitre.org/techniques/T1078/003/'],
    reads: ['accounts'],
    match: (a: A) => (a.kind === 'account' && (a.passwordState === 'empty' || a.passwdField === 'empty') ? account(a) : null),
  }),
  rowRule({
    id: 'accounts.passwd-hash',
    title: 'password hash written in /etc/passwd itself',
    severity: 'high',
    attack: ['T1136.001', 'T1078.003'],
    description:
      'The account\'s password hash is in /etc/passwd instead of shadow: glibc accepts it, and it is how exploits and one-line backdoors add a login (echo "user:HASH:0:0…" >> /etc/passwd) without touching shadow. Compare with passwd- (the backup), lock the account and review its logins.',
    falsepositives: ['very old systems without shadow passwords'],
    references: ['https://attack.mitre.org/techniques/T1136/001/'],
    reads: ['accounts'],
    match: (a: A) => (a.kind === 'account' && a.passwdField === 'hash' ? account(a, { scheme: a.passwdScheme }) : null),
  }),
  rowRule({
    id: 'accounts.system-password',
    title: 'system account with a usable password',
    severity: 'high',
    attack: ['T1078.003'],
    description:
      'An account below uid 1000 (a service account such as www-data, mysql or daemon) has a password hash that is not locked: packages create these accounts locked, so someone set a password, usually to log in as a less-watched account. Lock it (usermod -L), keep the shadow copy, and look for its logins and its processes.',
    falsepositives: ['service accounts given a password on purpose by administrators (rare)'],
    references: ['https://attack.mitre.org/techniques/T1078/003/'],
    reads: ['accounts'],
    match: (a: A) => (a.kind === 'account' && system(a) && usablePassword(a) ? account(a, { scheme: a.passwordScheme ?? a.passwdScheme }) : null),
  }),
  rowRule({
    id: 'accounts.system-login-shell',
    title: 'system account with a login shell',
    severity: 'low',
    attack: ['T1078.003'],
    description:
      'An account below uid 1000 has a real login shell instead of nologin or false. Some packages do this (postgres on Debian), but a service account given a shell can be logged into with a key or a password. Check that the package set it that way and that no key or password goes with it.',
    falsepositives: ['postgres and a few other packages that give their account a shell'],
    references: ['https://attack.mitre.org/techniques/T1078/003/'],
    reads: ['accounts'],
    match: (a: A) => (a.kind === 'account' && system(a) && a.loginShell === true ? account(a) : null),
  }),
  rowRule({
    id: 'accounts.recent',
    title: 'login account created or its password changed in the last 7 days',
    severity: 'low',
    attack: ['T1136.001'],
    description:
      'The password of root or of an account from uid 1000 up was set within the week before collection (shadow lastChange): a new account, or a changed password, possibly the intruder\'s. Check with the account\'s owner and compare passwd/shadow with their - backups.',
    falsepositives: ['new staff, password rotation, freshly installed hosts'],
    references: ['https://attack.mitre.org/techniques/T1136/001/'],
    reads: ['accounts'],
    match: (a: A, ctx) => {
      if (a.kind !== 'account' || !(human(a) || a.uid === 0) || a.lastChange === null) return null;
      const age = ageMs(`${a.lastChange}T00:00:00Z`, ctx.seen('accounts'));
      return age !== null && age >= -DAY_MS && age <= RECENT_DAYS * DAY_MS ? { ...account(a, { lastChange: a.lastChange }), ts: tsOf(`${a.lastChange}T00:00:00Z`) } : null;
    },
  }),
  joinRule<Attempts>({
    id: 'logins.success-after-failures',
    title: 'login succeeded from an address that had failed many times',
    severity: 'critical',
    attack: ['T1110.001', 'T1078.003'],
    description: `wtmp records a login from an address that btmp shows failing at least ${FAILURES_BEFORE_SUCCESS} times before: a password was guessed. Treat the account as compromised: lock it, kill its sessions, rotate its password and keys, and go through what it did after the login time (shell history, auth log, processes started then).`,
    falsepositives: ['a user who mistyped a password many times from one address (a shared NAT address makes this likelier)'],
    references: ['https://attack.mitre.org/techniques/T1110/001/'],
    reads: ['logins'],
    start: () => ({ failures: new Map(), successes: new Map() }),
    row: (s, t) => {
      if (t.source !== 'logins' || t.row.kind !== 'record' || t.row.time === null) return;
      const address = origin(t.row);
      if (address === null) return;
      if (isBtmp(t.row)) {
        const f = s.failures.get(address) ?? { earliest: [], total: 0 };
        f.total++;
        keepEarliest(f.earliest, Date.parse(t.row.time), FAILURES_BEFORE_SUCCESS);
        s.failures.set(address, f);
      } else if (isWtmp(t.row) && t.row.recordType === 'USER_PROCESS') {
        const list = s.successes.get(address) ?? [];
        list.push(t.row);
        if (list.length > SUCCESSES_KEPT) list.shift();
        s.successes.set(address, list);
      }
    },
    finish: (s) =>
      [...s.successes].flatMap(([address, rows]) => {
        const f = s.failures.get(address);
        if (!f || f.earliest.length < FAILURES_BEFORE_SUCCESS) return [];
        const guessedAt = f.earliest[FAILURES_BEFORE_SUCCESS - 1]!;
        return rows
          .filter((row) => Date.parse(row.time!) > guessedAt)
          .map((row) => ({
            evidence: { path: row.source, address, user: row.user, terminal: row.line, failures: f.total, firstFailure: new Date(f.earliest[0]!).toISOString() },
            ts: tsOf(row.time),
          }));
      }),
  }),
];

/** Inserts t into a sorted list that keeps only the n smallest values (memory stays bounded per address). */
function keepEarliest(list: number[], t: number, n: number): void {
  if (Number.isNaN(t) || (list.length >= n && t >= list[list.length - 1]!)) return;
  let i = list.length;
  while (i > 0 && list[i - 1]! > t) i--;
  list.splice(i, 0, t);
  if (list.length > n) list.pop();
}
