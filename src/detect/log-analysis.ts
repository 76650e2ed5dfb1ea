import type { LogFeed } from './log-feed.js';
import { createLogAnalysis as create } from './logs/index.js';

/** The one place the log analysis of src/detect/logs/ is plugged into detection, live triage and detectBundle alike. */
export const createLogAnalysis: LogFeed['create'] = (facts) => create({ timeZone: facts.timeZone, now: facts.now });
