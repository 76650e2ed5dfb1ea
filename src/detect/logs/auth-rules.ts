import { times, type LogRule } from './rule-meta.js';

/** Rules over auth logs (auth.log, secure, syslog/messages, the journal export), each with its cases. */

const OPENSSH_AUTH = 'https://github.com/openssh/openssh-portable/blob/master/auth.c';
const FAIL2BAN_SSHD = 'https://github.com/fail2ban/fail2ban/blob/master/config/filter.d/sshd.conf';
const JOURNAL_FIELDS = 'https://www.freedesktop.org/software/systemd/man/latest/systemd.journal-fields.html';
const SHADOW = 'https://github.com/shadow-maint/shadow';

const ext = (n: number, from: number) => `203.0.113.${from + n}`;

export const SSH_BRUTE_FORCE: LogRule = {
  id: 'logs.auth.ssh-brute-force',
  title: 'SSH brute force from one address',
  severity: 'medium',
  attack: ['T1110.001'],
  description:
    'One address failed to log in over SSH at least the threshold number of times within the sliding window (10 in 10 minutes by ' +
    'default), counting rsyslog\'s "message repeated N times" as N and reading across rotated generations. On an internet-facing ' +
    'sshd this is background noise; what matters is whether the address ever got in: check for logs.auth.ssh-success-after-failures ' +
    'from the same address, look up the users it tried, and confirm PasswordAuthentication is off or the tried accounts have strong ' +
    'passwords. Block the address (goldhour contain block-ip) if the host is still being hit.',
  falsepositives: ['A user or a script retrying a wrong password or key in a loop', 'Monitoring that logs in with stale credentials'],
  references: [OPENSSH_AUTH, FAIL2BAN_SSHD, 'https://attack.mitre.org/techniques/T1110/001/'],
  cases: {
    category: 'auth',
    fires: [
      times(10, 'Nov 23 10:00:{s} web01 sshd[31{s}]: Failed password for root from 203.0.113.7 port 400{s} ssh2'),
      'Nov 23 10:00:01 web01 sshd[3101]: Failed password for root from 203.0.113.7 port 40101 ssh2\n' +
        'Nov 23 10:00:09 web01 sshd[3101]: message repeated 9 times: [ Failed password for root from 203.0.113.7 port 40101 ssh2]\n',
      times(10, 'Nov 23 10:01:{s} web01 sshd[32{s}]: Failed password for invalid user oracle from 2001:db8::66 port 511{s} ssh2'),
      times(10, '2026-11-23T10:02:{s}.104562+00:00 web01 sshd-session[33{s}]: Connection closed by authenticating user root 203.0.113.8 port 600{s} [preauth]'),
    ],
    quiet: [
      times(9, 'Nov 23 10:00:{s} web01 sshd[31{s}]: Failed password for root from 203.0.113.7 port 400{s} ssh2'),
      times(10, 'Nov 23 1{i}:00:00 web01 sshd[31{s}]: Failed password for root from 203.0.113.7 port 400{s} ssh2'),
      Array.from({ length: 10 }, (_, i) => `Nov 23 10:00:0${i} web01 sshd[31${i}]: Failed password for root from ${ext(i, 10)} port 4000${i} ssh2\n`).join(''),
      times(10, 'Nov 23 10:00:{s} web01 sshd[31{s}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root'),
    ],
  },
};

export const SSH_PASSWORD_SPRAYING: LogRule = {
  id: 'logs.auth.ssh-password-spraying',
  title: 'SSH password spraying across many accounts',
  severity: 'medium',
  attack: ['T1110.003'],
  description:
    'One address failed SSH logins against many distinct user names (10 by default) with only a few guesses each (3 on average at ' +
    'most): it is trying a common password across accounts rather than many passwords on one, which slips under per-account ' +
    'lockouts. List the accounts it tried that exist on the host (evidence users), check whether any of them logged in from that ' +
    'address or elsewhere afterwards, and force a password change on those that allow password logins.',
  falsepositives: ['A misconfigured client cycling through a list of user names', 'Vulnerability scanners checking default accounts'],
  references: ['https://attack.mitre.org/techniques/T1110/003/', FAIL2BAN_SSHD],
  cases: {
    category: 'auth',
    fires: [
      ['root', 'admin', 'ubuntu', 'oracle', 'postgres', 'test', 'git', 'deploy', 'pi', 'guest', 'ftpuser', 'user']
        .map((u, i) => `Nov 23 11:00:${String(i).padStart(2, '0')} web01 sshd[41${i}]: Failed password for ${u === 'root' ? '' : 'invalid user '}${u} from 198.51.100.23 port 5200${i} ssh2\n`)
        .join(''),
    ],
    quiet: [
      times(12, 'Nov 23 11:00:{s} web01 sshd[41{s}]: Failed password for root from 198.51.100.23 port 520{s} ssh2'),
      ['root', 'admin', 'ubuntu', 'oracle', 'postgres']
        .map((u, i) => `Nov 23 11:00:0${i} web01 sshd[41${i}]: Failed password for invalid user ${u} from 198.51.100.23 port 5200${i} ssh2\n`)
        .join(''),
    ],
  },
};

export const SSH_INVALID_USER: LogRule = {
  id: 'logs.auth.ssh-invalid-user',
  title: 'SSH logins tried for users that do not exist',
  severity: 'low',
  attack: ['T1110'],
  description:
    'An address tried to log in over SSH as users this host does not have (sshd\'s "Invalid user" and "Failed password for invalid ' +
    'user"). Alone it is scanning; the names tried hint at what the attacker expects (service accounts, default appliance users). ' +
    'Check whether the same address shows up in brute-force or success findings, and whether any tried name was created later ' +
    '(logs.account.user-created).',
  falsepositives: ['A user mistyping their login name', 'Automation pointed at the wrong host'],
  references: [OPENSSH_AUTH, 'https://attack.mitre.org/techniques/T1110/'],
  cases: {
    category: 'auth',
    fires: [
      'Nov 23 10:00:01 web01 sshd[2001]: Invalid user admin from 198.51.100.23 port 51000\n',
      'Nov 23 10:00:05 web01 sshd[2001]: Failed password for invalid user admin from 198.51.100.23 port 51000 ssh2\n',
      'Nov 23 10:00:06 web01 sshd[2001]: Connection closed by invalid user admin 198.51.100.23 port 51000 [preauth]\n',
    ],
    quiet: [
      'Nov 23 10:00:05 web01 sshd[2002]: Failed password for root from 198.51.100.23 port 51000 ssh2\n',
      'Nov 23 10:00:05 web01 sshd[2003]: Accepted publickey for alice from 192.0.2.10 port 51514 ssh2: ED25519 SHA256:3Vx0VqVpD1u4bH6mG9s0oX2uGm0eFqWsR5Zl8k1cT0o\n',
    ],
  },
};

export const SSH_SUCCESS_AFTER_FAILURES: LogRule = {
  id: 'logs.auth.ssh-success-after-failures',
  title: 'SSH login succeeded from an address that had been failing',
  severity: 'critical',
  attack: ['T1110', 'T1078', 'T1021.004'],
  description:
    'An address logged in over SSH after failing at least 5 times (by default) in the 24 hours before, across rotated logs and the ' +
    'journal: the guessing may have worked. Treat the account as compromised until shown otherwise: confirm with the account\'s ' +
    'owner whether the address is theirs, look at what the session did (shell history, processes, logs.auth.sudo-root, new users ' +
    'and keys), lock the account and rotate its credentials, and block the address.',
  falsepositives: ['A user who mistyped a password several times and then got it right from their usual address'],
  references: [OPENSSH_AUTH, 'https://attack.mitre.org/techniques/T1078/', 'https://attack.mitre.org/techniques/T1021/004/'],
  cases: {
    category: 'auth',
    fires: [
      times(5, 'Nov 23 10:00:{s} web01 sshd[51{s}]: Failed password for root from 203.0.113.66 port 470{s} ssh2') +
        'Nov 23 10:03:00 web01 sshd[5199]: Accepted password for root from 203.0.113.66 port 47099 ssh2\n',
      times(3, 'Nov 23 10:00:{s} web01 sshd[51{s}]: Failed password for deploy from 203.0.113.66 port 470{s} ssh2') +
        'Nov 23 10:00:30 web01 sshd[5150]: message repeated 2 times: [ Failed password for deploy from 203.0.113.66 port 47002 ssh2]\n' +
        'Nov 23 10:04:00 web01 sshd[5199]: Accepted publickey for deploy from 203.0.113.66 port 47099 ssh2: RSA SHA256:n3nMTVfZ7Zkq1s2o5oB4z1dC4KpB2mJm9y6Qx0aYz1A\n',
    ],
    quiet: [
      times(5, 'Nov 23 10:00:{s} web01 sshd[51{s}]: Failed password for root from 203.0.113.66 port 470{s} ssh2') +
        'Nov 23 10:03:00 web01 sshd[5199]: Accepted password for root from 192.0.2.10 port 47099 ssh2\n',
      'Nov 23 10:00:00 web01 sshd[5101]: Failed password for alice from 192.0.2.10 port 47001 ssh2\n' +
        'Nov 23 10:00:20 web01 sshd[5101]: Accepted password for alice from 192.0.2.10 port 47001 ssh2\n',
      times(5, 'Nov 21 10:00:{s} web01 sshd[51{s}]: Failed password for root from 203.0.113.66 port 470{s} ssh2') +
        'Nov 23 10:03:00 web01 sshd[5199]: Accepted password for root from 203.0.113.66 port 47099 ssh2\n',
      'Nov 23 10:03:00 web01 sshd[5199]: Accepted password for root from 203.0.113.66 port 47099 ssh2\n' +
        times(5, 'Nov 23 10:04:{s} web01 sshd[52{s}]: Failed password for root from 203.0.113.66 port 470{s} ssh2'),
    ],
  },
};

export const FORGED_SSHD: LogRule = {
  id: 'logs.auth.forged-sshd',
  title: 'sshd log entry written by another program',
  severity: 'high',
  attack: ['T1036'],
  description:
    'The journal recorded an entry that calls itself sshd (SYSLOG_IDENTIFIER) but journald saw it come from a process that is not ' +
    'sshd or not root (_COMM, _UID: fields the sender cannot set). Someone wrote it with logger or syslog(3) to plant a login that ' +
    'never happened, to bury a real one, or to get an address banned by fail2ban. The entry is left out of the other SSH rules. ' +
    'Find the writing process and user (evidence uid, comm), read that user\'s history and sessions around the time, and treat the ' +
    'plain-file copy of the same line (auth.log) as forged too. Plain files cannot show who wrote a line.',
  falsepositives: ['A test harness or monitoring probe that logs with the sshd tag'],
  references: [JOURNAL_FIELDS, 'https://systemd.io/JOURNAL_EXPORT_FORMATS/'],
  cases: {
    category: 'journal-export',
    fires: [
      '__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1795428000000000\n_UID=1000\n_GID=1000\n_COMM=logger\n_PID=4242\nSYSLOG_IDENTIFIER=sshd\n' +
        'SYSLOG_PID=4242\nMESSAGE=Accepted password for root from 203.0.113.50 port 51000 ssh2\n_TRANSPORT=syslog\n\n',
      '__CURSOR=s=1;i=2\n__REALTIME_TIMESTAMP=1795428000000000\n_UID=0\n_COMM=python3\nSYSLOG_IDENTIFIER=sshd-session\n' +
        'MESSAGE=Failed password for root from 203.0.113.50 port 51000 ssh2\n\n',
    ],
    quiet: [
      '__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1795428000000000\n_UID=0\n_COMM=sshd\n_PID=812\nSYSLOG_IDENTIFIER=sshd\n' +
        'SYSLOG_PID=812\nMESSAGE=Accepted publickey for alice from 192.0.2.10 port 51514 ssh2: ED25519 SHA256:3Vx0VqVpD1u4bH6mG9s0oX2uGm0eFqWsR5Zl8k1cT0o\n\n',
      '__CURSOR=s=1;i=2\n__REALTIME_TIMESTAMP=1795428000000000\n_UID=1000\n_COMM=logger\nSYSLOG_IDENTIFIER=backup\nMESSAGE=done\n\n',
    ],
  },
};

export const SSHD_LINE_WITHOUT_PID: LogRule = {
  id: 'logs.auth.sshd-line-without-pid',
  title: 'sshd line in a plain log without a process id',
  severity: 'medium',
  attack: ['T1036'],
  description:
    'A line in auth.log, secure or syslog is tagged sshd but carries no [pid]. sshd always logs with its pid, so the line came from ' +
    'something else, most likely `logger -t sshd`. A plain file cannot show who wrote a line, so a forger who adds a pid (logger ' +
    '--id) is not caught here; the journal can tell (logs.auth.forged-sshd). The line is left out of the other SSH rules. Compare ' +
    'with the journal and wtmp for the same time, and look for who ran logger.',
  falsepositives: ['A syslog relay or template that drops the pid'],
  references: ['https://man7.org/linux/man-pages/man1/logger.1.html', OPENSSH_AUTH],
  cases: {
    category: 'auth',
    fires: ['Nov 23 10:00:00 web01 sshd: Accepted password for root from 203.0.113.9 port 22 ssh2\n'],
    quiet: ['Nov 23 10:00:00 web01 sshd[1234]: Accepted password for root from 203.0.113.9 port 22 ssh2\n', 'Nov 23 10:00:00 web01 backup: finished\n'],
  },
};

export const SUDO_ROOT: LogRule = {
  id: 'logs.auth.sudo-root',
  title: 'Commands run as root through sudo or su',
  severity: 'low',
  attack: ['T1548.003'],
  description:
    'A user ran commands as root with sudo, or opened a root session with su. Normal for administrators; during an incident it is ' +
    'the trail of what an intruder did with a stolen account. Check the users against the people who administer the host, and read ' +
    'the commands (evidence commands): shells, downloads, edits of sudoers, passwd, authorized_keys or cron deserve a closer look.',
  falsepositives: ['Routine administration', 'Configuration management running sudo'],
  references: ['https://www.sudo.ws/docs/man/sudoers.man/', 'https://attack.mitre.org/techniques/T1548/003/'],
  cases: {
    category: 'auth',
    fires: [
      'Nov 23 10:00:00 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash\n',
      'Nov 23 10:00:00 rhel9 sudo[5100]:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow\n',
      'Nov 23 10:00:00 web01 su[900]: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)\n',
    ],
    quiet: [
      'Nov 23 10:00:00 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=postgres ; COMMAND=/usr/bin/psql\n',
      'Nov 23 10:00:00 web01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)\n',
      'Nov 23 10:00:00 web01 sudo:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh\n',
    ],
  },
};

export const SUDO_DENIED: LogRule = {
  id: 'logs.auth.sudo-denied',
  title: 'sudo refused a user',
  severity: 'medium',
  attack: ['T1548.003'],
  description:
    'sudo refused a command: the user is not in sudoers, typed wrong passwords, or asked for a command they may not run. An ' +
    'intruder on a stolen low-privilege account probes sudo early. Ask the user whether it was them; if not, treat the account as ' +
    'compromised and look at its sessions and processes.',
  falsepositives: ['A new administrator not yet in sudoers', 'Mistyped passwords'],
  references: ['https://www.sudo.ws/docs/man/sudoers.man/'],
  cases: {
    category: 'auth',
    fires: [
      'Nov 23 10:00:00 web01 sudo:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/sh\n',
      'Nov 23 10:00:00 web01 sudo:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id\n',
    ],
    quiet: ['Nov 23 10:00:00 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash\n'],
  },
};

export const USER_CREATED: LogRule = {
  id: 'logs.account.user-created',
  title: 'Local user account created',
  severity: 'medium',
  attack: ['T1136.001'],
  description:
    'useradd created a local account (shadow-utils logs "new user: name=…"); service accounts that packages create (a system UID ' +
    'with a nologin shell) are left out. Intruders add accounts to come back. Check the account against change records, look at its ' +
    'shell, home and authorized_keys, and at who was logged in and using sudo at that time.',
  falsepositives: ['Provisioning by configuration management', 'A package creating a service account with a login shell'],
  references: [SHADOW, 'https://attack.mitre.org/techniques/T1136/001/'],
  cases: {
    category: 'auth',
    fires: ['Nov 23 10:00:00 web01 useradd[7001]: new user: name=backup2, UID=1001, GID=1001, home=/home/backup2, shell=/bin/bash, from=/dev/pts/0\n'],
    quiet: [
      'Nov 23 10:00:00 web01 useradd[7001]: new group: name=backup2, GID=1001\n',
      'Nov 23 10:00:00 web01 sshd[7002]: new user: name=x, UID=0, GID=0, home=/, shell=/bin/sh, from=none\n',
      'Nov 23 10:00:00 web01 useradd[7003]: new user: name=_chrony, UID=102, GID=105, home=/var/lib/chrony, shell=/usr/sbin/nologin, from=none\n',
    ],
  },
};

export const PRIVILEGED_ACCOUNT_CHANGE: LogRule = {
  id: 'logs.account.privileged-change',
  title: 'Account given root or an admin group',
  severity: 'high',
  attack: ['T1098', 'T1136.001'],
  description:
    'An account was created with UID 0, had its UID changed to 0, or was added to a group that leads to root or to every password ' +
    'hash (sudo, wheel, admin, docker, lxd, libvirt, disk, shadow, root). This is how intruders keep root. Check the change against ' +
    'change records; if it is not known, remove the membership or account, and look for what else the same session did.',
  falsepositives: ['An administrator granting rights to a new colleague'],
  references: [SHADOW, 'https://attack.mitre.org/techniques/T1098/'],
  cases: {
    category: 'auth',
    fires: [
      "Nov 23 10:00:00 web01 usermod[7100]: add 'backup2' to group 'sudo'\n",
      'Nov 23 10:00:00 rhel9 gpasswd[7101]: user backup2 added by root to group wheel\n',
      'Nov 23 10:00:00 web01 useradd[7102]: new user: name=toor, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/0\n',
      "Nov 23 10:00:00 web01 usermod[7103]: change user 'backup2' UID from '1001' to '0'\n",
    ],
    quiet: ["Nov 23 10:00:00 web01 usermod[7100]: add 'alice' to group 'audio'\n", "Nov 23 10:00:00 web01 usermod[7100]: add 'backup2' to shadow group 'sudo'\n"],
  },
};

export const ACCOUNT_CHANGED: LogRule = {
  id: 'logs.account.changed',
  title: 'Group created or group membership changed',
  severity: 'low',
  attack: ['T1098'],
  description:
    'A group was created or an account was added to a group that does not by itself lead to root. Usually routine; during an ' +
    'incident, check changes made while the intruder had access, and groups that grant access to data (www-data, a database group).',
  falsepositives: ['Package installation and routine administration'],
  references: [SHADOW],
  cases: {
    category: 'auth',
    fires: [
      "Nov 23 10:00:00 web01 usermod[7100]: add 'alice' to group 'audio'\n",
      'Nov 23 10:00:00 web01 groupadd[7200]: new group: name=deploy, GID=1005\n',
      'Nov 23 10:00:00 web01 gpasswd[7201]: user alice added by root to group adm\n',
    ],
    quiet: [
      "Nov 23 10:00:00 web01 usermod[7100]: add 'backup2' to group 'sudo'\n",
      'Nov 23 10:00:00 web01 groupadd[7200]: group added to /etc/group: name=deploy, GID=1005\n',
      'Nov 23 10:00:00 web01 groupadd[7202]: new group: name=_ssh, GID=101\n',
    ],
  },
};

export const ANALYSIS_INCOMPLETE: LogRule = {
  id: 'logs.analysis.incomplete',
  title: 'Part of a log could not be analysed',
  severity: 'info',
  attack: [],
  description:
    'Some content was not analysed: a compression goldhour does not read in-process (xz, zstd, bzip2, lz4), a torn gzip, the size ' +
    'cap, lines longer than the line cap (analysed by their start), a broken journal export, or more source addresses than the ' +
    'tracking cap. Findings from that file may be missing or undercounted: read the raw copy in the bundle by hand.',
  falsepositives: ['Legitimately huge logs'],
  references: [],
  cases: {
    category: 'auth',
    fires: [`Nov 23 10:00:00 web01 app[1]: ${'A'.repeat(70_000)}\n`],
    quiet: ['Nov 23 10:00:00 web01 app[1]: short\n'],
  },
};

export const AUTH_RULES: readonly LogRule[] = [
  SSH_BRUTE_FORCE,
  SSH_PASSWORD_SPRAYING,
  SSH_INVALID_USER,
  SSH_SUCCESS_AFTER_FAILURES,
  FORGED_SSHD,
  SSHD_LINE_WITHOUT_PID,
  SUDO_ROOT,
  SUDO_DENIED,
  USER_CREATED,
  PRIVILEGED_ACCOUNT_CHANGE,
  ACCOUNT_CHANGED,
  ANALYSIS_INCOMPLETE,
];
