import { OBSERVED } from '../ioc/observe.js';
import { IOC_RULES, type IocRuleId } from '../ioc/rules.js';
import { LOG_RULES } from '../logs/index.js';
import { YARA_RULE } from '../yara/index.js';
import type { Rule } from '../rule.js';
import type { DocRule } from '../rules-docs.js';
import { ACCOUNT_RULES } from './accounts.js';
import { CONTAINER_RULES } from './containers.js';
import { FILE_RULES } from './files.js';
import { HIDDEN_RULES } from './hidden.js';
import { NETWORK_RULES } from './network.js';
import { PERSISTENCE_COMMAND_RULES } from './persistence-commands.js';
import { PERSISTENCE_RULES } from './persistence.js';
import { PROCESS_RULES } from './processes.js';

/** Every rule, by family; docs/rules.md lists them in this order. */
export const RULE_FAMILIES: readonly { name: string; title: string; rules: readonly Rule[] }[] = [
  { name: 'processes', title: 'Processes', rules: [...PROCESS_RULES, ...HIDDEN_RULES] },
  { name: 'network', title: 'Network', rules: NETWORK_RULES },
  { name: 'persistence', title: 'Persistence', rules: [...PERSISTENCE_COMMAND_RULES, ...PERSISTENCE_RULES] },
  { name: 'accounts', title: 'Accounts and logins', rules: ACCOUNT_RULES },
  { name: 'files', title: 'Files and integrity', rules: FILE_RULES },
  { name: 'containers', title: 'Containers', rules: CONTAINER_RULES },
];

export const RULES: readonly Rule[] = RULE_FAMILIES.flatMap((f) => f.rules);

/** What docs/rules.md lists: the row rules, the log analysis's rules (declared in src/detect/logs/), then those of --ioc and --yara. */
export const DOC_FAMILIES: readonly { name: string; title: string; rules: readonly DocRule[] }[] = [
  ...RULE_FAMILIES,
  { name: 'logs', title: 'Logs (log analysis)', rules: LOG_RULES },
  {
    name: 'ioc',
    title: 'Indicators of compromise (--ioc FILE)',
    rules: (Object.keys(IOC_RULES) as IocRuleId[]).map((id) => ({ id, ...IOC_RULES[id], reads: [...OBSERVED, 'logs'] })),
  },
  { name: 'yara', title: 'YARA (--yara DIR)', rules: [{ ...YARA_RULE, reads: ['temp-files', 'processes'] }] },
];
