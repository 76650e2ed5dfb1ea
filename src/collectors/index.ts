import type { Collector } from './collector.js';
import { mountsCollector } from './mounts.js';
import { sessionsCollector } from './sessions.js';
import { systemCollector } from './system.js';

/** Every collector, in the order they run: most volatile first (RFC 3227). */
export const COLLECTORS: readonly Collector[] = [sessionsCollector, systemCollector, mountsCollector];
