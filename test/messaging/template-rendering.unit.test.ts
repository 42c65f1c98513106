import { parse } from 'velocityjs';
import { defaultSandboxLimits } from '../../shared/templates/limits';
import { parseStrict } from '../../shared/templates/parse';
import { renderTemplate, type RenderResult } from '../../shared/templates/render';

/** Deep-frozen, as data held across renders might be: the sandbox must work with it either way. */
function freezeData<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) freezeData(item);
    Object.freeze(value);
  }
  return value;
}

// The seed's row of kozak@example.com, as a bulk send and as a triggered send see it.
const row = { id: '2', email: 'kozak@example.com', name: 'Dina Kozak', birthday: '2020-09-02T00:00:00Z', promo_code: 'AAAA-BBBB-DDDD' };
const bulkData = freezeData({ promo_codes: [row] });
const triggeredData = freezeData(JSON.parse(JSON.stringify({ 1043: [row] })) as Record<string, unknown>);

function output(result: RenderResult): string {
  if (!result.ok) throw new Error(`render failed: ${JSON.stringify(result.error)}`);
  return result.output;
}

describe('Velocity as the seed uses it', () => {
  it('reads a source row by index', () => {
    const template = "$!data.get('promo_codes').get(0).get('name') / $!data.get('promo_codes').get(0).get('promo_code')";
    expect(output(renderTemplate(template, { data: bulkData }))).toBe('Dina Kozak / AAAA-BBBB-DDDD');
  });

  it('loops over the rows', () => {
    const template = "#foreach($pc in $!data.get('promo_codes'))\n$!pc.get('name')\n$!pc.get('promo_code')\n#end";
    expect(output(renderTemplate(template, { data: bulkData }))).toBe('Dina Kozak\nAAAA-BBBB-DDDD\n');
  });

  it('renders templates taken in turns each as written, however often the same one comes again', () => {
    // Parsed templates are kept, the one rendered last found again without a lookup.
    const greeting = "Hello, $!data.get('promo_codes').get(0).get('name')";
    const code = "Code: $!data.get('promo_codes').get(0).get('promo_code')";
    const outputs = [greeting, greeting, code, greeting, code, code].map((template) => output(renderTemplate(template, { data: bulkData })));
    expect(outputs).toEqual([
      'Hello, Dina Kozak',
      'Hello, Dina Kozak',
      'Code: AAAA-BBBB-DDDD',
      'Hello, Dina Kozak',
      'Code: AAAA-BBBB-DDDD',
      'Code: AAAA-BBBB-DDDD',
    ]);
  });

  it('reads a triggered event source by its numeric id', () => {
    const template = "$!data.get('1043').get(0).get('name') #foreach($pc in $!data.get('1043'))$!pc.get('promo_code')#end";
    expect(output(renderTemplate(template, { data: triggeredData }))).toBe('Dina Kozak AAAA-BBBB-DDDD');
  });

  it('prints nothing for a quiet reference to a contact without rows, and the reference as written otherwise', () => {
    const data = freezeData({ promo_codes: [] });
    expect(output(renderTemplate("[$!data.get('promo_codes').get(0).get('name')]", { data }))).toBe('[]');
    expect(output(renderTemplate("[$data.get('promo_codes').get(0).get('name')]", { data }))).toBe("[$data.get('promo_codes').get(0).get('name')]");
  });

  it.each([
    ["$data.get('promo_codes').size()", '1'],
    ["$data.get('promo_codes').isEmpty()", 'false'],
    ["$data.containsKey('promo_codes') $data.containsKey('other')", 'true false'],
    ['$data.promo_codes[0].name', 'Dina Kozak'],
    ["$data.get('promo_codes').get(0).get('name').toUpperCase()", 'DINA KOZAK'],
    ["$data.get('promo_codes').get(0).get('birthday').substring(0, 10)", '2020-09-02'],
    ["#set($first = $data.get('promo_codes').get(0))#if($first.get('name') == 'Dina Kozak')hi#else bye#end", 'hi'],
    ["#foreach($key in $data.get('promo_codes').get(0).keySet())$key#if($foreach.hasNext),#end#end", 'id,email,name,birthday,promo_code'],
    ["#set($list = [])#set($ignored = $list.add('a'))$list.size() $list.contains('a')", '1 true'],
    ["#set($map = {})#set($ignored = $map.put('k', 'v'))$map.get('k') $map.getK()", 'v v'],
    ['#foreach($i in [1..3])$velocityCount#end', '123'],
  ])('supports %s', (template, expected) => {
    expect(output(renderTemplate(template, { data: bulkData }))).toBe(expected);
  });
});

describe('the sandbox', () => {
  it.each([
    '$data.constructor',
    '$data.__proto__',
    "$data.get('constructor')",
    "$data.get('__proto__')",
    '$data.toString',
    '$data.hasOwnProperty',
    "$data.get('promo_codes').constructor.constructor",
    "$data.get('promo_codes').map",
    "$data.get('promo_codes').get(0).get('name').constructor",
    '$data.prototype',
    '$constructor',
    '$toString',
    '$data.getClass()',
  ])('cannot reach %s (it prints as written)', (template) => {
    expect(output(renderTemplate(template, { data: bulkData }))).toBe(template);
  });

  it('cannot call a host function even through a reference to one', () => {
    const result = renderTemplate(
      "#set($f = $data.get('promo_codes').map)$f $data.get('promo_codes').filter('x') $data.get('promo_codes').join('-')",
      { data: bulkData },
    );
    expect(output(result)).not.toMatch(/function|native code|AAAA/);
  });

  it('cannot change the prototype of anything', () => {
    const result = renderTemplate('#set($data.__proto__.polluted = 1)#set($x = {})#set($x.__proto__.polluted = 1)$x.polluted', { data: bulkData });
    expect(result.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not let a template change the data other recipients see', () => {
    const result = renderTemplate("$data.get('promo_codes').add('x')", { data: bulkData });
    expect(result).toEqual({ ok: false, error: expect.objectContaining({ code: 'TEMPLATE_DATA_READ_ONLY', line: 1, column: 1 }) });
    renderTemplate('#set($data.promo_codes = [])', { data: bulkData });
    expect(bulkData.promo_codes).toHaveLength(1);
  });

  it('answers a syntax error with its line and column', () => {
    const result = renderTemplate('Hello\n#set($a = )', {});
    expect(result).toEqual({ ok: false, error: expect.objectContaining({ code: 'TEMPLATE_SYNTAX', line: 2, column: 9 }) });
  });

  it('answers a failing method with its line and column', () => {
    const result = renderTemplate("first line\n  $data.get('promo_codes').get(0).get('name').substring(40)", { data: bulkData });
    expect(result).toEqual({
      ok: false,
      error: { code: 'TEMPLATE_METHOD_FAILED', message: expect.stringContaining('substring'), line: 2, column: 3 },
    });
  });

  it.each([
    ['a huge range', '#foreach($i in [1..100000000])x#end'],
    ['nested loops past the total', '#foreach($i in [1..1000])#foreach($j in [1..1000])#end#end'],
    ['endless macro recursion', '#macro(again $n)#again($n)#end#again(1)'],
    ['a string doubling by interpolation', '#set($s = "ab")#foreach($i in [1..64])#set($s = "$s$s")#end$s'],
    ['a string doubling by addition', '#set($s = "ab")#foreach($i in [1..64])#set($s = $s + $s)#end$s.length()'],
    ['a list doubling in width', '#set($a = [1])#foreach($i in [1..64])#set($a = [$a, $a])#end$a'],
  ])('bounds %s with a limit error', (_, template) => {
    const result = renderTemplate(template, {});
    expect(result).toEqual({ ok: false, error: expect.objectContaining({ code: 'TEMPLATE_LIMIT_EXCEEDED' }) });
  });

  it('never throws, whatever the template', () => {
    const odd = [
      '#constructor("x")',
      '#hasOwnProperty("a")',
      '#end#end',
      '$!{',
      '#foreach($x in $nothing)$x#end',
      '#set($x = $x + 1)$x',
      '#@macro()x#end',
      '#define($d)$d#end$d',
    ];
    for (const template of odd) expect(() => renderTemplate(template, { data: bulkData })).not.toThrow();
  });

  it('keeps its loop bounds configurable', () => {
    const limits = { ...defaultSandboxLimits, maxLoopIterations: 3, maxTotalIterations: 5, maxSteps: 1000, maxValueChars: 1000, maxMacroDepth: 2 };
    expect(renderTemplate('#foreach($i in [1,2,3])$i#end', {}, { limits })).toEqual({ ok: true, output: '123' });
    expect(renderTemplate('#foreach($i in [1,2,3,4])$i#end', {}, { limits }).ok).toBe(false);
    expect(renderTemplate('#foreach($i in [1,2,3])#foreach($j in [1,2])#end#end', {}, { limits }).ok).toBe(false);
  });
});

describe('the strict parser', () => {
  it.each([
    "<p>Hello, $!data.get('promo_codes').get(0).get('name')!</p>\n#foreach($pc in $!data.get('promo_codes'))\n<li>$!pc.get('name') — $!pc.get('promo_code')</li>\n#end",
    '#if($a)x#elseif($b)y#else z#end',
    '#macro(m $a $b)$a-$b#end#m(1, "two")',
    '#set($m = {"a": 1, "b": [1, 2, 3]})$m.get("b").get(2) ## a comment\n#* a block comment *#',
    '#foreach($i in [1..3])\n  #if($foreach.hasNext)$i,#end\n#end\n#[[raw $x]]#',
    '#define($d)defined#end$d #@m()body#end',
  ])('nests a well-formed template exactly as velocityjs does: %s', (template) => {
    expect(parseStrict(template)).toEqual(parse(template));
  });
});

describe('Java semantics the sandbox keeps', () => {
  it('removes by value with remove(Object) and by index with remove(int), as java.util.List does', () => {
    expect(output(renderTemplate("#set($l = ['foo', 'bar', 'foo'])$l.remove('foo') $l $l.remove('baz') $l.remove(1) $l", {}))).toBe(
      'true [bar, foo] false foo [bar]',
    );
  });

  it("replaces an empty target around every character, as Java's String.replace does", () => {
    expect(output(renderTemplate('#set($s = "abc")$s.replace("", "-")', {}))).toBe('-a-b-c-');
  });

  it('names a change to external data with its own code, wherever the data is reached from', () => {
    // Not frozen (render threads do not freeze what they are given): read-only all the same.
    const data = { promo_codes: [{ ...row }], list: [1, 2] };
    const changes = [
      "#foreach($row in $data.get('promo_codes'))#set($row.name = 'x')#end",
      "#set($row = $data.get('promo_codes').get(0))$row.put('name', 'x')",
      '#set($data.promo_codes = [])',
      "#set($data.promo_codes[0].name = 'x')",
      '#set($i = 0)#set($data.promo_codes[$i].name = "x")',
      '$data.list.add(3)',
      '$data.list.remove(0)',
    ];
    for (const template of changes) {
      expect(renderTemplate(template, { data })).toEqual({ ok: false, error: expect.objectContaining({ code: 'TEMPLATE_DATA_READ_ONLY' }) });
    }
    expect(data).toEqual({ promo_codes: [row], list: [1, 2] });
    // What the template builds, it may change.
    expect(
      output(renderTemplate('#set($m = {})#set($m.a = 1)#set($n.b = 2)#set($ok = $n.put("c", 3))#set($l = [1])#set($ok = $l.add(2))$m $n $l', {})),
    ).toBe('{a=1} {b=2, c=3} [1, 2]');
  });
});
