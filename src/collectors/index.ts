import { accountsCollector } from './accounts.js';
import { autostartCollector } from './autostart.js';
import { binfmtCollector } from './binfmt.js';
import { bodyfileCollector } from './bodyfile.js';
import { bpfCollector } from './bpf.js';
import type { Collector } from './collector.js';
import { containersCollector } from './containers.js';
import { cronCollector } from './cron.js';
import { exposureCollector } from './exposure.js';
import { fileAttributesCollector } from './file-attributes.js';
import { fileScanCollector } from './file-scan.js';
import { firewallCollector } from './firewall.js';
import { initScriptsCollector } from './init-scripts.js';
import { interfacesCollector } from './interfaces.js';
import { kernelModulesCollector } from './kernel-modules.js';
import { loginsCollector } from './logins.js';
import { logsCollector } from './logs.js';
import { mountsCollector } from './mounts.js';
import { networkConfigCollector } from './network.js';
import { packagesCollector } from './packages.js';
import { pamCollector } from './pam.js';
import { preloadCollector } from './preload.js';
import { hiddenProcessesCollector, processesCollector } from './processes.js';
import { sessionsCollector } from './sessions.js';
import { shellHistoryCollector } from './shell-history.js';
import { shellStartupCollector } from './shell-startup.js';
import { socketsCollector } from './sockets.js';
import { sshKeysCollector } from './ssh-keys.js';
import { sudoersCollector } from './sudoers.js';
import { systemCollector } from './system.js';
import { systemdCollector } from './systemd.js';
import { tempFilesCollector } from './temp-files.js';

/**
 * Every collector, in the order they start: most volatile first (RFC 3227).
 * The slow whole-disk ones (temp-files, file-scan, packages) run alongside:
 * they start once the volatile state is taken and overlap everything after.
 */
export const COLLECTORS: readonly Collector[] = [
  processesCollector,
  hiddenProcessesCollector,
  socketsCollector,
  networkConfigCollector,
  interfacesCollector,
  firewallCollector,
  sessionsCollector,
  systemCollector,
  mountsCollector,
  kernelModulesCollector,
  bpfCollector,
  binfmtCollector,
  exposureCollector,
  tempFilesCollector,
  fileScanCollector,
  packagesCollector,
  containersCollector,
  loginsCollector,
  shellHistoryCollector,
  logsCollector,
  cronCollector,
  systemdCollector,
  initScriptsCollector,
  autostartCollector,
  preloadCollector,
  sshKeysCollector,
  pamCollector,
  sudoersCollector,
  shellStartupCollector,
  accountsCollector,
  fileAttributesCollector,
  bodyfileCollector,
];
