import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { globToRegExp, octalMode } from '../../src/collectors/persistence-files.js';

test('glob components as glob(3) matches them', () => {
  const m = (p: string, n: string) => globToRegExp(p).test(n);
  assert.equal(m('*.conf', 'ldap.conf'), true);
  assert.equal(m('*.conf', '.hidden.conf'), false, 'a leading wildcard does not match a leading dot');
  assert.equal(m('.*.conf', '.hidden.conf'), true);
  assert.equal(m('*.conf', 'x.conf.bak'), false);
  assert.equal(m('[0-9]*', '10-x'), true);
  assert.equal(m('[!0-9]*', '10-x'), false);
  assert.equal(m('a?c', 'abc'), true);
  assert.equal(m('a.c', 'abc'), false, 'dots are literal');
  assert.equal(m('a\\*', 'a*'), true);
  assert.equal(m('*', 'name\nwith newline'), true);
});

test('modes in octal with special bits', () => {
  assert.equal(octalMode(0o100644), '0644');
  assert.equal(octalMode(0o104755), '4755');
});

test('property: any pattern compiles without throwing, and a literal name matches itself', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      globToRegExp(s);
      if (!/[*?[\\]/.test(s)) assert.equal(globToRegExp(s).test(s), true);
    }),
  );
});
