/**
 * Actions of the dnf/yum post-transaction-actions plugin
 * (/etc/dnf/plugins/post-transaction-actions.d/*.action,
 * /etc/yum/post-actions/*.action): `package_glob:state:command` lines, where
 * state is install, remove or any and the command runs as root after every
 * matching transaction.
 */
export interface PostTransactionAction {
  line: number;
  raw: string;
  pattern: string;
  state: string;
  command: string;
}

export function parsePostTransactionActions(text: string): { actions: PostTransactionAction[]; badLines: number[] } {
  const actions: PostTransactionAction[] = [];
  const badLines: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const l = raw.replace(/\r$/, '');
    if (/^\s*(#|$)/.test(l)) return;
    const a = l.indexOf(':');
    const b = a < 0 ? -1 : l.indexOf(':', a + 1);
    if (a < 0 || b < 0) {
      badLines.push(i + 1);
      return;
    }
    actions.push({ line: i + 1, raw: l, pattern: l.slice(0, a).trim(), state: l.slice(a + 1, b).trim(), command: l.slice(b + 1).trim() });
  });
  return { actions, badLines };
}
