import type { z } from 'zod';
import { accountsCollector } from '../collectors/accounts.js';
import { autostartCollector } from '../collectors/autostart.js';
import { binfmtCollector } from '../collectors/binfmt.js';
import { containersCollector } from '../collectors/containers.js';
import { cronCollector } from '../collectors/cron.js';
import { fileAttributesCollector } from '../collectors/file-attributes.js';
import { fileScanCollector } from '../collectors/file-scan.js';
import { initScriptsCollector } from '../collectors/init-scripts.js';
import { kernelModulesCollector } from '../collectors/kernel-modules.js';
import { loginsCollector } from '../collectors/logins.js';
import { logsCollector } from '../collectors/logs.js';
import { packagesCollector } from '../collectors/packages.js';
import { pamCollector } from '../collectors/pam.js';
import { preloadCollector } from '../collectors/preload.js';
import { hiddenProcessesCollector, processesCollector } from '../collectors/processes.js';
import { shellHistoryCollector } from '../collectors/shell-history.js';
import { shellStartupCollector } from '../collectors/shell-startup.js';
import { socketsCollector } from '../collectors/sockets.js';
import { sshKeysCollector } from '../collectors/ssh-keys.js';
import { sudoersCollector } from '../collectors/sudoers.js';
import { systemCollector } from '../collectors/system.js';
import { systemdCollector } from '../collectors/systemd.js';
import { tempFilesCollector } from '../collectors/temp-files.js';

/**
 * The collectors detection reads, keyed by name. A row reaches a rule only
 * after it has passed its collector's own row declaration, the same schema
 * the collector was written against.
 */
export const ROW_SOURCES = {
  system: systemCollector,
  processes: processesCollector,
  'hidden-processes': hiddenProcessesCollector,
  sockets: socketsCollector,
  'kernel-modules': kernelModulesCollector,
  'temp-files': tempFilesCollector,
  logins: loginsCollector,
  'shell-history': shellHistoryCollector,
  logs: logsCollector,
  cron: cronCollector,
  systemd: systemdCollector,
  'init-scripts': initScriptsCollector,
  autostart: autostartCollector,
  preload: preloadCollector,
  'ssh-keys': sshKeysCollector,
  pam: pamCollector,
  sudoers: sudoersCollector,
  'shell-startup': shellStartupCollector,
  accounts: accountsCollector,
  'file-attributes': fileAttributesCollector,
  packages: packagesCollector,
  'file-scan': fileScanCollector,
  binfmt: binfmtCollector,
  containers: containersCollector,
} as const;

export type Source = keyof typeof ROW_SOURCES;
export type RowOf<S extends Source> = z.infer<(typeof ROW_SOURCES)[S]['row']>;

/** A row with the collector it came from, for rules that read several. */
export type Tagged = { [S in Source]: { source: S; row: RowOf<S> } }[Source];

export function isSource(name: string): name is Source {
  return Object.hasOwn(ROW_SOURCES, name);
}
