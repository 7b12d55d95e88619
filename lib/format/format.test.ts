import assert from 'node:assert/strict';
import { TemplateError, formatInspect, formatList, renderTemplate, sprintf, tabwrite } from './index.js';

const c = {
  ID: 'abc123',
  Names: 'web',
  Status: 'Up 5 seconds',
  Ports: ['80/tcp', '443/tcp'],
  Config: { Labels: { 'com.example.app': 'shop', tier: 'front' }, Env: ['A=1', 'B=2'], Cmd: null },
  State: { Status: 'running', Running: true, ExitCode: 0, Pid: 42 },
  Size: 1234567,
};

const throwsAt = (tpl: string, re: RegExp, data: unknown = c): void => {
  assert.throws(() => renderTemplate(tpl, data), (e: unknown) => e instanceof TemplateError && re.test(e.message), `${tpl}`);
};

describe('lib/format', () => {
  describe('template', () => {
    it('fields, json, index, join, upper/lower', () => {
      assert.equal(renderTemplate('{{.Names}}\t{{.Status}}', c), 'web\tUp 5 seconds');
      assert.equal(renderTemplate('{{.State.Status}}', c), 'running');
      assert.equal(renderTemplate('{{json .Config.Labels}}', c), '{"com.example.app":"shop","tier":"front"}');
      assert.equal(renderTemplate('{{json .Config.Cmd}}', c), 'null');
      assert.equal(renderTemplate('{{index .Config.Labels "com.example.app"}}', c), 'shop');
      assert.equal(renderTemplate('[{{index .Config.Labels "missing"}}]', c), '[]');
      assert.equal(renderTemplate('{{index .Ports 1}}', c), '443/tcp');
      assert.equal(renderTemplate('{{join .Config.Env ","}}', c), 'A=1,B=2');
      assert.equal(renderTemplate('{{upper .Names}} {{lower "ABC"}} {{title "hello world"}}', c), 'WEB abc Hello World');
      assert.equal(renderTemplate('{{.Names | upper}}', c), 'WEB');
      assert.equal(renderTemplate('{{.Size}} {{.State.Running}} {{.Nope}}', c), '1234567 true <no value>');
      assert.equal(renderTemplate('{{.Ports}} {{.Config.Labels}}', c), '[80/tcp 443/tcp] map[com.example.app:shop tier:front]');
      assert.equal(renderTemplate('{{len .Ports}} {{(index .Config.Env 0)}} {{(index .Ports 0) | upper}}', c), '2 A=1 80/TCP');
      assert.equal(renderTemplate('{{split "a,b" ","}}', c), '[a b]');
    });

    it('range, if/else if/else, with, variables, comparisons', () => {
      assert.equal(renderTemplate('{{range .Ports}}<{{.}}>{{end}}', c), '<80/tcp><443/tcp>');
      assert.equal(renderTemplate('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', c), 'com.example.app=shop;tier=front;');
      assert.equal(renderTemplate('{{range $i, $p := .Ports}}{{$i}}:{{$p}} {{end}}', c), '0:80/tcp 1:443/tcp ');
      assert.equal(renderTemplate('{{range .Config.Cmd}}x{{else}}none{{end}}', c), 'none');
      assert.equal(renderTemplate('{{range .Ports}}{{$.Names}}{{end}}', c), 'webweb');
      assert.equal(renderTemplate('{{if .State.Running}}up{{else}}down{{end}}', c), 'up');
      assert.equal(renderTemplate('{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{else}}?{{end}}', c), 'r');
      assert.equal(renderTemplate('{{if and .State.Running (gt .State.Pid 10)}}y{{end}}{{if not .Config.Cmd}}n{{end}}', c), 'yn');
      assert.equal(renderTemplate('{{with .State}}{{.Pid}}{{end}}{{with .Config.Cmd}}x{{else}}-{{end}}', c), '42-');
      assert.equal(renderTemplate('{{$n := .Names}}{{$n}}!', c), 'web!');
      assert.equal(renderTemplate('{{if eq .State.Status "a" "running"}}multi{{end}}', c), 'multi');
    });

    it('printf and trimming and comments', () => {
      assert.equal(renderTemplate('{{printf "%s is %d" .Names .State.Pid}}', c), 'web is 42');
      assert.equal(renderTemplate('{{printf "%-6s|%5s|%05d|%.2f|%q|%v%%" "ab" "cd" 42 3.14159 "x" true}}', c), 'ab    |   cd|00042|3.14|"x"|true%');
      assert.equal(sprintf('%s %s', ['a']), 'a %!s(MISSING)');
      assert.equal(renderTemplate('a  {{- .Names -}}  b', c), 'aweb' + 'b');
      assert.equal(renderTemplate('x{{/* note */}}y {{- /* trimmed */ -}} z', c), 'xyz');
      assert.equal(renderTemplate('{{`raw\\t`}}', c), 'raw\\t');
    });

    it('errors name the position', () => {
      throwsAt('{{.Names', /^template: :1:0: unclosed action/);
      throwsAt('ab\n  {{.State.Nope.Deeper}}', /^template: :2:4: executing "" at <\.State\.Nope\.Deeper>: nil pointer evaluating \.State\.Nope\.Deeper/);
      throwsAt('{{.Names.Foo}}', /can't evaluate field Foo in type string/);
      throwsAt('{{nofunc .Names}}', /^template: :1:2: function "nofunc" not defined/);
      throwsAt('{{if .Names}}x', /\{\{if\}\} has no \{\{end\}\}/);
      throwsAt('{{end}}', /unexpected \{\{end\}\}/);
      throwsAt('{{index .Ports 5}}', /error calling index: index out of range: 5/);
      throwsAt('{{.Names .Status}}', /can't give argument to non-function \.Names/);
      throwsAt('{{$x}}', /undefined variable: \$x/);
      throwsAt('{{"abc}}', /unterminated quoted string/);
      throwsAt('{{join .Names ","}}', /error calling join: join: expected a list/);
    });
  });

  describe('tabwriter', () => {
    it('pads terminated cells to width+3, min 10; the last cell is not padded', () => {
      assert.equal(tabwrite('DRIVER\tVOLUME NAME\nlocal\tdata\n'), 'DRIVER    VOLUME NAME\nlocal     data\n');
      assert.equal(
        tabwrite('CONTAINER ID\tIMAGE\tNAMES\nabc123def456\tnginx:latest\tweb\n'),
        'CONTAINER ID   IMAGE          NAMES\nabc123def456   nginx:latest   web\n',
      );
    });
    it('aligns a column per block of lines that have it', () => {
      assert.equal(tabwrite('a\tb\nno tabs here\nlonger cell\tc\n'), 'a         b\nno tabs here\nlonger cell   c\n');
    });
    it('counts code points', () => {
      assert.equal(tabwrite('héllo wörld!\tx\nab\ty\n'), 'héllo wörld!   x\nab             y\n');
    });
  });

  describe('formatList / formatInspect', () => {
    const rows = [
      { ID: 'abc123def456', Image: 'nginx', Names: 'web', Labels: 'a=b' },
      { ID: 'fff000111222', Image: 'redis:7-alpine', Names: 'cache', Labels: '' },
    ];
    const opts = { defaultTable: 'table {{.ID}}\t{{.Image}}\t{{.Names}}', headers: { ID: 'CONTAINER ID' } };
    it('default table with headers', () => {
      const expected = 'CONTAINER ID   IMAGE            NAMES\nabc123def456   nginx            web\nfff000111222   redis:7-alpine   cache\n';
      assert.equal(formatList(undefined, rows, opts), expected);
      assert.equal(formatList('table', rows, opts), expected);
    });
    it('custom table, literal \\t, and a derived header', () => {
      assert.equal(formatList('table {{.Names}}\\t{{.Labels}}', rows, opts), 'NAMES     LABELS\nweb       a=b\ncache     \n');
      assert.equal(formatList('table {{.CreatedAt}}', [{ CreatedAt: 'x' }], opts), 'CREATED AT\nx\n');
    });
    it('plain template and json', () => {
      assert.equal(formatList('{{.Names}}: {{.Image}}', rows, opts), 'web: nginx\ncache: redis:7-alpine\n');
      assert.equal(formatList('json', rows, opts), rows.map((r) => JSON.stringify(r) + '\n').join(''));
      assert.equal(formatList('table', [], opts), 'CONTAINER ID   IMAGE     NAMES\n');
    });
    it('inspect', () => {
      assert.equal(formatInspect(undefined, [{ a: 1 }]), '[\n    {\n        "a": 1\n    }\n]\n');
      assert.equal(formatInspect('{{.State.Status}}', [c, c]), 'running\nrunning\n');
      assert.equal(formatInspect('{{json .State}}', [c]), '{"Status":"running","Running":true,"ExitCode":0,"Pid":42}\n');
      assert.equal(formatInspect('json', [{ a: 1 }]), '{"a":1}\n');
    });
  });
});
