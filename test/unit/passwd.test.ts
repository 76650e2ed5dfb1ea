import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseGroup, parsePasswd, userNames } from '../../src/host/passwd.js';

test('passwd: CRLF endings, comments, bad lines and duplicate uids', () => {
  const { entries, bad } = parsePasswd('root:x:0:0:root:/root:/bin/bash\r\n# note\nbroken line\ntoor:x:0:0::/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n');
  assert.deepEqual(entries.map((e) => [e.name, e.uid, e.shell]), [['root', 0, '/bin/bash'], ['toor', 0, '/bin/sh'], ['www-data', 33, '/usr/sbin/nologin']]);
  assert.deepEqual(bad, [3]);
  assert.equal(userNames(entries).get(0), 'root');
});

test('group: members', () => {
  const { entries } = parseGroup('sudo:x:27:alice,bob\nadm:x:4:\n');
  assert.deepEqual(entries.map((e) => [e.name, e.gid, e.members]), [['sudo', 27, ['alice', 'bob']], ['adm', 4, []]]);
});

test('property: any text parses without throwing; every line is an entry or bad', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constant('a:x:1:1::/h:/bin/sh')), { maxLength: 20 }), (ls) => {
      const text = ls.join('\n');
      const { entries, bad } = parsePasswd(text);
      const counted = text.split('\n').filter((l) => l.replace(/\r$/, '').trim() !== '' && !l.startsWith('#')).length;
      assert.equal(entries.length + bad.length, counted);
    }),
  );
});
