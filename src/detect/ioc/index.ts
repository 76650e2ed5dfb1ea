/**
 * Indicators of compromise (--ioc FILE): loading plain lists, CSV and STIX 2.1
 * bundles into one IndicatorSet, the detection rules that match it against
 * rows, and a matcher for log lines.
 */
export { IndicatorSet } from './indicator-set.js';
export type { Indicator, IndicatorKind } from './indicator.js';
export { loadIndicators, type IocFormat, type LoadedIndicators } from './load.js';
export { iocLogMatcher, type IocLogMatcher, type LogIocHit } from './log-matcher.js';
export { IOC_RULES, iocRules, type IocRuleId } from './rules.js';
