/**
 * The ATT&CK techniques goldhour's rules name, as of the version below. v19
 * retired the Defense Evasion tactic (split into Stealth, TA0005, and Defense
 * Impairment, TA0112) and moved several techniques to new IDs; rules carry the
 * v19 IDs, and RENUMBERED keeps the older ones readable in docs and reports, so
 * a finding can be matched against tools and reports that still use them.
 */
export const ATTACK_VERSION = 'MITRE ATT&CK Enterprise v19';

/** Technique names as v19 gives them. Every ID a rule names, the log analysis's included, must be here (a test checks). */
export const TECHNIQUES: Readonly<Record<string, string>> = {
  T1014: 'Rootkit',
  T1027: 'Obfuscated Files or Information',
  'T1021.004': 'Remote Services: SSH',
  T1036: 'Masquerading',
  'T1036.004': 'Masquerading: Masquerade Task or Service',
  'T1036.005': 'Masquerading: Match Legitimate Resource Name or Location',
  'T1036.006': 'Masquerading: Space after Filename',
  'T1036.011': 'Masquerading: Overwrite Process Arguments',
  T1037: 'Boot or Logon Initialization Scripts',
  'T1037.004': 'Boot or Logon Initialization Scripts: RC Scripts',
  T1040: 'Network Sniffing',
  'T1053.003': 'Scheduled Task/Job: Cron',
  'T1053.006': 'Scheduled Task/Job: Systemd Timers',
  'T1059.004': 'Command and Scripting Interpreter: Unix Shell',
  T1068: 'Exploitation for Privilege Escalation',
  'T1070.003': 'Indicator Removal: Clear Command History',
  'T1070.004': 'Indicator Removal: File Deletion',
  T1071: 'Application Layer Protocol',
  T1078: 'Valid Accounts',
  'T1078.003': 'Valid Accounts: Local Accounts',
  T1098: 'Account Manipulation',
  'T1098.004': 'Account Manipulation: SSH Authorized Keys',
  T1105: 'Ingress Tool Transfer',
  T1110: 'Brute Force',
  'T1110.001': 'Brute Force: Password Guessing',
  'T1110.003': 'Brute Force: Password Spraying',
  'T1136.001': 'Create Account: Local Account',
  'T1205.002': 'Traffic Signaling: Socket Filters',
  'T1222.002': 'File and Directory Permissions Modification: Linux and Mac File and Directory Permissions Modification',
  'T1496.001': 'Resource Hijacking: Compute Hijacking',
  T1190: 'Exploit Public-Facing Application',
  T1498: 'Network Denial of Service',
  'T1505.003': 'Server Software Component: Web Shell',
  'T1543.002': 'Create or Modify System Process: Systemd Service',
  T1546: 'Event Triggered Execution',
  'T1546.004': 'Event Triggered Execution: Unix Shell Configuration Modification',
  'T1547.006': 'Boot or Logon Autostart Execution: Kernel Modules and Extensions',
  'T1548.001': 'Abuse Elevation Control Mechanism: Setuid and Setgid',
  'T1548.003': 'Abuse Elevation Control Mechanism: Sudo and Sudo Caching',
  T1554: 'Compromise Host Software Binary',
  'T1556.003': 'Modify Authentication Process: Pluggable Authentication Modules',
  T1564: 'Hide Artifacts',
  'T1564.001': 'Hide Artifacts: Hidden Files and Directories',
  T1571: 'Non-Standard Port',
  'T1574.006': 'Hijack Execution Flow: Dynamic Linker Hijacking',
  'T1595.002': 'Active Scanning: Vulnerability Scanning',
  'T1595.003': 'Active Scanning: Wordlist Scanning',
  T1610: 'Deploy Container',
  T1611: 'Escape to Host',
  T1620: 'Reflective Code Loading',
  T1685: 'Disable or Modify Tools',
  'T1685.004': 'Disable or Modify Tools: Disable or Modify Linux Audit System Log',
  'T1685.006': 'Disable or Modify Tools: Clear Linux or Mac System Logs',
  T1686: 'Disable or Modify System Firewall',
  T1690: 'Prevent Command History Logging',
};

export interface Renumbered {
  /** The ID from v19 on, which rules use. */
  v19: string;
  /** The ID it had up to v18. */
  before: string;
  /** Its name up to v18. */
  beforeName: string;
}

/**
 * Techniques v19 moved that are relevant to a Linux host, newest ID first.
 * They follow MITRE's v19 revocations (the old ID is revoked by the new one
 * in enterprise-attack.json). attack.mitre.org could not be reached from
 * here, so each was cross-checked against at least three independent public
 * mappings (one says it was checked against enterprise-attack.json v19.2).
 */
export const RENUMBERED: readonly Renumbered[] = [
  { v19: 'T1685', before: 'T1562.001', beforeName: 'Impair Defenses: Disable or Modify Tools' },
  { v19: 'T1685', before: 'T1562.006', beforeName: 'Impair Defenses: Indicator Blocking' },
  { v19: 'T1685.004', before: 'T1562.012', beforeName: 'Impair Defenses: Disable or Modify Linux Audit System' },
  { v19: 'T1685.006', before: 'T1070.002', beforeName: 'Indicator Removal: Clear Linux or Mac System Logs' },
  { v19: 'T1686', before: 'T1562.004', beforeName: 'Impair Defenses: Disable or Modify System Firewall' },
  { v19: 'T1690', before: 'T1562.003', beforeName: 'Impair Defenses: Impair Command History Logging' },
];

/** The pre-v19 IDs of a technique, for readers whose tools still use them. */
export function formerIds(id: string): string[] {
  return RENUMBERED.filter((r) => r.v19 === id).map((r) => r.before);
}

/** The v19 ID for an ID that may predate v19 (IOC feeds and allowlists may still use old ones). */
export function currentId(id: string): string {
  return RENUMBERED.find((r) => r.before === id)?.v19 ?? id;
}
