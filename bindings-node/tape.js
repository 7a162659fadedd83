'use strict'
// Decoder of the "tape" that src/tape.rs builds off the main thread: a JSON
// document as flat ops, numbers and string data. Walking it with one compiled
// constructor per object shape is several times faster than JSON.parse of the
// text, and the result is indistinguishable from JSON.parse's.
//
// Tape: STR a b (strs.slice(a, b)), INT v, NUM (next of nums), TRUE, FALSE,
// NULL, ARR n (then n values), OBJ shape (then the values in key order).

// Op codes: keep identical to the constants in src/tape.rs (test/tape.test.js checks).
const OP = Object.freeze({ STR: 0, INT: 1, NUM: 2, TRUE: 3, FALSE: 4, NULL: 5, ARR: 6, OBJ: 7 })
const { STR, INT, NUM, TRUE, FALSE, NULL, ARR, OBJ } = OP

// Shape id -> (v) => object. Ids come from the native process-global registry
// and are never reused, so entries stay valid for the life of the process.
const shapes = []
// Cleared once `new Function` throws EvalError (--disallow-code-generation-from-strings, CSP-like policies).
let codegen = true

// Keys reach the source only through JSON.stringify, a valid string literal for
// any key, so server-controlled keys cannot inject code. A quoted "__proto__"
// in a literal would set the prototype; the computed form defines an own
// property, as JSON.parse does. Object-literal properties are evaluated in
// source order, so `v()` reads the values in tape order.
function compiledShape(keys) {
  const props = keys.map((k) => (k === '__proto__' ? '["__proto__"]' : JSON.stringify(k)) + ': v()')
  return new Function('v', '"use strict"; return {' + props.join(', ') + '}')
}

// Without code generation. Plain assignment is fast, but would run a setter or
// hit a read-only property inherited from Object.prototype (`__proto__`, or any
// key once Object.prototype is frozen): keys present there are defined instead,
// as JSON.parse defines every property.
function genericShape(keys) {
  const n = keys.length
  const define = keys.map((k) => k in Object.prototype)
  return (v) => {
    const o = {}
    for (let i = 0; i < n; i++) {
      if (define[i]) {
        Object.defineProperty(o, keys[i], { value: v(), writable: true, enumerable: true, configurable: true })
      } else {
        o[keys[i]] = v()
      }
    }
    return o
  }
}

function loadShape(id, shapeKeys) {
  const text = shapeKeys(id)
  if (typeof text !== 'string') throw new Error(`tape: unknown shape ${id}`)
  const keys = JSON.parse(text)
  let make
  if (codegen) {
    try {
      make = compiledShape(keys)
    } catch (e) {
      if (!(e instanceof EvalError)) throw e
      codegen = false
    }
  }
  if (!make) make = genericShape(keys)
  shapes[id] = make
  return make
}

/**
 * Rebuilds the value of a tape.
 * @param {Int32Array} ops
 * @param {Float64Array} nums
 * @param {string} strs
 * @param {(id: number) => string} shapeKeys JSON text of the keys of shape `id` (native `shape_keys`)
 * @returns {any} what JSON.parse of the original text returns
 */
function decodeTape(ops, nums, strs, shapeKeys) {
  let p = 0
  let q = 0
  // One closure over p/q: the shape constructors call it back for each value.
  const v = () => {
    switch (ops[p++]) {
      case STR: {
        const a = ops[p]
        const b = ops[p + 1]
        p += 2
        return strs.slice(a, b)
      }
      case INT:
        return ops[p++]
      case NUM:
        return nums[q++]
      case TRUE:
        return true
      case FALSE:
        return false
      case NULL:
        return null
      case ARR: {
        const n = ops[p++]
        const arr = new Array(n)
        for (let i = 0; i < n; i++) arr[i] = v()
        return arr
      }
      case OBJ: {
        const id = ops[p++]
        return (shapes[id] || loadShape(id, shapeKeys))(v)
      }
      default:
        throw new Error(`tape: bad op ${ops[p - 1]} at ${p - 1}`)
    }
  }
  const value = v()
  // Catches truncated tapes too: reads past the end give undefined rather than throwing.
  if (p !== ops.length || q !== nums.length) throw new Error(`tape: read ${p} of ${ops.length} ops and ${q} of ${nums.length} numbers`)
  return value
}

module.exports = { decodeTape, OP, _genericShape: genericShape, _compiledShape: compiledShape }
