'use strict'
// tape.js alone, without the native addon: a reference encoder below mirrors
// src/tape.rs (same ops, same fallbacks), and every decoded value must be
// indistinguishable from JSON.parse of the same text.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { decodeTape, OP, _genericShape, _compiledShape } = require('../tape.js')

// Reference encoder: a small recursive-descent parser writing the tape as
// src/tape.rs does (keys in source order, INT for exact i32 but -0, NUM else).
// Returns null where the Rust encoder gives None. `registry` maps the JSON
// text of a key list to a shape id.
function encodeRef(text, registry) {
  const { STR, INT, NUM, TRUE, FALSE, NULL, ARR, OBJ } = OP
  const ops = []
  const nums = []
  let strs = ''
  let i = 0
  const fail = () => {
    throw new SyntaxError('tape fallback')
  }
  const ws = () => {
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r') i++
  }
  const string = () => {
    if (text[i] !== '"') fail()
    const start = i++
    while (text[i] !== '"') {
      if (i >= text.length) fail()
      i += text[i] === '\\' ? 2 : 1
    }
    const s = JSON.parse(text.slice(start, ++i))
    // Rust strings cannot hold lone surrogates: the native encoder falls back to the text for them.
    if (/[\uD800-\uDFFF]/u.test(s)) fail()
    return s
  }
  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
  const value = (depth) => {
    ws()
    const c = text[i]
    if (c === '"') {
      const s = string()
      ops.push(STR, strs.length, strs.length + s.length)
      strs += s
    } else if (c === '[' || c === '{') {
      if (depth >= 127) fail() // the native encoder's nesting limit (src/tape.rs MAX_DEPTH)
      i++
      const at = ops.length
      ops.push(c === '[' ? ARR : OBJ, 0)
      const keys = []
      ws()
      if (text[i] !== (c === '[' ? ']' : '}')) {
        for (;;) {
          if (c === '{') {
            ws()
            const k = string()
            if (keys.includes(k)) fail()
            keys.push(k)
            ws()
            if (text[i++] !== ':') fail()
            value(depth + 1)
          } else {
            value(depth + 1)
            keys.push(null)
          }
          ws()
          if (text[i] !== ',') break
          i++
        }
      }
      ws()
      if (text[i++] !== (c === '[' ? ']' : '}')) fail()
      if (c === '[') {
        ops[at + 1] = keys.length
      } else {
        const sig = JSON.stringify(keys)
        if (!registry.has(sig)) registry.set(sig, registry.size)
        ops[at + 1] = registry.get(sig)
      }
    } else if (text.startsWith('true', i)) {
      i += 4
      ops.push(TRUE)
    } else if (text.startsWith('false', i)) {
      i += 5
      ops.push(FALSE)
    } else if (text.startsWith('null', i)) {
      i += 4
      ops.push(NULL)
    } else {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(text) || fail()
      i = NUMBER.lastIndex
      const x = Number(m[0])
      if (!Number.isFinite(x)) fail()
      if ((x | 0) === x && !Object.is(x, -0)) {
        ops.push(INT, x)
      } else {
        ops.push(NUM)
        nums.push(x)
      }
    }
  }
  try {
    value(0)
    ws()
    if (i !== text.length) fail()
  } catch (e) {
    if (e instanceof SyntaxError) return null
    throw e
  }
  return { ops: Int32Array.from(ops), nums: Float64Array.from(nums), strs }
}

// Fails unless `actual` is indistinguishable from `expected` (a JSON.parse
// result): same primitives (Object.is: -0 counts), plain objects with
// Object.prototype and the same own properties in the same order with the
// same attributes, real arrays without holes.
function assertSame(actual, expected, at = '$') {
  const assert = require('node:assert/strict')
  if (expected === null || typeof expected !== 'object') {
    assert.ok(Object.is(actual, expected), `${at}: ${String(actual)} is not ${String(expected)}`)
    return
  }
  assert.equal(typeof actual, 'object', at)
  assert.ok(actual !== null, at)
  assert.equal(Array.isArray(actual), Array.isArray(expected), `${at}: array-ness`)
  assert.equal(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), `${at}: prototype`)
  assert.ok(Object.isExtensible(actual), `${at}: extensible`)
  const keys = Reflect.ownKeys(actual)
  assert.deepEqual(keys, Reflect.ownKeys(expected), `${at}: own keys in order`)
  for (const k of keys) {
    const a = Object.getOwnPropertyDescriptor(actual, k)
    const e = Object.getOwnPropertyDescriptor(expected, k)
    assert.deepEqual([a.writable, a.enumerable, a.configurable, 'get' in a], [e.writable, e.enumerable, e.configurable, 'get' in e], `${at}[${String(k)}]: attributes`)
    if (k !== 'length' || !Array.isArray(expected)) assertSame(a.value, e.value, `${at}[${JSON.stringify(k)}]`)
  }
}

// A reusable registry and its shapeKeys callback: ids are stable across
// documents, as with the native process-global registry.
const registry = new Map()
const shapeKeysCalls = new Map()
function shapeKeys(id) {
  shapeKeysCalls.set(id, (shapeKeysCalls.get(id) || 0) + 1)
  for (const [sig, i] of registry) if (i === id) return sig
  return undefined
}

function roundTrip(text) {
  const t = encodeRef(text, registry)
  assert.ok(t, `no tape for ${text.slice(0, 80)}`)
  const got = decodeTape(t.ops, t.nums, t.strs, shapeKeys)
  const want = JSON.parse(text)
  assert.deepStrictEqual(got, want)
  assertSame(got, want)
  return got
}

const deep = (n, open, close) => open.repeat(n) + '1' + close.repeat(n)

// The documents of src/tape.rs's tests, and more.
const DOCS = [
  'null',
  'true',
  'false',
  '0',
  '""',
  '"top"',
  '[]',
  '{}',
  '[[],{},[[]],[{}],{"a":{}}]',
  String.raw`{"esc":"\"\\\/\b\f\n\r\t\u0000\u001f","nul\u0000key":1,"":"empty key"}`,
  String.raw`{"bmp":"é€中","astral":"😀𝄞","mixed":"a😀b\ud83d\ude00c","lit":"\u2028\u2029"}`,
  '{"__proto__":{"polluted":true},"constructor":1,"toString":"x","hasOwnProperty":null}',
  '[{"__proto__":null},{"__proto__":[]},{"a":{"__proto__":{"__proto__":1}}}]',
  '{"b":1,"2":2,"a":3,"1":4,"-1":5,"01":6,"4294967295":7,"4294967294":8}',
  '[{"id":1,"tags":["a"]},{"id":2},{"tags":[],"id":3},{"id":4,"tags":[{"k":"v"},{"k":"w","n":null}]}]',
  '{"a":{"a":{"a":{"b":[{"a":1},{"b":2},{"a":1,"b":2},{"b":2,"a":1}]}}}}',
  '[2147483647,2147483648,-2147483648,-2147483649,9007199254740993,18446744073709551615,18446744073709551616]',
  '[-9223372036854775808,-9223372036854775809,123456789012345678901234567890]',
  '[0.1,-0.1,1.0,-1.0,1e2,1E-2,5e-324,1e308,-1e308,1.7976931348623157e308,2.2250738585072014e-308,0.30000000000000004]',
  '[-0,-0.0,-0e5,0.0,1e-400,-1e-400,{"z":-0}]',
  ' \t\r\n[ 1 , { "a" : 2 } ] \n ',
  '{"}); throw new Error(\\"injected\\"); ({":1,"\\\\":2,"\\"":3,"\\n":4,"</script>":5,"\\u2028":6,"`${x}`":7}',
  deep(127, '[', ']'), // the native encoder's limit
  deep(127, '{"a":', '}'),
]

test('op codes match src/tape.rs', () => {
  const rs = fs.readFileSync(path.join(__dirname, '..', 'src', 'tape.rs'), 'utf8')
  const consts = Object.fromEntries([...rs.matchAll(/^pub const ([A-Z]+): i32 = (\d+);$/gm)].map((m) => [m[1], Number(m[2])]))
  assert.deepEqual(consts, { ...OP })
})

test('tricky documents decode like JSON.parse', () => {
  for (const text of DOCS) roundTrip(text)
})

test('the reference encoder falls back where src/tape.rs does', () => {
  for (const text of ['', ' ', '{} x', '[1]]', '1 2', '[1,]', "{'a':1}", 'NaN', '[Infinity]', '1e309', '[-1e400]',
    '"\\ud800"', '{"a":1,"a":2}', '[{"x":[{"k":1,"k":1}]}]', deep(128, '[', ']'), deep(128, '{"a":', '}')]) {
    assert.equal(encodeRef(text, new Map()), null, text.slice(0, 40))
  }
})

test('details JSON.parse would give', () => {
  const o = roundTrip('{"__proto__":{"x":1},"b":1,"1":2}')
  assert.equal(Object.getPrototypeOf(o), Object.prototype)
  assert.ok(Object.hasOwn(o, '__proto__'))
  assert.deepEqual(o.__proto__, { x: 1 }) // eslint-disable-line no-proto
  assert.equal(o.x, undefined, 'no prototype pollution')
  assert.equal({}.x, undefined)
  assert.deepEqual(Object.keys(o), ['1', '__proto__', 'b'])
  const a = roundTrip('[-0,0,-0.0,1e-400,-1e-400]')
  assert.deepEqual(a.map((x) => Object.is(x, -0)), [true, false, true, false, true])
  const s = roundTrip('["😀","a😀","\\ud83d\\ude00x",""]')
  assert.deepEqual(s.map((x) => x.length), [2, 3, 3, 0])
  // Big arrays: checked by text only (the property-by-property comparison would take seconds).
  const text = JSON.stringify(Array.from({ length: 100000 }, (_, i) => (i % 3 ? i : { i })))
  const t = encodeRef(text, registry)
  const big = decodeTape(t.ops, t.nums, t.strs, shapeKeys)
  assert.ok(Array.isArray(big) && big.length === 100000 && Object.keys(big).length === 100000)
  assert.equal(JSON.stringify(big), text)
})

test('one shapeKeys call per shape, constructors reused', () => {
  const text = '[{"cached_a":1,"cached_b":2},{"cached_a":3,"cached_b":4}]'
  roundTrip(text)
  roundTrip(text)
  const id = registry.get('["cached_a","cached_b"]')
  assert.equal(shapeKeysCalls.get(id), 1)
})

test('server-controlled keys cannot inject code', () => {
  const keys = ['}); throw new Error("x"); ({', '\\', '"', "'", '\n', '\u2028', '${1}', '__proto__', '', ' __proto__', '__proto__ ']
  for (const build of [_compiledShape, _genericShape]) {
    let n = 0
    const o = build(keys)(() => n++)
    assert.deepEqual(Reflect.ownKeys(o), keys.slice())
    assert.deepEqual(Object.values(o), keys.map((_, i) => i))
    assert.equal(Object.getPrototypeOf(o), Object.prototype)
  }
})

test('generic shapes match compiled ones', () => {
  const lists = [[], ['a'], ['b', '2', 'a', '1'], ['__proto__'], ['toString', 'constructor', 'valueOf', 'x'], ['__defineGetter__', 'isPrototypeOf']]
  for (const keys of lists) {
    const values = keys.map((_, i) => (i % 2 ? { i } : [i]))
    const read = () => {
      let n = 0
      return () => values[n++]
    }
    const want = JSON.parse('{' + keys.map((k, i) => JSON.stringify(k) + ':' + JSON.stringify(values[i])).join(',') + '}')
    assertSame(_genericShape(keys)(read()), want)
    assertSame(_compiledShape(keys)(read()), want)
  }
})

test('malformed tapes throw', () => {
  const ok = encodeRef('[{"m":1}]', registry)
  assert.throws(() => decodeTape(ok.ops.subarray(0, ok.ops.length - 1), ok.nums, ok.strs, shapeKeys), /tape: read 6 of 5 ops/)
  assert.throws(() => decodeTape(Int32Array.of(OP.NULL, OP.NULL), new Float64Array(0), '', shapeKeys), /read 1 of 2 ops/)
  assert.throws(() => decodeTape(Int32Array.of(OP.NULL), Float64Array.of(1), '', shapeKeys), /0 of 1 numbers/)
  assert.throws(() => decodeTape(Int32Array.of(OP.OBJ, 999999), new Float64Array(0), '', shapeKeys), /unknown shape 999999/)
  assert.throws(() => decodeTape(Int32Array.of(42), new Float64Array(0), '', shapeKeys), /bad op 42 at 0/)
})

test('random documents', () => {
  let seed = 0x2545f491
  const rand = (n) => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) % n
  }
  const pieces = ['a', 'id', '__proto__', '1', '0', '😀', 'é', '\u0000', '"', '\\', '\u2028', 'toString', '']
  const str = () => Array.from({ length: rand(4) }, () => pieces[rand(pieces.length)]).join('')
  const nums = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53 + 2, 0.1, -1.5e-300, 1e308, Number.MIN_VALUE]
  const gen = (depth) => {
    switch (rand(depth > 4 ? 5 : 7)) {
      case 0: return str()
      case 1: return nums[rand(nums.length)] * (rand(2) ? 1 : rand(1e6) / 1e6)
      case 2: return [true, false, null][rand(3)]
      case 3: return rand(1000) - 500
      case 4: return rand(2 ** 30) * 7
      case 5: return Array.from({ length: rand(5) }, () => gen(depth + 1))
      default: {
        const o = {}
        for (let n = rand(6); n > 0; n--) Object.defineProperty(o, str(), { value: gen(depth + 1), enumerable: true, writable: true, configurable: true })
        return o
      }
    }
  }
  for (let n = 0; n < 300; n++) {
    roundTrip(JSON.stringify(gen(0)))
  }
})

// The same documents with code generation disabled: the generic builder in
// action, in a child process (the flag is per process).
test('without code generation from strings', () => {
  const tapeJs = path.join(__dirname, '..', 'tape.js')
  const script = `
    'use strict'
    const assert = require('node:assert/strict')
    const { decodeTape, OP } = require(${JSON.stringify(tapeJs)})
    assert.throws(() => new Function('return 1'), EvalError)
    ${encodeRef.toString()}
    ${assertSame.toString()}
    const registry = new Map()
    const shapeKeys = (id) => [...registry].find(([, i]) => i === id)[0]
    let n = 0
    for (const text of JSON.parse(process.argv[1])) {
      const t = encodeRef(text, registry)
      const got = decodeTape(t.ops, t.nums, t.strs, shapeKeys)
      assert.deepStrictEqual(got, JSON.parse(text))
      assertSame(got, JSON.parse(text))
      n++
    }
    // Own data properties even over a frozen Object.prototype, as JSON.parse makes.
    Object.freeze(Object.prototype)
    const text = '{"toString":1,"constructor":{"valueOf":2},"__proto__":3,"hasOwnProperty":4,"plain":5}'
    const t = encodeRef(text, registry)
    const o = decodeTape(t.ops, t.nums, t.strs, shapeKeys)
    if (JSON.stringify(o) !== JSON.stringify(JSON.parse(text)) || !Object.hasOwn(o, '__proto__') || Object.getPrototypeOf(o) !== Object.prototype) {
      throw new Error('frozen prototype: ' + JSON.stringify(o))
    }
    process.stdout.write('decoded ' + n)
  `
  const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '-e', script, JSON.stringify(DOCS)], { encoding: 'utf8' })
  assert.equal(out, `decoded ${DOCS.length}`)
})
