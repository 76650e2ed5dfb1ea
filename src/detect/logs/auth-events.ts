import { isIP } from 'node:net';

/**
 * What an auth-log message says, from the exact texts the daemons write:
 * OpenSSH (sshd, and sshd-session/sshd-auth from 9.8 on), sudo, su through
 * pam_unix, and shadow-utils (useradd, groupadd, usermod, gpasswd). User
 * names in sshd's messages are the client's choice and may hold spaces or a
 * fake " from 1.2.3.4 port 22": patterns take the address from the end, which
 * sshd writes after the name.
 */
export type AuthEvent =
  | { kind: 'failure'; addr: string; user: string; invalid: boolean; method: string }
  | { kind: 'success'; addr: string; user: string; method: string }
  | { kind: 'invalid-user'; addr: string; user: string }
  /** A connection that ended before authenticating (key probing, a client giving up). */
  | { kind: 'preauth-close'; addr: string; user: string; invalid: boolean }
  | { kind: 'sudo'; user: string; runas: string; command: string; denied: string | null }
  | { kind: 'su'; user: string; target: string; targetUid: string | null }
  | { kind: 'account'; action: AccountAction; account: string; group: string | null; uid: string | null; privileged: boolean };

export type AccountAction = 'user-created' | 'group-created' | 'group-member' | 'uid-changed';

export const SSHD_TAGS: ReadonlySet<string> = new Set(['sshd', 'sshd-session', 'sshd-auth']);
const ACCOUNT_TAGS = new Set(['useradd', 'groupadd', 'usermod', 'gpasswd', 'adduser', 'groupmod']);

/** Groups whose members can become root or read every secret. */
const PRIVILEGED_GROUPS: ReadonlySet<string> = new Set(['root', 'sudo', 'wheel', 'admin', 'docker', 'lxd', 'lxc', 'libvirt', 'disk', 'shadow']);

const REPEATED = /^message repeated (\d{1,9}) times: \[ ?([\s\S]*)\]$/;

const FAILED = /^Failed (\S+) for (invalid user )?([\s\S]*) from (\S+) port \d{1,5} ssh2(?:: [\s\S]*)?$/;
const ACCEPTED = /^Accepted (\S+) for ([\s\S]*) from (\S+) port \d{1,5} ssh2(?:: [\s\S]*)?$/;
const INVALID = /^Invalid user ([\s\S]*) from (\S+)(?: port \d{1,5})?$/;
const CLOSED = /^(?:Connection closed by|Connection reset by|Disconnected from) (authenticating|invalid) user ([\s\S]*) (\S+) port \d{1,5}(?: \[preauth\])?$/;

const SUDO = /^(\S+) : (?:([^=;]+?) ; )?(?:TTY=\S* ; )?PWD=[\s\S]*? ; USER=(\S+) ;(?: GROUP=\S+ ;)?(?: TSID=\S+ ;)?(?: ENV=[\s\S]*? ;)? COMMAND=([\s\S]*)$/;
const SU = /^pam_unix\(su(?:-l)?:session\): session opened for user (\S+?)(?:\(uid=(\d+)\))? by (\S*?)(?:\(uid=\d+\))?$/;

const NEW_USER = /^new user: name=([^,]*), UID=(\d+), GID=\d+, home=[^,]*, shell=([^,]*)/;
const NEW_GROUP = /^new group: name=([^,]*), GID=(\d+)$/;
/** Debian's and RHEL's SYS_UID_MAX / SYS_GID_MAX: packages create accounts below it, people above. */
const SYSTEM_ID_MAX = 999;
const NO_LOGIN = /\/(?:nologin|false)$/;
const ADD_TO_GROUP = /^add '([^']*)' to group '([^']*)'$/;
const GPASSWD_ADD = /^user (\S+) added by \S+ to group (\S+)$/;
const GPASSWD_SET = /^members of group (\S+) set by \S+ to (.*)$/;
const UID_CHANGE = /^change user '([^']*)' UID from '\d+' to '(\d+)'$/;

/** An address as sshd writes it (an IP, or a name when UseDNS is on); null for anything else. */
export function normalAddress(a: string): string | null {
  const v = a.toLowerCase();
  if (isIP(v)) return v.startsWith('::ffff:') && isIP(v.slice(7)) === 4 ? v.slice(7) : v;
  return /^[a-z0-9][a-z0-9.-]{0,252}$/.test(v) ? v : null;
}

/** rsyslog folds identical lines into `message repeated N times: [ … ]`: the inner message, counted N times. */
export function unrepeat(message: string): { message: string; times: number } {
  const m = REPEATED.exec(message);
  return m ? { message: m[2]!, times: Number(m[1]) } : { message, times: 1 };
}

function sshdEvent(msg: string): AuthEvent | null {
  let m: RegExpExecArray | null;
  const c = msg.charCodeAt(0);
  if (c === 70 /* F */ && (m = FAILED.exec(msg))) {
    const addr = normalAddress(m[4]!);
    return addr ? { kind: 'failure', addr, user: m[3]!, invalid: m[2] !== undefined, method: m[1]! } : null;
  }
  if (c === 65 /* A */ && (m = ACCEPTED.exec(msg))) {
    const addr = normalAddress(m[3]!);
    return addr ? { kind: 'success', addr, user: m[2]!, method: m[1]! } : null;
  }
  if (c === 73 /* I */ && (m = INVALID.exec(msg))) {
    const addr = normalAddress(m[2]!);
    return addr ? { kind: 'invalid-user', addr, user: m[1]! } : null;
  }
  if ((c === 67 /* C */ || c === 68) /* D */ && (m = CLOSED.exec(msg))) {
    const addr = normalAddress(m[3]!);
    return addr ? { kind: 'preauth-close', addr, user: m[2]!, invalid: m[1] === 'invalid' } : null;
  }
  return null;
}

function accountEvent(msg: string): AuthEvent | null {
  let m: RegExpExecArray | null;
  // a package's service account (system id, no login shell) or group is routine: left out
  if ((m = NEW_USER.exec(msg))) {
    const uid = Number(m[2]);
    if (uid > 0 && uid <= SYSTEM_ID_MAX && NO_LOGIN.test(m[3]!)) return null;
    return { kind: 'account', action: 'user-created', account: m[1]!, group: null, uid: m[2]!, privileged: uid === 0 };
  }
  if ((m = NEW_GROUP.exec(msg))) {
    const gid = Number(m[2]);
    if (gid > 0 && gid <= SYSTEM_ID_MAX) return null;
    return { kind: 'account', action: 'group-created', account: m[1]!, group: m[1]!, uid: null, privileged: gid === 0 };
  }
  if ((m = ADD_TO_GROUP.exec(msg)) || (m = GPASSWD_ADD.exec(msg))) {
    return { kind: 'account', action: 'group-member', account: m[1]!, group: m[2]!, uid: null, privileged: PRIVILEGED_GROUPS.has(m[2]!) };
  }
  if ((m = GPASSWD_SET.exec(msg))) {
    return { kind: 'account', action: 'group-member', account: m[2]!, group: m[1]!, uid: null, privileged: PRIVILEGED_GROUPS.has(m[1]!) };
  }
  if ((m = UID_CHANGE.exec(msg))) return { kind: 'account', action: 'uid-changed', account: m[1]!, group: null, uid: m[2]!, privileged: m[2] === '0' };
  return null;
}

/** The event a program's message records, or null when it records none of interest. */
export function authEvent(tag: string, message: string): AuthEvent | null {
  if (SSHD_TAGS.has(tag)) return sshdEvent(message);
  if (tag === 'sudo') {
    const m = SUDO.exec(message);
    return m ? { kind: 'sudo', user: m[1]!, denied: m[2] ?? null, runas: m[3]!, command: m[4]! } : null;
  }
  if (tag === 'su') {
    const m = SU.exec(message);
    return m ? { kind: 'su', target: m[1]!, targetUid: m[2] ?? null, user: m[3]! } : null;
  }
  if (ACCOUNT_TAGS.has(tag)) return accountEvent(message);
  return null;
}
