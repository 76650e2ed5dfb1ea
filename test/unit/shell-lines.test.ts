import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { rawLines, lineText } from '../../src/collectors/persistence-files.js';
import { classifyShellLine, isNotable } from '../../src/host/shell-lines.js';
import { PROJECT } from '../helpers.js';

const fixture = (name: string) => readFileSync(path.join(PROJECT, 'test/fixtures/persistence-b', name));

function notable(data: Buffer, shell: 'sh' | 'env' = 'sh') {
  return rawLines(data).flatMap((b, i) => {
    const { text } = lineText(b);
    const c = classifyShellLine(text, shell);
    return c && isNotable(c) ? [{ line: i + 1, text, ...c }] : [];
  });
}

test('a hostile .bashrc: everything that can run something is kept, plain settings are not', () => {
  const rows = notable(fixture('bashrc'));
  const byLine = new Map(rows.map((r) => [r.line, r]));
  // plain settings are left out
  for (const n of [6, 10]) assert.equal(byLine.has(n), false, `line ${n}`);
  assert.equal(byLine.get(8)?.name, 'EDITOR', 'EDITOR runs when sudoedit, crontab -e or git opens an editor');
  assert.equal(byLine.get(7)?.name, 'HISTSIZE', 'history size is anti-forensics relevant');
  assert.equal(byLine.get(9)?.name, 'PATH');
  assert.deepEqual([byLine.get(11)?.kind, byLine.get(11)?.name], ['alias', 'll']);
  assert.deepEqual([byLine.get(12)?.kind, byLine.get(12)?.name], ['alias', 'sudo']);
  assert.deepEqual([byLine.get(14)?.kind, byLine.get(14)?.target], ['source', '~/.bash_aliases']);
  assert.deepEqual([byLine.get(16)?.kind, byLine.get(16)?.target], ['source', '/dev/shm/.x']);
  assert.deepEqual([byLine.get(17)?.kind, byLine.get(17)?.name], ['assignment', 'PROMPT_COMMAND']);
  assert.deepEqual([byLine.get(18)?.kind, byLine.get(18)?.substitution], ['assignment', true]);
  assert.equal(byLine.get(19)?.kind, 'command', 'NAME=value followed by a command is a command');
  assert.deepEqual([byLine.get(20)?.kind, byLine.get(20)?.name], ['function', 'cd']);
  assert.deepEqual([byLine.get(21)?.kind, byLine.get(21)?.name], ['function', 'ls']);
  assert.equal(byLine.get(22)?.kind, 'command');
  assert.deepEqual([byLine.get(23)?.kind, byLine.get(23)?.name], ['assignment', 'HISTFILE']);
  // a carriage return hides the rest of the line from `cat`: the row keeps it
  assert.equal(byLine.get(24)?.text, 'echo visible\r# \u001b[2K');
  assert.equal(byLine.get(24)?.kind, 'command');
  assert.equal(byLine.has(25), false, 'a plain assignment with junk bytes is still plain');
  assert.equal(lineText(rawLines(fixture('bashrc'))[24]!).base64, Buffer.from('export BAD=\xff\xfe', 'latin1').toString('base64'));
});

test('/etc/environment with CRLF: only loader and PATH settings are kept', () => {
  const rows = notable(fixture('environment'), 'env');
  assert.deepEqual(
    rows.map((r) => [r.line, r.name]),
    [
      [1, 'PATH'],
      [3, 'LD_PRELOAD'],
    ],
  );
});

test('fish and odd forms', () => {
  assert.deepEqual(classifyShellLine('set -gx PATH /tmp $PATH', 'fish'), { kind: 'assignment', name: 'PATH', target: null, substitution: false });
  assert.equal(classifyShellLine('curl x | sh', 'fish')?.kind, 'command');
  assert.equal(classifyShellLine('   ')?.kind, undefined);
  assert.equal(classifyShellLine('FOO=bar; curl x|sh')?.kind, 'command');
  assert.equal(classifyShellLine('FOO="a b"')?.kind, 'assignment');
  assert.equal(classifyShellLine('FOO=`id`')?.substitution, true);
  assert.equal(classifyShellLine('diff <(ls) x')?.substitution, true);
  assert.equal(classifyShellLine('. /etc/x;')?.target, '/etc/x');
});

test('property: any line classifies without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), fc.constantFrom('sh', 'fish', 'env') as fc.Arbitrary<'sh' | 'fish' | 'env'>, (s, shell) => {
      const c = classifyShellLine(s, shell);
      if (c) assert.ok(['command', 'assignment', 'source', 'alias', 'function'].includes(c.kind));
    }),
  );
});

test('property: raw lines keep every byte except the newlines', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const data = Buffer.from(bytes);
      const lines = rawLines(data);
      const joined = Buffer.concat(lines.flatMap((l, i) => (i === 0 ? [l] : [Buffer.from('\n'), l])));
      const expected = data.length > 0 && data[data.length - 1] === 0x0a ? data.subarray(0, -1) : data;
      // a file ending in \n has no empty last line; consecutive \n give empty lines
      assert.equal(lines.length, data.length === 0 ? 0 : expected.toString('latin1').split('\n').length);
      assert.deepEqual(joined, Buffer.from(expected));
      for (const l of lines) {
        const t = lineText(l);
        if (t.base64) assert.deepEqual(Buffer.from(t.base64, 'base64'), l);
        else assert.equal(t.text, l.toString('utf8'));
      }
    }),
  );
});
