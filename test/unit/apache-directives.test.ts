import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { directiveRow, directiveRows, collectSite } from '../../src/config/apache/directives/table.js';
import { DOC_END, DOC_START, directiveTableMarkdown } from '../../src/config/apache/directives/table-doc.js';
import { readApacheConfig } from '../../src/config/apache/read/reader.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/wsgi-host.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The directive stage on its own (no processes): the directive table's rows, and the section
 * model that keeps <Directory>, <Files>, <Location> and their Match forms with file:line and the
 * directives written in them, ready for per-path merges.
 */

const tmp = tempDir('wsgi-host-apache-unit-');
after(() => tmp.cleanup());

describe('the directive table', () => {
  test('every row names its status; translated rows have a handler, where Apache allows them and a model key', () => {
    const rows = directiveRows();
    assert.ok(rows.length > 100, `the table has ${rows.length} rows`);
    const names = new Set<string>();
    for (const row of rows) {
      assert.ok(!names.has(row.name.toLowerCase()), `${row.name} is listed twice`);
      names.add(row.name.toLowerCase());
      assert.ok(['honoured', 'not-honoured', 'ignored'].includes(row.status), `${row.name}: status ${row.status}`);
      if (row.status === 'honoured') {
        assert.equal(typeof row.run, 'function', `${row.name} is honoured without a handler`);
        assert.ok((row.where ?? []).length > 0, `${row.name} has no context`);
        assert.ok((row.model ?? '') !== '', `${row.name} has no model key`);
      } else {
        assert.ok(row.reason.endsWith('.'), `${row.name}: the reason is a sentence: ${row.reason}`);
      }
    }
  });

  test('a directive is found whatever its case; one no row names falls to its family, then to ignored', () => {
    assert.equal(directiveRow('wsgidaemonprocess').name, 'WSGIDaemonProcess');
    assert.equal(directiveRow('wsgidaemonprocess').model, 'group (options: DAEMON_OPTIONS)');
    // The SSL* family (mod_ssl's tuning); the certificates and protocols have rows of their own (issue 16).
    assert.equal(directiveRow('sslsessioncache').status, 'ignored');
    assert.match(directiveRow('sslsessioncache').reason, /mod_ssl/);
    assert.equal(directiveRow('sslcertificatefile').status, 'honoured');
    assert.equal(directiveRow('sslcertificatefile').model, 'host.tls.certificate');
    assert.equal(directiveRow('authuserfile').status, 'not-honoured');
    assert.equal(directiveRow('wsgimadeup').status, 'not-honoured');
    assert.match(directiveRow('wsgimadeup').reason, /not a mod_wsgi directive/);
    assert.deepEqual({ ...directiveRow('madeupdirective') }, { name: 'madeupdirective', status: 'ignored', reason: 'wsgi-host does not use it.' });
  });
});

describe('what serve does with each directive (issue 14)', () => {
  test('a refused row is not honoured and says why; a conditional refusal names its forms and has a handler', () => {
    for (const row of directiveRows()) {
      if (row.refused === undefined) continue;
      assert.equal(row.status, 'not-honoured', `${row.name} is refused, so it is not honoured`);
      if (typeof row.refused === 'string') assert.equal(typeof row.run, 'function', `${row.name}: a conditional refusal needs a handler to decide`);
    }
    for (const name of ['redirect', 'rewriterule', 'proxypass', 'header', 'requestheader', 'scriptalias', 'aliasmatch', 'wsgiaccessscript']) {
      assert.equal(directiveRow(name).refused, true, name);
    }
    assert.equal(directiveRow('require').status, 'honoured');
    assert.deepEqual(directiveRow('require').where, ['section'], 'Apache allows Require in sections only');
    assert.equal(directiveRow('wsgimadeup').refused, true, 'Apache refuses to start with an unknown directive of a loaded module');
    assert.equal(directiveRow('rewritecond').refused, undefined, 'RewriteCond alone routes nothing');
  });

  test('docs/configuration.md has the table as the code has it (node scripts/apache-directives-doc.mjs writes it)', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const table = doc.slice(doc.indexOf(DOC_START), doc.indexOf(DOC_END) + DOC_END.length);
    assert.equal(
      table,
      directiveTableMarkdown(),
      'docs/configuration.md is out of date: run npx tsc -p tsconfig.json && node scripts/apache-directives-doc.mjs',
    );
  });
});

describe('the section model', () => {
  test('sections are kept with file:line, what they match, their nesting and the directives written in them', () => {
    const conf = tmp.file(
      'sections/site.conf',
      [
        'ServerName main.example', // 1
        '<VirtualHost *:80>', // 2
        '  ServerName www.example', // 3
        '  <Directory /srv/private>', // 4
        '    Require all denied', // 5
        '    <Files secret.txt>', // 6
        '      Require all denied', // 7
        '    </Files>', // 8
        '  </Directory>', // 9
        '  <LocationMatch "^/api">', // 10
        '    <RequireAll>', // 11
        '      Require ip 127.0.0.1', // 12
        '    </RequireAll>', // 13
        '    SetEnv API on', // 14
        '  </LocationMatch>', // 15
        '</VirtualHost>', // 16
        '<DirectoryMatch "^/srv/(a|b)">', // 17
        '  Options None', // 18
        '</DirectoryMatch>', // 19
        '',
      ].join('\n'),
    );
    const site = collectSite(readApacheConfig(conf), conf);
    const shape = site.scopes.map((s) => ({
      kind: s.kind,
      label: s.label,
      line: s.at.line,
      host: s.host,
      pattern: s.pattern,
      parent: s.parent?.label,
      section: s.section?.name,
      directives: s.directives.map((d) => `${d.line}: ${d.name} ${d.args.join(' ')}`),
    }));
    assert.deepEqual(shape, [
      {
        kind: 'server',
        label: 'the server configuration',
        line: 1,
        host: undefined,
        pattern: undefined,
        parent: undefined,
        section: undefined,
        directives: ['1: ServerName main.example'],
      },
      {
        kind: 'vhost',
        label: '<VirtualHost *:80>',
        line: 2,
        host: 0,
        pattern: undefined,
        parent: undefined,
        section: 'VirtualHost',
        directives: ['3: ServerName www.example'],
      },
      {
        kind: 'directory',
        label: '<Directory /srv/private>',
        line: 4,
        host: 0,
        pattern: { text: '/srv/private', regex: false },
        parent: undefined,
        section: 'Directory',
        directives: ['5: Require all denied'],
      },
      {
        kind: 'files',
        label: '<Files secret.txt>',
        line: 6,
        host: 0,
        pattern: { text: 'secret.txt', regex: false },
        parent: '<Directory /srv/private>',
        section: 'Files',
        directives: ['7: Require all denied'],
      },
      {
        kind: 'location',
        label: '<LocationMatch ^/api>',
        line: 10,
        host: 0,
        pattern: { text: '^/api', regex: true },
        parent: undefined,
        section: 'LocationMatch',
        directives: ['12: Require ip 127.0.0.1', '14: SetEnv API on'],
      },
      {
        kind: 'directory',
        label: '<DirectoryMatch ^/srv/(a|b)>',
        line: 17,
        host: undefined,
        pattern: { text: '^/srv/(a|b)', regex: true },
        parent: undefined,
        section: 'DirectoryMatch',
        directives: ['18: Options None'],
      },
    ]);
    const location = site.scopes[4];
    const block = location?.section?.children[0];
    assert.equal(
      block?.type === 'section' ? `${block.name}@${block.line}: ${block.children.length} child` : block,
      'RequireAll@11: 1 child',
      'an access block stays nested in the section as read',
    );
    assert.equal(location?.at.file, conf);
  });
});
