import { UserError } from '../../lib/user-error.js';
import type { RuleInfo } from '../rule.js';
import { compileRulesDir } from './compile.js';
import { loadEngine, type EngineExtraction, type LoadEngineOptions } from './engine.js';
import { YaraScanner } from './scanner.js';

export { YaraScanner, type YaraProblem, type YaraScanOptions, type YaraTarget } from './scanner.js';
export { yaraTargets } from './targets.js';
export type { EngineExtraction } from './engine.js';

/** How a YARA match is recorded: one rule for all of them; the YARA rule's name, tags and strings are in the evidence. */
export const YARA_RULE: RuleInfo = {
  id: 'yara.match',
  title: 'a YARA rule matched a file, an executable or process memory',
  severity: 'high',
  attack: [],
  description:
    'A rule from the --yara directory matched: the evidence names the rule, its file and tags, and the strings that matched with their offsets (virtual addresses for process memory). How bad that is depends on the rule; read it. Copy the file (or the running executable through /proc/PID/exe, or the process memory with goldhour memory --pid) before removing anything, and check what else the rule\'s family is known to drop.',
  falsepositives: ['broad rules (packers, generic shells, crypto constants) that also match legitimate software', 'rules about a string that goldhour itself or the responder\'s tools hold in memory'],
  references: ['https://virustotal.github.io/yara-x/'],
};

/**
 * Loads the YARA engine and compiles the rules under `dir`. Rule files that do
 * not compile are returned as problems (one line each: file, line, message);
 * throws a UserError when the engine cannot load or no rule file compiles.
 */
export async function loadYaraRules(
  dir: string,
  opts: LoadEngineOptions = {},
): Promise<{ scanner: YaraScanner; problems: string[]; files: string[]; ruleCount: number; extraction: EngineExtraction | null }> {
  const { engine, extraction } = await loadEngine(opts);
  const { compiled, problems } = await compileRulesDir(engine, dir);
  if (!compiled) throw new UserError(`--yara ${dir}: no rule file compiled${problems[0] ? ` (first: ${problems[0]})` : ''}`);
  return { scanner: new YaraScanner(compiled), problems, files: compiled.files, ruleCount: compiled.ruleCount, extraction };
}
