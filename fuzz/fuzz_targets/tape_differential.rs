//! The Node addon's result encoder (bindings-node/src/tape.rs) against
//! serde_json on the same bytes.
//!
//! Invariants: never panics; when the encoder accepts, serde_json accepts too
//! and the tape, decoded as bindings-node/tape.js decodes it (mirrored below),
//! is the same value (numbers compared as the f64 JavaScript sees; keys as
//! sets, since JavaScript orders integer-like keys itself); when serde_json
//! refuses, the encoder refuses (it may refuse more: duplicate keys, deep
//! nesting, a full shape registry).
#![no_main]

#[allow(dead_code)]
#[path = "../../bindings-node/src/tape.rs"]
mod tape;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// What JavaScript gets from a tape, in serde_json terms (every number an f64).
#[derive(Debug)]
enum Js {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Js>),
    Obj(Vec<(String, Js)>),
}

/// A decoder of the tape format, mirroring `decodeTape` of bindings-node/tape.js.
struct Decoder<'a> {
    tape: &'a tape::Tape,
    /// `strs` as UTF-16 code units: STR slices count them, as `String.prototype.slice` does.
    utf16: Vec<u16>,
    p: usize,
    q: usize,
}

impl Decoder<'_> {
    fn op(&mut self) -> i32 {
        let op = *self.tape.ops.get(self.p).unwrap_or_else(|| panic!("tape: read past the end at {}", self.p));
        self.p += 1;
        op
    }

    fn value(&mut self) -> Js {
        match self.op() {
            tape::STR => {
                let (a, b) = (self.op(), self.op());
                assert!(0 <= a && a <= b && (b as usize) <= self.utf16.len(), "tape: STR {a} {b} out of {}", self.utf16.len());
                Js::Str(String::from_utf16(&self.utf16[a as usize..b as usize]).expect("tape: STR cuts a surrogate pair"))
            }
            tape::INT => {
                let v = self.op();
                Js::Num(v as f64)
            }
            tape::NUM => {
                let v = *self.tape.nums.get(self.q).expect("tape: NUM past the numbers");
                self.q += 1;
                Js::Num(v)
            }
            tape::TRUE => Js::Bool(true),
            tape::FALSE => Js::Bool(false),
            tape::NULL => Js::Null,
            tape::ARR => {
                let n = self.op();
                assert!(n >= 0, "tape: ARR {n}");
                Js::Arr((0..n).map(|_| self.value()).collect())
            }
            tape::OBJ => {
                let id = self.op();
                let keys = tape::shape_keys(id as u32).unwrap_or_else(|| panic!("tape: unknown shape {id}"));
                let keys: Vec<String> = serde_json::from_str(&keys).expect("shape keys are a JSON array of strings");
                Js::Obj(keys.into_iter().map(|k| (k, self.value())).collect())
            }
            other => panic!("tape: bad op {other} at {}", self.p - 1),
        }
    }
}

fn decode(t: &tape::Tape) -> Js {
    let mut d = Decoder { tape: t, utf16: t.strs.encode_utf16().collect(), p: 0, q: 0 };
    let v = d.value();
    assert_eq!((d.p, d.q), (t.ops.len(), t.nums.len()), "tape: ops or numbers left over");
    v
}

fn same(js: &Js, v: &Value) -> bool {
    match (js, v) {
        (Js::Null, Value::Null) => true,
        (Js::Bool(a), Value::Bool(b)) => a == b,
        // -0 and 0 are one number for this comparison; NaN never occurs in JSON.
        (Js::Num(a), Value::Number(b)) => Some(*a) == b.as_f64(),
        (Js::Str(a), Value::String(b)) => a == b,
        (Js::Arr(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Js::Obj(a), Value::Object(b)) => a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| same(x, y))),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let reference = serde_json::from_slice::<Value>(data);
    match tape::encode(data) {
        Some(t) => {
            let v = reference
                .unwrap_or_else(|e| panic!("the encoder accepted what serde_json refuses ({e}): {:?}", String::from_utf8_lossy(data)));
            let js = decode(&t);
            assert!(same(&js, &v), "tape decodes to {js:?}, serde_json to {v}");
        }
        None => {
            // Refusing more than serde_json is allowed (duplicate keys, a full
            // shape registry, deep nesting), but never a document without
            // objects, within the depth limit, written in serde_json's own
            // canonical form (so no duplicates or odd spacing to excuse it).
            if let Ok(v) = &reference {
                let canonical = serde_json::to_vec(v).is_ok_and(|t| t == data);
                assert!(!(canonical && without_objects(v, 0)), "the encoder refused {v}");
            }
        }
    }
});

/// No objects anywhere (so no shapes) and nested less than 100 deep.
fn without_objects(v: &Value, depth: usize) -> bool {
    match v {
        Value::Object(_) => false,
        Value::Array(a) => depth < 100 && a.iter().all(|x| without_objects(x, depth + 1)),
        _ => true,
    }
}
