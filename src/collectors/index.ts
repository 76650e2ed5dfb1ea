import { accountsCollector } from './accounts.js';
import { autostartCollector } from './autostart.js';
import type { Collector } from './collector.js';
import { cronCollector } from './cron.js';
import { firewallCollector } from './firewall.js';
import { initScriptsCollector } from './init-scripts.js';
import { interfacesCollector } from './interfaces.js';
import { loginsCollector } from './logins.js';
import { logsCollector } from './logs.js';
import { mountsCollector } from './mounts.js';
import { networkConfigCollector } from './network.js';
import { sessionsCollector } from './sessions.js';
import { shellHistoryCollector } from './shell-history.js';
import { socketsCollector } from './sockets.js';
import { systemCollector } from './system.js';
import { systemdCollector } from './systemd.js';

/** Every collector, in the order they run: most volatile first (RFC 3227). */
export const COLLECTORS: readonly Collector[] = [
  socketsCollector,
  networkConfigCollector,
  interfacesCollector,
  firewallCollector,
  sessionsCollector,
  systemCollector,
  mountsCollector,
  loginsCollector,
  shellHistoryCollector,
  logsCollector,
  cronCollector,
  systemdCollector,
  initScriptsCollector,
  autostartCollector,
  accountsCollector,
];
