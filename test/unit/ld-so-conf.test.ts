import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loaderAssignments, parseLdSoConf, parsePreload } from '../../src/host/ld-so-conf.js';

test('ld.so.preload is split as ld.so splits it: blanks, newlines and colons; no comments', () => {
  assert.deepEqual(parsePreload('/lib/x86_64-linux-gnu/libprocesshider.so\r\n# not a comment:/usr/lib/$LIB/libx.so  /tmp/.a.so\n'), [
    { line: 1, library: '/lib/x86_64-linux-gnu/libprocesshider.so' },
    { line: 2, library: '#' },
    { line: 2, library: 'not' },
    { line: 2, library: 'a' },
    { line: 2, library: 'comment' },
    { line: 2, library: '/usr/lib/$LIB/libx.so' },
    { line: 2, library: '/tmp/.a.so' },
  ]);
});

test('ld.so.conf: include with several patterns, hwcap, comments anywhere, directories', () => {
  assert.deepEqual(parseLdSoConf('include /etc/ld.so.conf.d/*.conf extra/*.conf\n# c\n/usr/local/lib # trailing\nhwcap 1 nosegneg\n  /opt/lib=libc6  \n'), [
    { line: 1, directive: 'include', value: '/etc/ld.so.conf.d/*.conf' },
    { line: 1, directive: 'include', value: 'extra/*.conf' },
    { line: 3, directive: 'directory', value: '/usr/local/lib' },
    { line: 4, directive: 'hwcap', value: '1 nosegneg' },
    { line: 5, directive: 'directory', value: '/opt/lib=libc6' },
  ]);
});

test('loader variables in /etc/environment', () => {
  assert.deepEqual(loaderAssignments('PATH="/usr/bin"\nexport LD_PRELOAD="/tmp/x.so"\r\nLD_LIBRARY_PATH=/opt/l\nXLD_PRELOAD=no\n'), [
    { line: 2, name: 'LD_PRELOAD', value: '/tmp/x.so' },
    { line: 3, name: 'LD_LIBRARY_PATH', value: '/opt/l' },
  ]);
});

test('property: any text parses without throwing', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
      for (const e of parsePreload(s)) assert.ok(e.library !== '' && !/[ \t:\n]/.test(e.library));
      parseLdSoConf(s);
      loaderAssignments(s);
    }),
  );
});
