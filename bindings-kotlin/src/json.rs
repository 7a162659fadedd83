//! JSON across the boundary.
//!
//! Into Rust, values come as JSON text (the Kotlin layer writes it) and are
//! parsed by the core's `validate::parse_json_text`, which bounds the nesting before
//! parsing and names the field.
//!
//! Out of Rust, a decoded value goes as one byte array in a compact encoding
//! that the Kotlin layer (`Support.kt`, `Json.decode`) reads in one pass with
//! no text to scan: little-endian, one tag byte per value, then
//!
//! | tag | value |
//! | --- | --- |
//! | 0 / 1 / 2 | `null` / `false` / `true` |
//! | 3 | an integer: `i64` |
//! | 4 | any other number: `f64` |
//! | 5 | a string: `u32` byte length, UTF-8 |
//! | 6 | an array: `u32` item count, the items |
//! | 7 | an object: `u32` entry count, then per entry its key and value |
//!
//! A key is a `u32` `k`: odd, a new key of `k >> 1` UTF-8 bytes that follow
//! (it takes the next number of the value's key table); even, the key number
//! `k >> 1` already sent. A page of 200 members names its ten keys once, not
//! 2,000 times, so the JVM allocates and decodes them once.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

pub const NULL: u8 = 0;
pub const FALSE: u8 = 1;
pub const TRUE: u8 = 2;
pub const INT: u8 = 3;
pub const FLOAT: u8 = 4;
pub const STR: u8 = 5;
pub const ARRAY: u8 = 6;
pub const OBJECT: u8 = 7;

/// Keys kept for back-references: past this many distinct keys, new ones are
/// sent in full each time (a response with thousands of distinct keys is a
/// map keyed by ids, where references would not pay).
const KEY_TABLE: usize = 256;

/// The encoding of `v` (module docs).
pub fn to_bytes(v: &Value) -> Vec<u8> {
    let mut w = Writer::new();
    w.value(v);
    w.finish()
}

/// A result decoded straight from the response's JSON into the encoding
/// (`Caller`'s `decode::<Encoded>`): no `serde_json::Value` tree is built on
/// the way, which on a page of 200 members was most of the Rust side's work.
pub struct Encoded(pub Vec<u8>);

impl<'de> Deserialize<'de> for Encoded {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut w = Writer::new();
        Seed(&mut w).deserialize(d)?;
        Ok(Encoded(w.finish()))
    }
}

/// Writes the next value of a deserializer into the writer.
struct Seed<'w>(&'w mut Writer);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.out.push(NULL);
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.0.out.push(NULL);
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.0.out.push(if b { TRUE } else { FALSE });
        Ok(())
    }
    fn visit_i64<E>(self, i: i64) -> Result<(), E> {
        self.0.int(i);
        Ok(())
    }
    fn visit_u64<E>(self, u: u64) -> Result<(), E> {
        match i64::try_from(u) {
            Ok(i) => self.0.int(i),
            Err(_) => self.0.float(u as f64),
        }
        Ok(())
    }
    fn visit_f64<E>(self, f: f64) -> Result<(), E> {
        self.0.float(f);
        Ok(())
    }
    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        self.0.string(s);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let at = self.0.open(ARRAY);
        let mut n = 0;
        while seq.next_element_seed(Seed(&mut *self.0))?.is_some() {
            n += 1;
        }
        self.0.close(at, n);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let at = self.0.open(OBJECT);
        let mut n = 0;
        while map.next_key_seed(Key(&mut *self.0))?.is_some() {
            map.next_value_seed(Seed(&mut *self.0))?;
            n += 1;
        }
        self.0.close(at, n);
        Ok(())
    }
}

/// Writes an object's next key into the writer (its key table).
struct Key<'w>(&'w mut Writer);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, k: &str) -> Result<(), E> {
        self.0.key(k);
        Ok(())
    }
}

/// Writes values in the encoding, sharing one key table.
pub(crate) struct Writer {
    out: Vec<u8>,
    keys: Vec<Box<str>>,
}

impl Writer {
    pub(crate) fn new() -> Writer {
        Writer { out: Vec::with_capacity(256), keys: Vec::new() }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }

    /// One byte, outside any value (a header).
    pub(crate) fn raw(&mut self, b: u8) {
        self.out.push(b);
    }

    /// An array of `n` items, which the next `n` values are.
    pub(crate) fn array(&mut self, n: usize) {
        self.out.push(ARRAY);
        self.len(n);
    }

    /// A value encoded alone (by [`to_bytes`]), which used no key of this writer's table.
    pub(crate) fn bytes(&mut self, encoded: &[u8]) {
        self.out.extend_from_slice(encoded);
    }

    fn int(&mut self, i: i64) {
        self.out.push(INT);
        self.out.extend_from_slice(&i.to_le_bytes());
    }

    fn float(&mut self, f: f64) {
        self.out.push(FLOAT);
        self.out.extend_from_slice(&f.to_le_bytes());
    }

    fn string(&mut self, s: &str) {
        self.out.push(STR);
        self.len(s.len());
        self.out.extend_from_slice(s.as_bytes());
    }

    /// A container whose count is not known yet: its place, for [`Writer::close`].
    fn open(&mut self, tag: u8) -> usize {
        self.out.push(tag);
        let at = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        at
    }

    fn close(&mut self, at: usize, n: usize) {
        let n = u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
        self.out[at..at + 4].copy_from_slice(&n);
    }

    fn len(&mut self, n: usize) {
        // Lengths come from values in memory: a JSON response over 4 GiB is
        // refused by the core long before it gets here.
        self.out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }

    pub(crate) fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.out.push(NULL),
            Value::Bool(false) => self.out.push(FALSE),
            Value::Bool(true) => self.out.push(TRUE),
            Value::Number(n) => match n.as_i64() {
                Some(i) => self.int(i),
                None => self.float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => self.string(s),
            Value::Array(a) => {
                self.out.push(ARRAY);
                self.len(a.len());
                for x in a {
                    self.value(x);
                }
            }
            Value::Object(m) => {
                self.out.push(OBJECT);
                self.len(m.len());
                for (k, x) in m {
                    self.key(k);
                    self.value(x);
                }
            }
        }
    }

    fn key(&mut self, k: &str) {
        if let Some(i) = self.keys.iter().position(|known| &**known == k) {
            self.len(i << 1);
            return;
        }
        if self.keys.len() < KEY_TABLE {
            self.keys.push(k.into());
        } else {
            // Past the table, a new key is sent in full and not numbered:
            // tell the reader not to number it either (length with bit 31).
            self.len(((k.len() << 1) | 1) | (1 << 31));
            self.out.extend_from_slice(k.as_bytes());
            return;
        }
        self.len((k.len() << 1) | 1);
        self.out.extend_from_slice(k.as_bytes());
    }
}

/// A reader of the encoding, as `Json.decode` in Support.kt reads it (a
/// repeated key keeps its first place and its last value, as a
/// `LinkedHashMap` does); for the tests and the fuzz target `kotlin_encoding`.
#[cfg(any(test, fuzzing))]
pub fn read(b: &[u8]) -> Value {
    use serde_json::json;
    fn u32_at(b: &[u8], i: &mut usize) -> usize {
        let v = u32::from_le_bytes(b[*i..*i + 4].try_into().unwrap()) as usize;
        *i += 4;
        v
    }
    fn str_at(b: &[u8], i: &mut usize, n: usize) -> String {
        let s = std::str::from_utf8(&b[*i..*i + n]).unwrap().to_owned();
        *i += n;
        s
    }
    fn value(b: &[u8], i: &mut usize, keys: &mut Vec<String>) -> Value {
        let tag = b[*i];
        *i += 1;
        match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => {
                let v = i64::from_le_bytes(b[*i..*i + 8].try_into().unwrap());
                *i += 8;
                json!(v)
            }
            FLOAT => {
                let v = f64::from_le_bytes(b[*i..*i + 8].try_into().unwrap());
                *i += 8;
                json!(v)
            }
            STR => {
                let n = u32_at(b, i);
                Value::String(str_at(b, i, n))
            }
            ARRAY => {
                let n = u32_at(b, i);
                Value::Array((0..n).map(|_| value(b, i, keys)).collect())
            }
            OBJECT => {
                let n = u32_at(b, i);
                let mut m = serde_json::Map::new();
                for _ in 0..n {
                    let k = u32_at(b, i);
                    let key = if k & 1 == 0 {
                        keys[k >> 1].clone()
                    } else {
                        let s = str_at(b, i, (k & 0x7fff_ffff) >> 1);
                        if k & (1 << 31) == 0 {
                            keys.push(s.clone());
                        }
                        s
                    };
                    m.insert(key, value(b, i, keys));
                }
                Value::Object(m)
            }
            t => panic!("tag {t}"),
        }
    }
    let (mut i, mut keys) = (0, Vec::new());
    let v = value(b, &mut i, &mut keys);
    assert_eq!(i, b.len(), "trailing bytes");
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encoding_round_trips_every_kind_of_value() {
        let v = json!({
            "a": null, "b": true, "c": false, "d": -7, "e": 1.5, "f": "é✓",
            "g": [1, "x", {"a": 2}], "h": {}, "i": [],
            "items": [{"id": 1, "email": "a@x"}, {"id": 2, "email": "b@x", "new": {"id": 3}}]
        });
        assert_eq!(read(&to_bytes(&v)), v);
        assert_eq!(read(&to_bytes(&json!("s"))), json!("s"));
        // Past i64, an integer goes as a double (the JVM side reads Long or Double).
        assert_eq!(read(&to_bytes(&json!(u64::MAX))), json!(u64::MAX as f64));
    }

    #[test]
    fn decoding_json_straight_into_the_encoding_matches_the_value_path() {
        let text = r#"{"a": null, "b": [true, false, -7, 18446744073709551615, 1.5e300, "é\n✓"], "items": [{"id": 1, "x\"y": {}}, {"id": 2, "x\"y": []}]}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        let Encoded(direct) = serde_json::from_str(text).unwrap();
        assert_eq!(direct, to_bytes(&v), "the same bytes as encoding the parsed value");
        assert_eq!(read(&direct)["items"], v["items"]);
        let Encoded(s) = serde_json::from_str("\"s\"").unwrap();
        assert_eq!(read(&s), json!("s"));
    }

    #[test]
    fn repeated_keys_are_sent_once() {
        let items: Vec<Value> = (0..200).map(|i| json!({"id": i, "email": "someone@example.com"})).collect();
        let b = to_bytes(&Value::Array(items.clone()));
        assert_eq!(b.windows(5).filter(|w| w == b"email").count(), 1);
        assert_eq!(read(&b), Value::Array(items));
    }

    #[test]
    fn keys_past_the_table_are_sent_in_full() {
        let m: serde_json::Map<String, Value> = (0..KEY_TABLE + 50).map(|i| (format!("k{i}"), json!(i))).collect();
        let v = json!([Value::Object(m.clone()), Value::Object(m)]);
        assert_eq!(read(&to_bytes(&v)), v);
    }

    #[test]
    fn text_in_is_parsed_by_the_core_with_the_field_named() {
        use parsec_teams::validate::parse_json_text;
        assert_eq!(parse_json_text(r#"{"a":[1,2]}"#, "params").unwrap(), json!({"a": [1, 2]}));
        let e = parse_json_text("{", "params").unwrap_err();
        assert_eq!((e.field(), e.rule()), (Some("params"), Some("json")));
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert_eq!(parse_json_text(&deep, "body").unwrap_err().rule(), Some("depth"));
    }
}
