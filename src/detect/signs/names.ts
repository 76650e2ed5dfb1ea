/**
 * Names intruders hide behind, and names that give them away. Kept as data so
 * the lists can be read, reviewed and extended without touching rule logic.
 */

/** Programs an administrator expects to see; an intruder's binary takes one of these names. */
export const SYSTEM_PROGRAM_NAMES = new Set([
  'accounts-daemon', 'agetty', 'apache2', 'atd', 'auditd', 'bash', 'containerd', 'cron', 'crond', 'dash', 'dbus-daemon',
  'dhclient', 'dockerd', 'find', 'getty', 'httpd', 'ifconfig', 'init', 'ip', 'irqbalance', 'kthreadd', 'kubelet', 'kworker',
  'login', 'ls', 'lsof', 'mysqld', 'netstat', 'networkd', 'nginx', 'php-fpm', 'polkitd', 'postgres', 'ps', 'python', 'python3',
  'rsyslogd', 'sh', 'snapd', 'ss', 'ssh', 'sshd', 'su', 'sudo', 'syslogd', 'systemd', 'systemd-journald', 'systemd-logind',
  'systemd-networkd', 'systemd-resolved', 'systemd-udevd', 'top', 'udevd',
]);

/** The name the kernel gives its own threads; a userspace process taking one is hiding. */
export const KERNEL_THREAD_NAME = /^\[?(?:kworker|kthreadd|ksoftirqd|kswapd\d*|migration|rcu_\w+|watchdog|kdevtmpfs|khugepaged|kcompactd\d*|jbd2|oom_reaper|cpuhp|idle_inject|irq|kblockd|kintegrityd|kauditd|khungtaskd|ksmd|writeback|kthrotld|scsi_eh|ext4-rsv|xfs|md|ipv6_addrconf|netns|kstrp|zswap|mm_percpu_wq|card\d|ttm|kaluad)(?:[/:\-_]\S*)?\]?$/;

/** Cryptominers by name (Kinsing's kdevtmpfsi included). */
export const MINER_NAMES = /(?:^|[/\s])(?:xmrig(?:-notls)?|xmr-stak\S*|minerd|cpuminer\S*|cgminer|bfgminer|ethminer|nbminer|lolminer|t-rex|phoenixminer|srbminer\S*|kdevtmpfsi|kinsing)(?:$|[\s.])/i;
/** Arguments only miners take. */
export const MINER_ARGS = /stratum\d?\+(?:tcp|ssl|tls):\/\/|--donate-level\b|--randomx\b|--coin[= ]+(?:monero|xmr)\b|-a\s+(?:cryptonight|rx\/0)\b|\b(?:moneroocean|c3pool|supportxmr|minexmr|nanopool|hashvault|nicehash|2miners|f2pool|herominers)\.\w/i;
/** Ports mining pools listen on. */
export const POOL_PORTS = new Set([3333, 4444, 5555, 7777, 14444, 45700]);
export const POOL_PORT_ARG = /[\w\].-]:(?:3333|4444|5555|7777|14444|45700)(?:\b|$)/;

/** Shells, and interpreters a reverse shell often is. */
export const SHELL_LIKE = /^(?:(?:ba|da|z|k|a|mk|c|tc)?sh|fish|busybox|python[0-9.]*|perl|ruby|php[0-9.]*)$/;

/** Servers whose compromise shows as a shell among their children. */
export const SERVER_NAMES = /^(?:nginx|apache2|httpd|lighttpd|caddy|openresty|php-fpm\S*|php-cgi\S*|mysqld|mariadbd|postgres|redis-server|mongod|memcached|uwsgi)$/;

/** Set-uid and session programs through which a user's process legitimately becomes root. */
export const ELEVATORS = new Set([
  'sudo', 'sudo-rs', 'su', 'doas', 'pkexec', 'run0', 'polkit-agent-helper-1', 'newgrp', 'sg', 'login', 'passwd', 'chsh', 'chfn',
  'gpasswd', 'newuidmap', 'newgidmap', 'mount', 'umount', 'fusermount', 'fusermount3', 'unix_chkpwd', 'Xorg', 'Xorg.wrap',
  'ssh-keysign', 'dbus-daemon-launch-helper', 'chrome-sandbox', 'ntfs-3g', 'pppd', 'crontab', 'expiry', 'chage', 'at',
]);

/** Programs that hold raw or packet sockets on ordinary hosts. */
export const RAW_SOCKET_PROGRAMS = new Set([
  'dhclient', 'dhcpcd', 'udhcpc', 'NetworkManager', 'systemd-networkd', 'systemd-network', 'wpa_supplicant', 'hostapd', 'tcpdump', 'dumpcap',
  'tshark', 'wireshark', 'lldpd', 'keepalived', 'arping', 'ping', 'ping6', 'traceroute', 'mtr-packet', 'suricata', 'zeek', 'snort',
  'dnsmasq', 'bird', 'zebra', 'ospfd', 'isisd', 'pimd', 'charon', 'conntrackd', 'ladvd', 'ptp4l', 'chronyd', 'ntpd', 'avahi-daemon',
]);

/** Controls and invisible characters that make a name look like another, or like nothing. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u00a0\u00ad\u115f\u1160\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/;
/** Letters from scripts that have Latin look-alikes (Cyrillic, Greek, Armenian, fullwidth forms). */
const CONFUSABLE = /[\u0370-\u03ff\u0400-\u04ff\u0530-\u058f\uff01-\uff5e]/;

/** Why a file name looks made to deceive, or null. */
export function deceptiveName(name: string): string | null {
  if (name.length === 0) return null;
  if (/^[.\s]+$/.test(name) && name !== '.' && name !== '..') return 'only dots and spaces';
  if (/\s$/.test(name) || /^\s/.test(name)) return 'leading or trailing space';
  if (INVISIBLE.test(name)) return 'control or invisible characters';
  if (CONFUSABLE.test(name) && /[a-z]/i.test(name)) return 'letters that look like Latin ones from another script';
  return null;
}

/**
 * A name that reads like random letters, as the XorDDoS family and others name
 * their init scripts (e.g. "qdsgmxqbqr"): long, lowercase and digits, with few vowels.
 */
export function randomLookingName(name: string): boolean {
  if (!/^[a-z0-9]{8,}$/.test(name)) return false;
  const letters = name.replace(/[0-9]/g, '');
  if (letters.length < 6) return /[0-9]/.test(name) && /[a-z]/.test(name) && name.length >= 12;
  const vowels = (letters.match(/[aeiouy]/g) ?? []).length;
  const longestConsonantRun = Math.max(0, ...(letters.match(/[^aeiouy]+/g) ?? []).map((r) => r.length));
  return vowels / letters.length < 0.2 || longestConsonantRun >= 5;
}
