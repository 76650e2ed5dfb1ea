import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT, runCli } from '../helpers.js';

const version = JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')).version as string;

test('--version names the release', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout.toString(), new RegExp(`^goldhour/${version.replace(/\./g, '\\.')} `));
});

for (const cmd of ['triage', 'verify']) {
  test(`${cmd} --help shows usage, flags and examples`, async () => {
    const r = await runCli([cmd, '--help']);
    assert.equal(r.code, 0);
    const text = r.stdout.toString();
    for (const section of ['USAGE', 'FLAGS', 'DESCRIPTION', 'EXAMPLES']) assert.match(text, new RegExp(`^${section}`, 'm'));
    assert.match(text, /Exit codes:/);
  });
}

test('an unknown command fails in one line', async () => {
  const r = await runCli(['frobnicate']);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});
