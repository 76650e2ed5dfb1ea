import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAP_SYS_PTRACE, CAP_SYS_RAWIO, checkFreeSpace, effectiveCaps, hasCap, lockdownMode } from '../../src/acquire/memory/preflight.js';
import { parseSize } from '../../src/acquire/memory/size-arg.js';
import { tempDir } from '../helpers.js';

describe('preflight', () => {
  it('reads the effective capabilities from status', () => {
    const root = effectiveCaps('Name:\tbash\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n');
    const sudoNoRawio = effectiveCaps('CapEff:\t000001fffffdffff\n');
    assert.equal(hasCap(root, CAP_SYS_RAWIO), true);
    assert.equal(hasCap(sudoNoRawio, CAP_SYS_RAWIO), false);
    assert.equal(hasCap(sudoNoRawio, CAP_SYS_PTRACE), true);
    assert.equal(hasCap(effectiveCaps('CapEff:\t0000000000000000\n'), CAP_SYS_PTRACE), false);
    assert.equal(effectiveCaps('no caps here'), null);
  });

  it('reads the lockdown mode in brackets', () => {
    assert.equal(lockdownMode('none integrity [confidentiality]\n'), 'confidentiality');
    assert.equal(lockdownMode('[none] integrity confidentiality\n'), 'none');
    assert.equal(lockdownMode(''), null);
  });

  it('refuses an image that does not fit and points at --stdout', async (t) => {
    await assert.rejects(checkFreeSpace(`${tempDir(t)}/case`, 2 ** 52), /not enough free space .*--stdout/);
    await checkFreeSpace(`${tempDir(t)}/not/yet/there`, 1024);
  });

  it('parses sizes with binary units and refuses anything else', () => {
    assert.deepEqual(['1048576', '4G', '512m', '2GiB', '1T'].map((s) => parseSize(s, '--max-size')), [2 ** 20, 4 * 2 ** 30, 512 * 2 ** 20, 2 * 2 ** 30, 2 ** 40]);
    for (const bad of ['0', '-1', '4X', '', '1.5G']) assert.throws(() => parseSize(bad, '--max-size'), /--max-size/);
  });
});
