//! JSON <-> Python conversion, done in Rust: response bodies are deserialized
//! straight into Python dicts, lists and scalars (no intermediate
//! `serde_json::Value`), and call arguments are turned into the JSON map the
//! core's generic call path takes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use parsec_teams::validate::{depth_error, MAX_DEPTH};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A Python object built from JSON while attached to the interpreter.
pub struct PyJson(pub Py<PyAny>);

/// Object keys seen before, as Python strings (with their hash cached), like
/// the key memo of CPython's `json` module but kept across responses: result
/// objects repeat the same few dozen keys. Bounded, in case some answer
/// carries data-dependent keys.
#[derive(Default)]
struct KeyCache {
    map: HashMap<Box<str>, Py<PyString>, BuildHasherDefault<FxHasher>>,
    /// The key last seen at each position of an object: the items of a list
    /// repeat their keys in the same order, so this usually hits without hashing.
    by_position: Vec<Option<(Box<str>, Py<PyString>)>>,
}
const MAX_POSITIONS: usize = 64;

/// The Fx hash (rustc's): keys are short and trusted enough (the cache is
/// bounded), so a fast non-cryptographic hash beats SipHash here.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
static KEYS: Mutex<Option<KeyCache>> = Mutex::new(None);
const MAX_KEYS: usize = 4096;

impl<'de> serde::Deserialize<'de> for PyJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Python::attach(|py| {
            // try_lock: a finalizer running inside a decode may decode again.
            let mut guard = KEYS.try_lock().ok();
            let cache = guard.as_mut().map(|g| RefCell::new(g.get_or_insert_with(KeyCache::default)));
            let seed = Seed { py, keys: cache.as_ref() };
            seed.deserialize(d).map(|b| PyJson(b.unbind()))
        })
    }
}

#[derive(Clone, Copy)]
struct Seed<'a, 'py> {
    py: Python<'py>,
    keys: Option<&'a RefCell<&'a mut KeyCache>>,
}

impl<'py> Seed<'_, 'py> {
    fn key(&self, k: &str, position: usize) -> Bound<'py, PyString> {
        let Some(cell) = self.keys else {
            return PyString::new(self.py, k);
        };
        let mut cache = cell.borrow_mut();
        if let Some(Some((known, s))) = cache.by_position.get(position) {
            if &**known == k {
                return s.bind(self.py).clone();
            }
        }
        let s = match cache.map.get(k) {
            Some(s) => s.bind(self.py).clone(),
            None => {
                let s = PyString::intern(self.py, k);
                if cache.map.len() < MAX_KEYS {
                    cache.map.insert(k.into(), s.clone().unbind());
                }
                s
            }
        };
        if position < MAX_POSITIONS {
            if cache.by_position.len() <= position {
                cache.by_position.resize_with(position + 1, || None);
            }
            cache.by_position[position] = Some((k.into(), s.clone().unbind()));
        }
        s
    }
}

impl<'de, 'py> DeserializeSeed<'de> for Seed<'_, 'py> {
    type Value = Bound<'py, PyAny>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn de_err<E: serde::de::Error>(e: PyErr) -> E {
    E::custom(e.to_string())
}

impl<'de, 'py> Visitor<'de> for Seed<'_, 'py> {
    type Value = Bound<'py, PyAny>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(pyo3::types::PyInt::new(self.py, v).into_any())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(pyo3::types::PyInt::new(self.py, v).into_any())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.py, v).into_any())
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, v).into_any())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.py);
        while let Some(item) = seq.next_element_seed(self)? {
            list.append(item).map_err(de_err)?;
        }
        Ok(list.into_any())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        let mut position = 0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(self)?;
            dict.set_item(self.key(&key, position), value).map_err(de_err)?;
            position += 1;
        }
        Ok(dict.into_any())
    }
}

/// A `serde_json::Value` as a Python object.
pub fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                pyo3::types::PyInt::new(py, i).into_any()
            } else if let Some(u) = n.as_u64() {
                pyo3::types::PyInt::new(py, u).into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for item in a {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(m) => {
            let dict = PyDict::new(py);
            for (k, item) in m {
                dict.set_item(k, value_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python argument as JSON: None, bool, int, float, str, lists, tuples,
/// sets, dicts, and anything with `isoformat()` (dates and datetimes).
/// Conversion stops at [`MAX_DEPTH`] nested lists and dicts: deeper input
/// (a cycle among it, `a = []; a.append(a)`) is a `ValidationError` naming
/// `field` with rule `depth`, not a stack overflow.
pub fn py_to_value(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<Value> {
    to_value(obj, field, MAX_DEPTH)
}

/// `budget`: how many more levels of lists and dicts may open.
fn to_value(obj: &Bound<'_, PyAny>, field: &str, budget: usize) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if obj.is_instance_of::<pyo3::types::PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        // Too large for JSON integers: pass it as a float so the core names the field.
        return Ok(Value::from(obj.extract::<f64>()?));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Number::from_f64(f.value()).map(Value::Number).unwrap_or(Value::Null));
    }
    let is_dict = obj.is_instance_of::<PyDict>();
    let is_seq = !is_dict
        && (obj.is_instance_of::<PyList>()
            || obj.is_instance_of::<pyo3::types::PyTuple>()
            || obj.is_instance_of::<pyo3::types::PySet>()
            || obj.is_instance_of::<pyo3::types::PyFrozenSet>());
    if (is_dict || is_seq) && budget == 0 {
        return Err(crate::errors::to_py(obj.py(), &depth_error(field)));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut m = Map::new();
        for (k, v) in d.iter() {
            let k: String = k
                .extract()
                .map_err(|_| crate::errors::to_py(d.py(), &parsec_teams::Error::validation(field, "dictionary keys must be strings")))?;
            m.insert(k, to_value(&v, field, budget - 1)?);
        }
        return Ok(Value::Object(m));
    }
    if is_seq {
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            out.push(to_value(&item?, field, budget - 1)?);
        }
        return Ok(Value::Array(out));
    }
    if obj.hasattr(pyo3::intern!(obj.py(), "isoformat"))? {
        let s = obj.call_method0(pyo3::intern!(obj.py(), "isoformat"))?;
        return Ok(Value::String(s.extract()?));
    }
    Err(crate::errors::to_py(
        obj.py(),
        &parsec_teams::Error::validation(
            field,
            format!(
                "cannot send a value of type {} (expected None, bool, int, float, str, list, dict or datetime)",
                obj.get_type().name()?
            ),
        ),
    ))
}

/// Keyword arguments as the JSON argument map; `None` values are left out.
pub fn args_to_map(args: Option<&Bound<'_, PyDict>>) -> PyResult<Map<String, Value>> {
    let mut m = Map::new();
    if let Some(args) = args {
        for (k, v) in args.iter() {
            if v.is_none() {
                continue;
            }
            let k = k.cast::<PyString>()?;
            let name = k.to_cow()?;
            let value = py_to_value(&v, &name)?;
            m.insert(name.into_owned(), value);
        }
    }
    Ok(m)
}
