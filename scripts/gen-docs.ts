import { writeFileSync } from 'node:fs';
import { COLLECTORS } from '../src/collectors/index.js';
import { collectorDocs } from '../src/docs/collector-docs.js';

writeFileSync(new URL('../docs/collectors.md', import.meta.url), collectorDocs(COLLECTORS));
