import { writeFileSync } from 'node:fs';
import { DOC_FAMILIES } from '../src/detect/rules/index.js';
import { rulesDocs } from '../src/detect/rules-docs.js';

writeFileSync(new URL('../docs/rules.md', import.meta.url), rulesDocs(DOC_FAMILIES));
