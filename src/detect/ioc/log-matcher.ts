import type { Hit, RuleInfo } from '../rule.js';
import { clip } from '../rules/evidence.js';
import { Aggregate, indicatorEvidence } from './aggregate.js';
import type { IndicatorSet } from './indicator-set.js';
import { matchText } from './match.js';
import { IOC_RULES, ruleIdOf, type IocRuleId } from './rules.js';

/** A finding of the log matcher: a Hit and the rule it is recorded under. */
export interface LogIocHit extends Hit {
  rule: RuleInfo;
}

export interface IocLogMatcher {
  /** One line of a log, as text; `at` is the host path and the 1-based line number. */
  line(text: string, at: { path: string; line: number }): void;
  /** One hit per (indicator, log file), with the first line it was seen on and how many lines named it. */
  finish(): LogIocHit[];
}

/**
 * Matches log lines against the indicators: URLs, addresses, domains (and
 * their subdomains), hashes and file names anywhere in the line. Lines are not
 * kept; memory grows with the number of distinct (indicator, log) pairs only.
 */
export function iocLogMatcher(indicators: IndicatorSet): IocLogMatcher {
  const byRule = new Map<IocRuleId, Aggregate>();
  const empty = indicators.size === 0;
  return {
    line(text, at) {
      if (empty) return;
      for (const m of matchText(indicators, text)) {
        const id = ruleIdOf(m.indicator.kind);
        let agg = byRule.get(id);
        if (!agg) {
          agg = new Aggregate();
          byRule.set(id, agg);
        }
        agg.add(m.indicator, at.path, () => ({ evidence: { path: at.path, line: at.line, text: clip(text), ...indicatorEvidence(m) }, collector: 'logs' }));
      }
    },
    finish() {
      return [...byRule].flatMap(([id, agg]) => agg.hits().map((h) => ({ ...h, rule: { id, ...IOC_RULES[id] } })));
    },
  };
}
