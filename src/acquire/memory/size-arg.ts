import { UserError } from '../../lib/user-error.js';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "4G", "512M", "1048576": binary units, as memory is counted. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d{1,15})\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UserError(`${flag} ${text}: want a positive size such as 4G, 512M or 1048576`);
  return n;
}
