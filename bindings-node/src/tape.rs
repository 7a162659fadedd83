//! A "tape": a JSON document pre-parsed off the JavaScript thread into flat
//! arrays that `bindings-node/tape.js` turns into values faster than V8's
//! `JSON.parse` of the text (no tokenizing on the main thread, and every
//! object is built by one compiled constructor per key list, a "shape").
//!
//! Layout (op codes below; `tape.js` defines the same numbers):
//! - `STR a b`: a string value, `strs[a..b]` counted in UTF-16 code units (JS `strs.slice(a, b)`);
//! - `INT v`: a number that is exactly the i32 `v` (never -0);
//! - `NUM`: the next f64 of `nums`, for every other number;
//! - `TRUE`, `FALSE`, `NULL`;
//! - `ARR n`: then the `n` elements;
//! - `OBJ shape`: then the values in the order of the shape's keys ([`shape_keys`]).
//!
//! Shape ids come from a process-global, append-only registry, so the JS side
//! can cache one constructor per id for the life of the process.
//!
//! [`encode`] gives `None` whenever the tape could differ from `JSON.parse` or a
//! limit is hit; the caller then sends the JSON text instead.
//!
//! The parser is hand-written (a general-purpose deserializer cost several times
//! more on this path): strict RFC 8259 as `JSON.parse` reads it, numbers
//! correctly rounded by `str::parse::<f64>` as `JSON.parse` rounds them.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, OnceLock, PoisonError};

// Op codes: keep identical to `OP` in bindings-node/tape.js (test/tape.test.js checks).
pub const STR: i32 = 0;
pub const INT: i32 = 1;
pub const NUM: i32 = 2;
pub const TRUE: i32 = 3;
pub const FALSE: i32 = 4;
pub const NULL: i32 = 5;
pub const ARR: i32 = 6;
pub const OBJ: i32 = 7;

/// Nesting of arrays and objects must stay below this: at most 127 levels, the
/// limit of the serde_json parser this one replaced (test/tape.test.js mirrors it);
/// bounds the recursion of both encoder and JS decoder.
pub const MAX_DEPTH: usize = 128;
/// Shapes the registry holds before `encode` gives up on documents with new ones.
/// Data-keyed objects (maps keyed by ids) make a new shape per distinct key set.
pub const MAX_SHAPES: usize = 4096;
/// Keys in one object: bigger objects are usually data-keyed maps, not records,
/// and a constructor compiled for each would cost more than it saves.
pub const MAX_SHAPE_KEYS: usize = 256;
/// Bytes of key text the registry may retain for the life of the process.
pub const MAX_SHAPE_BYTES: usize = 4 << 20;

/// A document as ops, numbers and string data; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tape {
    pub ops: Vec<i32>,
    pub nums: Vec<f64>,
    pub strs: String,
}

/// Encodes a JSON document. `None` = send the JSON text instead: invalid UTF-8,
/// any syntax error or trailing data, a number `JSON.parse` would turn into
/// Infinity, a string with a lone surrogate escape (a Rust string cannot hold
/// it), duplicate keys in one object, nesting of [`MAX_DEPTH`] levels or more,
/// or a full shape registry.
pub fn encode(json: &[u8]) -> Option<Tape> {
    // One up-front UTF-8 check of the whole text (SIMD in std); the parser then
    // works on bytes.
    let text = std::str::from_utf8(json).ok()?;
    let mut p = Parser::new(text);
    let ok = p.document().is_some();
    let Parser { ops, nums, strs, local, .. } = p;
    // Hand the cache back even on failure: its entries are valid shapes regardless.
    LOCAL_SHAPES.with(|c| *c.borrow_mut() = local);
    if !ok {
        return None;
    }
    // Valid by construction (runs of the valid text cut next to ASCII bytes, and
    // whole chars); checked rather than trusted, at a small cost next to the parse.
    let strs = String::from_utf8(strs).ok()?;
    Some(Tape { ops, nums, strs })
}

/// The keys of shape `id` as JSON text of an array of strings (e.g. `["user_id","email"]`).
pub fn shape_keys(id: u32) -> Option<String> {
    registry().lock().unwrap_or_else(PoisonError::into_inner).keys_json.get(id as usize).cloned()
}

/// Signature of an ordered key list: each key as its byte length (u32 LE) then
/// its UTF-8, so no two lists share one whatever the keys contain.
type Signature = Box<[u8]>;

thread_local! {
    // Per-thread front of the registry: the common case (a known shape) takes no lock.
    static LOCAL_SHAPES: RefCell<HashMap<Signature, u32, FxBuild>> = RefCell::default();
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Registry::new(MAX_SHAPES, MAX_SHAPE_BYTES)))
}

/// The ordered key lists seen so far; ids are indices, never reused.
struct Registry {
    ids: HashMap<Signature, u32>,
    keys_json: Vec<String>,
    bytes: usize,
    max_shapes: usize,
    max_bytes: usize,
}

impl Registry {
    fn new(max_shapes: usize, max_bytes: usize) -> Self {
        Registry { ids: HashMap::new(), keys_json: Vec::new(), bytes: 0, max_shapes, max_bytes }
    }

    /// The id of `sig`, registering it if new; `None` for repeated keys or when full.
    fn intern(&mut self, sig: &[u8]) -> Option<u32> {
        if let Some(&id) = self.ids.get(sig) {
            return Some(id);
        }
        if self.keys_json.len() >= self.max_shapes {
            return None;
        }
        let keys = split_signature(sig)?;
        if keys.len() > MAX_SHAPE_KEYS {
            return None;
        }
        // Checked here only: a registered shape is known to be free of repeats.
        let mut seen = HashSet::with_capacity(keys.len());
        if !keys.iter().all(|k| seen.insert(*k)) {
            return None;
        }
        let json = serde_json::to_string(&keys).ok()?;
        let cost = 2 * sig.len() + json.len();
        if self.bytes + cost > self.max_bytes {
            return None;
        }
        let id = u32::try_from(self.keys_json.len()).ok()?;
        self.keys_json.push(json);
        self.ids.insert(sig.into(), id);
        self.bytes += cost;
        Some(id)
    }
}

fn split_signature(mut sig: &[u8]) -> Option<Vec<&str>> {
    let mut keys = Vec::new();
    while !sig.is_empty() {
        let (len, rest) = sig.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*len) as usize;
        keys.push(std::str::from_utf8(rest.get(..len)?).ok()?);
        sig = &rest[len..];
    }
    Some(keys)
}

/// UTF-16 length of the UTF-8 `s`: one unit per char plus one more per astral
/// char, i.e. one per non-continuation byte plus one per 4-byte lead byte.
fn utf16_len(s: &[u8]) -> usize {
    s.iter().map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0)).sum()
}

/// The shape an object at one nesting depth had last: the next object there is
/// most likely another record with the same keys, recognized by comparing them
/// as they are read, with no signature to build and hash.
#[derive(Default)]
struct Prediction {
    id: Option<u32>,
    sig: Vec<u8>,
    /// End of each key in `sig`.
    sig_ends: Vec<usize>,
    /// Each key as compact JSON writes it, `"key":`, after the first with the
    /// comma before it, if no key needs an escape (else empty): one comparison
    /// with the input then reads comma, key and colon.
    tokens: Vec<u8>,
    token_ends: Vec<usize>,
}

impl Prediction {
    fn set(&mut self, id: u32, sig: &[u8]) {
        self.sig.clear();
        self.sig.extend_from_slice(sig);
        self.sig_ends.clear();
        self.tokens.clear();
        self.token_ends.clear();
        // Registered signatures split (the registry checked); else predict nothing.
        let Some(keys) = split_signature(sig) else {
            self.id = None;
            return;
        };
        self.id = Some(id);
        let plain = keys.iter().all(|k| !k.bytes().any(|c| c == b'"' || c == b'\\' || c < 0x20));
        let mut end = 0;
        for k in keys {
            end += 4 + k.len();
            self.sig_ends.push(end);
            if plain {
                if end > 4 + k.len() {
                    self.tokens.push(b',');
                }
                self.tokens.push(b'"');
                self.tokens.extend_from_slice(k.as_bytes());
                self.tokens.extend_from_slice(b"\":");
                self.token_ends.push(self.tokens.len());
            }
        }
    }

    /// The signature of the first `j` keys.
    fn prefix(&self, j: usize) -> &[u8] {
        &self.sig[..j.checked_sub(1).map_or(0, |j| self.sig_ends[j])]
    }

    /// Key `j` as in the signature (length, then text), if there is one.
    fn sig_key(&self, j: usize) -> Option<&[u8]> {
        let end = *self.sig_ends.get(j)?;
        self.sig.get(self.prefix(j).len()..end)
    }

    /// The token of key `j`, if there is one and the keys have tokens.
    fn token(&self, j: usize) -> Option<&[u8]> {
        let end = *self.token_ends.get(j)?;
        let start = j.checked_sub(1).map_or(0, |j| self.token_ends[j]);
        self.tokens.get(start..end)
    }
}

struct Parser<'a> {
    text: &'a str,
    /// `text` as bytes. Positions in it are passed to and returned by the methods,
    /// not kept here: locals, which the compiler can keep in registers.
    b: &'a [u8],
    ops: Vec<i32>,
    nums: Vec<f64>,
    /// UTF-8 by construction, made a `String` at the end.
    strs: Vec<u8>,
    /// UTF-16 length of `strs`.
    units: usize,
    /// Signatures of the objects being read that missed their prediction, innermost last.
    keys: Vec<u8>,
    /// The key just read, when not the compact one predicted.
    key_buf: Vec<u8>,
    /// Indexed by nesting depth.
    predictions: Vec<Prediction>,
    /// Taken out of the thread-local for the whole document: no `RefCell` per object.
    local: HashMap<Signature, u32, FxBuild>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        let len = text.len();
        Parser {
            text,
            b: text.as_bytes(),
            // Rough sizes for record-like pages (about one op per 8 bytes, strings
            // half the text): they spare the regrowths, which would copy the lot.
            ops: Vec::with_capacity(len / 8 + 16),
            nums: Vec::new(),
            strs: Vec::with_capacity(len / 2),
            units: 0,
            keys: Vec::new(),
            key_buf: Vec::new(),
            predictions: Vec::new(),
            local: LOCAL_SHAPES.with(|c| c.take()),
        }
    }

    fn document(&mut self) -> Option<()> {
        let i = self.value(0, 0)?;
        (skip_ws(self.b, i) == self.b.len()).then_some(())
    }

    /// The value at `i` or after whitespace, inside `depth` arrays and objects;
    /// returns the position after it.
    // Inlined into the loops of arrays and objects: scalars then take no call.
    #[inline(always)]
    fn value(&mut self, mut i: usize, depth: usize) -> Option<usize> {
        let b = self.b;
        // Whitespace is one more case of the dispatch, not a test before it.
        loop {
            return match *b.get(i)? {
                b' ' | b'\t' | b'\n' | b'\r' => {
                    i += 1;
                    continue;
                }
                b'"' => {
                    let a = self.units;
                    let (units, end) = read_string(b, i + 1, &mut self.strs)?;
                    self.units += units;
                    let ops = [STR, i32::try_from(a).ok()?, i32::try_from(self.units).ok()?];
                    self.ops.extend_from_slice(&ops);
                    Some(end)
                }
                b'-' | b'0'..=b'9' => self.number(i),
                b'{' => self.object(i, depth),
                b'[' => self.array(i, depth),
                b't' => self.literal(i, b"true", TRUE),
                b'f' => self.literal(i, b"false", FALSE),
                b'n' => self.literal(i, b"null", NULL),
                _ => None,
            };
        }
    }

    fn literal(&mut self, i: usize, word: &[u8], op: i32) -> Option<usize> {
        if !self.b[i..].starts_with(word) {
            return None;
        }
        self.ops.push(op);
        Some(i + word.len())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, the only form JSON.parse takes.
    fn number(&mut self, start: usize) -> Option<usize> {
        let b = self.b;
        let mut i = start;
        let negative = b[i] == b'-';
        i += usize::from(negative);
        let mut int: u64 = 0;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while let Some(&c @ b'0'..=b'9') = b.get(i) {
                    // Wraps beyond 19 digits; only used below for at most 10.
                    int = int.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                    i += 1;
                }
            }
            _ => return None,
        }
        let digits = i - start - usize::from(negative);
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            i = digits_after(b, i + 1)?;
            integer = false;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            i = digits_after(b, i)?;
            integer = false;
        }
        // No digit after a leading zero ("01"): the caller would refuse it too, but the grammar is here.
        if let Some(b'0'..=b'9') = b.get(i) {
            return None;
        }
        if integer && digits <= 10 {
            // Exact; -0 must stay a float.
            let v = if negative { -(int as i64) } else { int as i64 };
            if let (Ok(v), false) = (i32::try_from(v), negative && v == 0) {
                self.ops.extend_from_slice(&[INT, v]);
                return Some(i);
            }
        }
        // Correctly rounded, as JSON.parse; the slice is ASCII, so a char boundary.
        let v: f64 = self.text[start..i].parse().ok()?;
        if !v.is_finite() {
            return None;
        }
        // Written as a float but exactly an i32 (1.0, 1e2, 1e-400): a Smi for V8 too.
        let n = v as i32;
        if f64::from(n) == v && !(v == 0.0 && v.is_sign_negative()) {
            self.ops.extend_from_slice(&[INT, n]);
        } else {
            self.ops.push(NUM);
            self.nums.push(v);
        }
        Some(i)
    }

    #[inline(never)]
    fn array(&mut self, mut i: usize, depth: usize) -> Option<usize> {
        if depth + 1 >= MAX_DEPTH {
            return None;
        }
        let b = self.b;
        let at = self.ops.len();
        self.ops.extend_from_slice(&[ARR, 0]);
        i = skip_ws(b, i + 1);
        let mut n = 0usize;
        if b.get(i) == Some(&b']') {
            i += 1;
        } else {
            loop {
                i = self.value(i, depth + 1)?;
                n += 1;
                match separator(b, &mut i)? {
                    b',' => {}
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.ops[at + 1] = i32::try_from(n).ok()?;
        Some(i)
    }

    #[inline(never)]
    fn object(&mut self, mut i: usize, depth: usize) -> Option<usize> {
        if depth + 1 >= MAX_DEPTH {
            return None;
        }
        let b = self.b;
        let at = self.ops.len();
        // The shape id is known only once all keys are read: patched below.
        self.ops.extend_from_slice(&[OBJ, 0]);
        if self.predictions.len() <= depth {
            self.predictions.resize_with(depth + 1, Prediction::default);
        }
        let start = self.keys.len();
        // Keys so far that matched the prediction; `None` after a mismatch, from
        // when the signature is built in `keys`.
        let mut matched = self.predictions[depth].id.map(|_| 0);
        i = skip_ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            i += 1;
        } else {
            let mut first = true;
            loop {
                let token = matched.and_then(|j| self.predictions[depth].token(j));
                let at_token = |i: usize, t: &[u8]| b.get(i..i + t.len()).is_some_and(|s| same_bytes(s, t));
                let predicted_len = match token {
                    Some(t) if at_token(i, t) => Some(t.len()),
                    _ => {
                        if !first {
                            match separator(b, &mut i)? {
                                b',' => {}
                                b'}' => break,
                                _ => return None,
                            }
                        }
                        i = skip_ws(b, i);
                        // After whitespace (pretty-printed JSON): the token less its comma.
                        token.map(|t| &t[usize::from(!first)..]).filter(|t| at_token(i, t)).map(<[u8]>::len)
                    }
                };
                if let Some(n) = predicted_len {
                    i += n;
                    matched = matched.map(|j| j + 1);
                } else {
                    if b.get(i) != Some(&b'"') {
                        return None;
                    }
                    i = skip_ws(b, self.other_key(i + 1, depth, &mut matched)?);
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    i += 1;
                }
                first = false;
                i = self.value(i, depth + 1)?;
                // A comma is read with the next key (in its token, or by `separator`), as is a `}` after whitespace.
                if b.get(i) == Some(&b'}') {
                    i += 1;
                    break;
                }
            }
        }
        let predicted = &self.predictions[depth];
        let id = match (matched, predicted.id) {
            // A registered shape: known to be free of repeated keys.
            (Some(j), Some(id)) if j == predicted.sig_ends.len() => id,
            _ => {
                if let Some(j) = matched {
                    // Fewer keys than predicted.
                    self.keys.extend_from_slice(predicted.prefix(j));
                }
                let id = self.shape(start)?;
                self.predictions[depth].set(id, &self.keys[start..]);
                self.keys.truncate(start);
                id
            }
        };
        self.ops[at + 1] = id as i32;
        Some(i)
    }

    /// Reads the key at `i`, after its quote (not in the compact form predicted),
    /// comparing it with the prediction if any; after a mismatch, it joins the
    /// signature in `keys`. Returns the position after the key.
    fn other_key(&mut self, i: usize, depth: usize, matched: &mut Option<usize>) -> Option<usize> {
        self.key_buf.clear();
        let (_, end) = read_string(self.b, i, &mut self.key_buf)?;
        let key = &self.key_buf[..];
        let len = u32::try_from(key.len()).ok()?.to_le_bytes();
        if let Some(j) = *matched {
            let p = &self.predictions[depth];
            if p.sig_key(j).and_then(|k| k.split_first_chunk::<4>()) == Some((&len, key)) {
                *matched = Some(j + 1);
                return Some(end);
            }
            self.keys.extend_from_slice(p.prefix(j));
            *matched = None;
        }
        self.keys.extend_from_slice(&len);
        self.keys.extend_from_slice(key);
        Some(end)
    }

    /// The id of the signature `keys[start..]`: thread-local cache, else the registry.
    fn shape(&mut self, start: usize) -> Option<u32> {
        let sig = &self.keys[start..];
        if let Some(&id) = self.local.get(sig) {
            return Some(id);
        }
        let id = registry().lock().unwrap_or_else(PoisonError::into_inner).intern(sig)?;
        self.local.insert(sig.into(), id);
        Some(id)
    }
}

/// The position of the first byte at or after `i` that is not JSON whitespace
/// (only space, \t, \n, \r: no other Unicode space, no BOM, as JSON.parse).
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// Reads the byte after a value in an array or object, past whitespace.
fn separator(b: &[u8], i: &mut usize) -> Option<u8> {
    let mut c = *b.get(*i)?;
    if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
        *i = skip_ws(b, *i);
        c = *b.get(*i)?;
    }
    *i += 1;
    Some(c)
}

/// `a == b`, without a libc call for the short keys of records.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        // Two four-byte loads, overlapping for fewer than eight bytes.
        let load = |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().unwrap_or_default());
        return if n < 4 { a == b } else { load(a, 0) == load(b, 0) && load(a, n - 4) == load(b, n - 4) };
    }
    let load = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().unwrap_or_default());
    // Eight bytes at a time, the last load overlapping the one before.
    let mut at = 0;
    while at + 8 < n {
        if load(a, at) != load(b, at) {
            return false;
        }
        at += 8;
    }
    load(a, n - 8) == load(b, n - 8)
}

/// The index of the first byte at or after `i` that is no digit, if there is at least one digit.
fn digits_after(b: &[u8], mut i: usize) -> Option<usize> {
    let start = i;
    while let Some(b'0'..=b'9') = b.get(i) {
        i += 1;
    }
    (i > start).then_some(i)
}

/// Reads the rest of a string from `i`, after its opening quote, unescaped onto
/// `out`; returns the UTF-16 units added and the position after the closing quote.
fn read_string(b: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<(usize, usize)> {
    let mut units = 0;
    loop {
        let (end, ascii) = copy_run(b, i, out)?;
        units += if ascii { end - i } else { utf16_len(&b[i..end]) };
        i = end + 1;
        match b[end] {
            b'"' => return Some((units, i)),
            b'\\' => units += read_escape(b, &mut i, out)?,
            // A raw control character: JSON.parse rejects it too.
            _ => return None,
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Copies the bytes from `i` up to the first `"`, `\` or control character onto
/// `out`; returns where that is and whether the bytes copied are all ASCII, or
/// `None` at the end of the text.
fn copy_run(b: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<(usize, bool)> {
    // Bytes passed, or-ed: the high bits tell whether any was non-ASCII.
    let mut seen = 0u64;
    // Eight bytes at a time: a byte's high bit in `hits` is set where it is `"`
    // or `\` (zero after the xor) or below 0x20. Borrows can set bits only above
    // a true hit, so the lowest set bit is exact.
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().ok()?);
        let hits = (below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1) | below(w, 0x20)) & HIGH;
        // All eight, then cut back: a copy of constant size, no memcpy call.
        out.extend_from_slice(chunk);
        if hits != 0 {
            let k = hits.trailing_zeros() / 8;
            out.truncate(out.len() - 8 + k as usize);
            seen |= w & ((1u64 << (8 * k)) - 1);
            return Some((i + k as usize, seen & HIGH == 0));
        }
        seen |= w;
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return Some((i, seen & HIGH == 0));
        }
        out.push(c);
        seen |= u64::from(c);
        i += 1;
    }
    None
}

/// Reads one escape after its backslash onto `out`; returns its UTF-16 units.
fn read_escape(b: &[u8], i: &mut usize, out: &mut Vec<u8>) -> Option<usize> {
    let c = *b.get(*i)?;
    *i += 1;
    let ch = match c {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => match read_hex4(b, i)? {
            hi @ 0xD800..=0xDBFF => {
                // Only a pair makes a char; a lone surrogate (kept by JSON.parse) does not fit a Rust string.
                if b.get(*i..*i + 2) != Some(b"\\u") {
                    return None;
                }
                *i += 2;
                let lo = read_hex4(b, i)?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return None;
                }
                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
            }
            // None for a lone low surrogate.
            n => char::from_u32(n)?,
        },
        _ => return None,
    };
    out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
    Some(ch.len_utf16())
}

fn read_hex4(b: &[u8], i: &mut usize) -> Option<u32> {
    let digits = b.get(*i..*i + 4)?;
    *i += 4;
    // `to_digit` takes exactly 0-9, a-f, A-F (`from_str_radix` would take a sign too).
    digits.iter().try_fold(0, |n, &d| Some(n << 4 | char::from(d).to_digit(16)?))
}

/// FxHash (rustc's): far cheaper than SipHash on short signatures. The table it
/// serves holds at most [`MAX_SHAPES`] entries, which bounds any collision abuse.
#[derive(Default)]
struct FxHasher(u64);

type FxBuild = BuildHasherDefault<FxHasher>;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.add(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        let mut tail = [0u8; 8];
        let rest = words.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ rest.len() as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // The multiply mixes into the high bits; hashbrown picks buckets with the low ones.
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Number, Value};

    /// Whether serde_json rounds decimals correctly in this build (its `float_roundtrip`
    /// feature): only then can its values stand for JSON.parse's in the comparisons.
    fn floats_exact() -> bool {
        const PROBES: [&str; 4] = ["29069845785675909e19", "1.9875916755563195e27", "46005955.49806798", "0.007539076891313407"];
        PROBES.iter().all(|s| serde_json::from_str::<f64>(s).ok().map(f64::to_bits) == s.parse::<f64>().ok().map(f64::to_bits))
    }

    /// The numbers of a JSON text in order, each parsed by `str::parse` (correctly
    /// rounded, as JSON.parse): a reference independent of serde_json's float parser.
    fn number_tokens(json: &str) -> Vec<f64> {
        let b = json.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                        i += 1;
                    }
                    out.push(json[start..i].parse().unwrap_or(f64::NAN));
                }
                _ => i += 1,
            }
        }
        out
    }

    /// The serde_json-based encoder this one replaced, kept as the reference of the
    /// differential tests; its numbers come from [`number_tokens`], so it is exact
    /// whether or not serde_json has `float_roundtrip`.
    mod reference {
        use super::super::{registry, utf16_len, Tape, ARR, FALSE, INT, MAX_DEPTH, NULL, NUM, OBJ, STR, TRUE};
        use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
        use std::fmt;
        use std::sync::PoisonError;

        pub fn encode(json: &[u8]) -> Option<Tape> {
            let json = std::str::from_utf8(json).ok()?;
            let numbers = super::number_tokens(json).into_iter();
            let mut w = Writer { tape: Tape::default(), units: 0, keys: Vec::new(), depth: 0, numbers };
            let mut de = serde_json::Deserializer::from_str(json);
            let ok = ValueSeed(&mut w).deserialize(&mut de).is_ok() && de.end().is_ok();
            ok.then_some(w.tape)
        }

        struct Writer {
            tape: Tape,
            units: usize,
            keys: Vec<u8>,
            depth: usize,
            numbers: std::vec::IntoIter<f64>,
        }

        impl Writer {
            fn enter<E: de::Error>(&mut self) -> Result<(), E> {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(E::custom("nesting too deep"));
                }
                Ok(())
            }

            fn number<E: de::Error>(&mut self) -> Result<(), E> {
                let v = self.numbers.next().unwrap_or(f64::NAN);
                if !v.is_finite() {
                    return Err(E::custom("number out of range"));
                }
                let i = v as i32;
                if f64::from(i) == v && !(v == 0.0 && v.is_sign_negative()) {
                    self.tape.ops.extend_from_slice(&[INT, i]);
                } else {
                    self.tape.ops.push(NUM);
                    self.tape.nums.push(v);
                }
                Ok(())
            }
        }

        fn to_i32<E: de::Error>(n: usize) -> Result<i32, E> {
            i32::try_from(n).map_err(|_| E::custom("too large"))
        }

        struct ValueSeed<'w>(&'w mut Writer);

        impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
            type Value = ();

            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(self)
            }
        }

        impl<'de> Visitor<'de> for ValueSeed<'_> {
            type Value = ();

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_bool<E>(self, v: bool) -> Result<(), E> {
                self.0.tape.ops.push(if v { TRUE } else { FALSE });
                Ok(())
            }

            fn visit_unit<E>(self) -> Result<(), E> {
                self.0.tape.ops.push(NULL);
                Ok(())
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
                self.0.number()
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
                self.0.number()
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
                self.0.number()
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
                let w = self.0;
                let a = w.units;
                let b = a + utf16_len(v.as_bytes());
                let ops = [STR, to_i32(a)?, to_i32(b)?];
                w.tape.strs.push_str(v);
                w.units = b;
                w.tape.ops.extend_from_slice(&ops);
                Ok(())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
                let w = self.0;
                w.enter()?;
                let at = w.tape.ops.len();
                w.tape.ops.extend_from_slice(&[ARR, 0]);
                let mut n = 0usize;
                while seq.next_element_seed(ValueSeed(&mut *w))?.is_some() {
                    n += 1;
                }
                w.tape.ops[at + 1] = to_i32(n)?;
                w.depth -= 1;
                Ok(())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
                let w = self.0;
                w.enter()?;
                let at = w.tape.ops.len();
                w.tape.ops.extend_from_slice(&[OBJ, 0]);
                let start = w.keys.len();
                while map.next_key_seed(KeySeed(&mut w.keys))?.is_some() {
                    map.next_value_seed(ValueSeed(&mut *w))?;
                }
                let id = registry().lock().unwrap_or_else(PoisonError::into_inner).intern(&w.keys[start..]);
                w.tape.ops[at + 1] = id.ok_or_else(|| de::Error::custom("repeated key or registry full"))? as i32;
                w.keys.truncate(start);
                w.depth -= 1;
                Ok(())
            }
        }

        struct KeySeed<'k>(&'k mut Vec<u8>);

        impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
            type Value = ();

            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_str(self)
            }
        }

        impl Visitor<'_> for KeySeed<'_> {
            type Value = ();

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
                let len = u32::try_from(v.len()).map_err(|_| E::custom("key too long"))?;
                self.0.extend_from_slice(&len.to_le_bytes());
                self.0.extend_from_slice(v.as_bytes());
                Ok(())
            }
        }
    }

    /// Rebuilds a `Value` from a tape, as `tape.js` does in JavaScript.
    fn decode(t: &Tape) -> Value {
        struct Cur<'t> {
            t: &'t Tape,
            units: Vec<u16>,
            p: usize,
            q: usize,
        }
        impl Cur<'_> {
            fn op(&mut self) -> i32 {
                self.p += 1;
                self.t.ops[self.p - 1]
            }
            fn value(&mut self) -> Value {
                match self.op() {
                    STR => {
                        let (a, b) = (self.op() as usize, self.op() as usize);
                        Value::String(String::from_utf16(&self.units[a..b]).expect("slice splits a surrogate pair"))
                    }
                    INT => Value::from(self.op()),
                    NUM => {
                        self.q += 1;
                        Value::Number(Number::from_f64(self.t.nums[self.q - 1]).expect("finite"))
                    }
                    TRUE => Value::Bool(true),
                    FALSE => Value::Bool(false),
                    NULL => Value::Null,
                    ARR => {
                        let n = self.op() as usize;
                        Value::Array((0..n).map(|_| self.value()).collect())
                    }
                    OBJ => {
                        let id = self.op() as u32;
                        let keys: Vec<String> = serde_json::from_str(&shape_keys(id).expect("known shape")).expect("keys JSON");
                        let mut m = Map::new();
                        for k in keys {
                            let v = self.value();
                            assert!(m.insert(k, v).is_none(), "repeated key in shape {id}");
                        }
                        Value::Object(m)
                    }
                    op => panic!("bad op {op} at {}", self.p - 1),
                }
            }
        }
        let mut c = Cur { t, units: t.strs.encode_utf16().collect(), p: 0, q: 0 };
        let v = c.value();
        assert_eq!((c.p, c.q), (t.ops.len(), t.nums.len()), "tape not fully consumed");
        v
    }

    /// The numbers of a tape in order.
    fn tape_numbers(t: &Tape) -> Vec<f64> {
        let (mut out, mut p, mut q) = (Vec::new(), 0, 0);
        while p < t.ops.len() {
            match t.ops[p] {
                STR => p += 3,
                INT => {
                    out.push(f64::from(t.ops[p + 1]));
                    p += 2;
                }
                NUM => {
                    out.push(t.nums[q]);
                    q += 1;
                    p += 1;
                }
                ARR | OBJ => p += 2,
                _ => p += 1,
            }
        }
        out
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|f| f.to_bits()).collect()
    }

    #[track_caller]
    fn assert_same_tape(got: &Tape, want: &Tape, doc: &[u8]) {
        let doc = String::from_utf8_lossy(doc);
        assert_eq!(got.ops, want.ops, "ops of {doc:.200}");
        assert_eq!(bits(&got.nums), bits(&want.nums), "nums of {doc:.200}");
        assert_eq!(got.strs, want.strs, "strs of {doc:.200}");
    }

    /// Equality as JavaScript sees it: numbers by f64 bits (so -0 != 0, 1.0 == 1),
    /// object keys in order. serde_json's floats count only when it rounds correctly.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                x.to_bits() == y.to_bits() || !floats_exact() && (x - y).abs() <= y.abs() * 1e-15
            }
            (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((kx, vx), (ky, vy))| kx == ky && same(vx, vy))
            }
            _ => a == b,
        }
    }

    /// Encodes `json`, which must succeed, and checks the tape against the old
    /// encoder, serde_json's value and the number tokens of the text.
    #[track_caller]
    fn round_trip(json: &str) -> Tape {
        let t = encode(json.as_bytes()).unwrap_or_else(|| panic!("no tape for {json:.200}"));
        let r = reference::encode(json.as_bytes()).unwrap_or_else(|| panic!("no reference tape for {json:.200}"));
        assert_same_tape(&t, &r, json.as_bytes());
        assert_eq!(bits(&tape_numbers(&t)), bits(&number_tokens(json)), "numbers of {json:.200}");
        let want: Value = serde_json::from_str(json).unwrap();
        let got = decode(&t);
        assert!(same(&got, &want), "{json:.200}\n got {got}\nwant {want}");
        t
    }

    fn object_of(keys: &[&str]) -> String {
        let fields: Vec<String> = keys.iter().map(|k| format!("{}:null", Value::from(*k))).collect();
        format!("{{{}}}", fields.join(","))
    }

    fn shape_of(keys: &[&str]) -> u32 {
        encode(object_of(keys).as_bytes()).unwrap().ops[1] as u32
    }

    /// The shape ids of the objects of a tape, in order.
    fn shape_ids(t: &Tape) -> Vec<u32> {
        let (mut out, mut p) = (Vec::new(), 0);
        while p < t.ops.len() {
            match t.ops[p] {
                STR => p += 3,
                INT | ARR => p += 2,
                OBJ => {
                    out.push(t.ops[p + 1] as u32);
                    p += 2;
                }
                _ => p += 1,
            }
        }
        out
    }

    #[test]
    fn layout_is_as_documented() {
        let t = encode(br#"[{"a":"x\u00e9","b":[true,false,null]},-2147483649,7,{}]"#).unwrap();
        let ab = shape_of(&["a", "b"]);
        let empty = shape_of(&[]);
        assert_eq!(t.ops, [ARR, 4, OBJ, ab as i32, STR, 0, 2, ARR, 3, TRUE, FALSE, NULL, NUM, INT, 7, OBJ, empty as i32], "{:?}", t);
        assert_eq!(t.nums, [-2147483649.0]);
        assert_eq!(t.strs, "xé");
        assert_eq!(shape_keys(ab).unwrap(), r#"["a","b"]"#);
        assert_eq!(shape_keys(empty).unwrap(), "[]");
    }

    #[test]
    fn tricky_documents_round_trip() {
        let docs = [
            "null",
            "true",
            "false",
            "0",
            r#""""#,
            r#""top""#,
            "[]",
            "{}",
            "[ ]",
            "{ }",
            "[[],{},[[]],[{}],{\"a\":{}}]",
            r#"{"esc":"\"\\\/\b\f\n\r\t\u0000\u001f","nul\u0000key":1,"":"empty key"}"#,
            r#"{"bmp":"é€中","astral":"😀𝄞","mixed":"a😀b\ud83d\ude00c","lit":"\u2028\u2029"}"#,
            r#"{"__proto__":{"polluted":true},"constructor":1,"toString":"x","hasOwnProperty":null}"#,
            r#"{"b":1,"2":2,"a":3,"1":4,"-1":5,"01":6,"4294967295":7,"4294967294":8}"#,
            r#"[{"id":1,"tags":["a"]},{"id":2},{"tags":[],"id":3},{"id":4,"tags":[{"k":"v"},{"k":"w","n":null}]}]"#,
            r#"{"a":{"a":{"a":{"b":[{"a":1},{"b":2},{"a":1,"b":2},{"b":2,"a":1}]}}}}"#,
            r#"[2147483647,2147483648,-2147483648,-2147483649,9007199254740993,18446744073709551615]"#,
            r#"[-9223372036854775808,-9223372036854775807]"#,
            " \t\r\n[ 1 , { \"a\" : 2 } ] \n ",
            r#"[18446744073709551616,-9223372036854775809,123456789012345678901234567890]"#,
            r#"[0.1,-0.1,1.0,-1.0,1e2,1E-2,5e-324,1e308,-1e308,1.7976931348623157e308,2.2250738585072014e-308]"#,
            r#"[-0,-0.0,-0e5,0.0,1e-400,-1e-400]"#,
            r#"{"a":[{"x":0.5,"y":-0}]}"#,
            // DEL and raw U+2028 need no escape; long runs cross the 8-byte scan.
            "[\"\u{7f}\u{2028}\",\"0123456789abcdef😀0123456789\\\"0123456789é\",\"\\\\\\\\\\\\\\\\\\\\\"]",
        ];
        for doc in docs {
            round_trip(doc);
        }
    }

    #[test]
    fn numbers() {
        let t = round_trip("[2147483647,-2147483648,2147483648,-2147483649,4294967296,18446744073709551615]");
        assert_eq!(t.ops, [ARR, 6, INT, i32::MAX, INT, i32::MIN, NUM, NUM, NUM, NUM]);
        assert_eq!(t.nums, [2147483648.0, -2147483649.0, 4294967296.0, 18446744073709551615u64 as f64]);
        let t = round_trip("[-0,-0.0,1.0,-3.0,1e308,0.5,1e-400,-1e-400]");
        assert_eq!(t.ops, [ARR, 8, NUM, NUM, INT, 1, INT, -3, NUM, NUM, INT, 0, NUM]);
        assert_eq!(bits(&t.nums), bits(&[-0.0, -0.0, 1e308, 0.5, -0.0]));
        // Exponent forms: written as floats, exactly i32 all the same.
        let t = round_trip(
            "[1E5,1e5,1e+5,1E+05,100000e-0,1000000e-1,1.5e1,-2.5E+1,0e99999999999999999999,1e-99999999999999999999,21474836470e-1]",
        );
        assert_eq!(
            t.ops[2..].chunks(2).map(|c| c[1]).collect::<Vec<_>>(),
            [100000, 100000, 100000, 100000, 100000, 100000, 15, -25, 0, 0, i32::MAX]
        );
        let t = round_trip("[-0e0,-0E-7,-0.000,0.000,-1e-400,1.5,2147483647.5,1e10]");
        assert_eq!(t.ops, [ARR, 8, NUM, NUM, NUM, INT, 0, NUM, NUM, NUM, NUM]);
        assert_eq!(bits(&t.nums), bits(&[-0.0, -0.0, -0.0, -0.0, 1.5, 2147483647.5, 1e10]));
        // Big integers: correctly rounded (round half to even beyond 2^53).
        let t = round_trip("[9007199254740993,9007199254740995,-9007199254740993,18446744073709551616,36893488147419103231,123456789012345678901234567890123]");
        assert_eq!(
            bits(&t.nums),
            bits(&[
                9007199254740992.0,
                9007199254740996.0,
                -9007199254740992.0,
                18446744073709551616.0,
                36893488147419103232.0,
                1.2345678901234568e32
            ])
        );
        // Ten digits: beyond i32 on both sides, still integers.
        let t = round_trip("[9999999999,-9999999999,1000000000,-1000000000,4294967295]");
        assert_eq!(t.ops, [ARR, 5, NUM, NUM, INT, 1_000_000_000, INT, -1_000_000_000, NUM]);
        // JSON.parse makes these Infinity: not representable in JSON text, so fall back.
        for doc in
            ["1e309", "-1e309", "[1.7976931348623159e308]", &format!("1{}", "0".repeat(400)), "{\"a\":-1e400}", "1e99999999999999999999"]
        {
            assert!(encode(doc.as_bytes()).is_none(), "{doc}");
            assert!(reference::encode(doc.as_bytes()).is_none(), "{doc}");
        }
    }

    #[test]
    fn floats_are_correctly_rounded() {
        let mut nums: Vec<String> = [
            "0.30000000000000004",
            "9007199254740993.0",
            "9007199254740993.00000000000000000000000000001",
            "2.2250738585072011e-308",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "4.9406564584124654e-324",
            "1.7976931348623158e308",
            "29069845785675909e19",
            "46005955.49806798",
        ]
        .map(String::from)
        .into();
        nums.push(format!("9007199254740993.{}1", "0".repeat(800)));
        // Random 17-digit decimals (xorshift): a quarter of them trip serde_json's default parser.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            nums.push(format!("{}.{:017}e{}", x % 10, (x >> 4) % 100_000_000_000_000_000, (x >> 58) as i32 - 32));
        }
        let doc = format!("[{}]", nums.join(","));
        let t = encode(doc.as_bytes()).expect("tape");
        let want: Vec<f64> = nums.iter().map(|s| s.parse().unwrap()).collect();
        assert_eq!(bits(&tape_numbers(&t)), bits(&want));
        if floats_exact() {
            round_trip(&doc);
        }
    }

    #[test]
    fn strings_are_sliced_in_utf16_units() {
        let t = round_trip(r#"["a","é","😀","","x😀y€","\ud834\udd1e",["deep","😀"]]"#);
        let units: Vec<u16> = t.strs.encode_utf16().collect();
        assert_eq!(units.len(), 17, "a é 😀×2 x😀y€ 𝄞×2 deep 😀×2");
        for s in ["é", "😀", "x😀y€", "a\u{10FFFF}\u{7FF}\u{800}\u{FFFF}\u{10000}"] {
            assert_eq!(utf16_len(s.as_bytes()), s.encode_utf16().count(), "{s}");
        }
    }

    #[test]
    fn escapes() {
        let t = round_trip(
            r#"["\"\\\/\b\f\n\r\t","\u0041\u00e9\u20AC\uFFFF\u0000\u001F\u007f","\ud83d\ude00\uD834\uDD1E","a\ud83d\ude00b","\u00E9😀\u00e9"]"#,
        );
        assert_eq!(t.strs, "\"\\/\u{8}\u{c}\n\r\t\u{41}é€\u{FFFF}\u{0}\u{1f}\u{7f}😀𝄞a😀bé😀é");
        assert_eq!(t.ops[2..], [STR, 0, 8, STR, 8, 15, STR, 15, 19, STR, 19, 23, STR, 23, 27]);
        // Keys too: an escaped key is the same key, so the same shape.
        let t = round_trip(r#"[{"k\u00e9y":1,"\ud83d\ude00":2},{"kéy":3,"😀":4},{"\u006b\u00e9\u0079":5,"\uD83D\uDE00":6}]"#);
        let ids = shape_ids(&t);
        assert_eq!(ids, [ids[0]; 3]);
        assert_eq!(ids[0], shape_of(&["kéy", "😀"]));
    }

    #[test]
    fn rejected_documents() {
        let deep = |n: usize, open: &str, close: &str| format!("{}1{}", open.repeat(n), close.repeat(n));
        let mut docs: Vec<String> = [
            // Nothing, or more than one value.
            "",
            " ",
            "{} x",
            "[1]]",
            "1 2",
            "{\"a\":1}{}",
            "[] []",
            "nullnull",
            "\"a\"\"b\"",
            "1,",
            ",1",
            // Whitespace beyond space, \t, \n, \r.
            "\u{feff}{}",
            "\u{a0}1",
            "\u{b}1",
            "\u{c}1",
            "1\u{0}",
            "[1,\u{b}2]",
            "{\u{85}}",
            "[\u{2028}]",
            // Structure.
            "[",
            "]",
            "{",
            "}",
            "[1",
            "{\"a\":1",
            "[1,]",
            "[,]",
            "[,1]",
            "[1,,2]",
            "[1 2]",
            "{,}",
            "{\"a\":1,}",
            "{\"a\"}",
            "{\"a\" 1}",
            "{\"a\":}",
            "{\"a\"::1}",
            "{a:1}",
            "{1:1}",
            "{null:1}",
            "{'a':1}",
            "{\"a\":1 \"b\":2}",
            "[}",
            "{]",
            ":",
            ",",
            // Numbers.
            "01",
            "-01",
            "00",
            "[00]",
            "0123",
            "-00",
            "+1",
            ".5",
            "-.5",
            "1.",
            "1.e5",
            "-",
            "-a",
            "--1",
            "- 1",
            "1e",
            "1e+",
            "1E-",
            "1e5e5",
            "1.5.5",
            "0x10",
            "1_000",
            "1e5.5",
            "Infinity",
            "-Infinity",
            "NaN",
            "[Infinity]",
            "1ee5",
            "1.0.",
            "١",
            // Literals.
            "tru",
            "truee",
            "True",
            "TRUE",
            "nul",
            "nulll",
            "falsy",
            "fals",
            "undefined",
            "[t]",
            // Strings.
            "\"abc",
            "\"\\\"",
            "\"\\",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12G4\"",
            "\"\\U0041\"",
            "\"\\u+041\"",
            "\"\\u 041\"",
            "\"\\u-041\"",
            "\"\\'\"",
            "\"\\a\"",
            "\"\\0\"",
            "'a'",
            "\"tab\there\"",
            "\"nl\nhere\"",
            "\"cr\r\"",
            "\"\u{0}\"",
            "\"\u{1f}\"",
            "{\"a\u{1}\":1}",
            "{\"a\\x\":1}",
            // Lone surrogates.
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\uDBFF\"",
            "\"\\ud800x\"",
            "\"\\ud800\\n\"",
            "\"\\ud800\\u0041\"",
            "\"\\ud800\\ud800\"",
            "\"\\udc00\\ud800\"",
            "\"\\ud800\\\"",
            "\"a\\ud83d\"",
            "{\"\\udc00\":1}",
            "{\"\\ud800\":1}",
            "[\"\\ude00\\ud83d\"]",
            // Repeated keys.
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"b":2,"a":3}"#,
            r#"[{"x":[{"k":1,"k":1}]}]"#,
            r#"{"a":1,"\u0061":2}"#,
        ]
        .map(String::from)
        .into();
        docs.extend([deep(MAX_DEPTH, "[", "]"), deep(200, "{\"a\":", "}"), deep(100_000, "[", "]"), deep(100_000, "{\"a\":", "}")]);
        for doc in &docs {
            assert!(encode(doc.as_bytes()).is_none(), "{doc:.60}");
            assert!(reference::encode(doc.as_bytes()).is_none(), "reference: {doc:.60}");
            assert!(serde_json::from_str::<Value>(doc).is_err() || doc.contains("\"a\":1") || doc.contains("\"k\":1"), "{doc:.60}");
        }
        assert!(encode(b"[\"\xff\"]").is_none(), "invalid UTF-8");
        assert!(encode(b"[\"\xed\xa0\x80\"]").is_none(), "a surrogate in UTF-8");
        let keys: Vec<String> = (0..=MAX_SHAPE_KEYS).map(|i| format!("too_many_{i}")).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert!(encode(object_of(&keys).as_bytes()).is_none(), "more than MAX_SHAPE_KEYS keys");
        round_trip(&object_of(&keys[1..]));
    }

    #[test]
    fn nesting_limit() {
        let deep = |n: usize, open: &str, close: &str| format!("{}1{}", open.repeat(n), close.repeat(n));
        // serde_json's limit, kept: 127 levels pass, 128 do not.
        for (open, close) in [("[", "]"), ("{\"a\":", "}"), ("[{\"b\":", "}]")] {
            let levels = open.matches(['[', '{']).count();
            let n = (MAX_DEPTH - 1) / levels;
            round_trip(&deep(n, open, close));
            assert!(encode(deep(MAX_DEPTH.div_ceil(levels), open, close).as_bytes()).is_none(), "{open}");
        }
        let wrap = |inner: &str, n: usize| format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
        round_trip(&wrap("{\"x\":[]}", MAX_DEPTH - 3));
        assert!(encode(wrap("{\"x\":[]}", MAX_DEPTH - 2).as_bytes()).is_none());
        // Objects at the deepest level allowed, each depth with its own prediction.
        let n = MAX_DEPTH - 3;
        round_trip(&format!("[{},{},{}]", wrap("{\"p\":1}", n), wrap("{\"q\":1}", n), wrap("{\"p\":1}", n)));
    }

    #[test]
    fn shapes_are_per_ordered_key_list() {
        let ab = shape_of(&["a", "b"]);
        assert_eq!(shape_of(&["a", "b"]), ab);
        assert_ne!(shape_of(&["b", "a"]), ab);
        // Length prefixes keep split points apart.
        assert_ne!(shape_of(&["ab", "c"]), shape_of(&["a", "bc"]));
        assert_ne!(shape_of(&["a\u{0}", ""]), shape_of(&["a", "\u{0}"]));
        assert_ne!(shape_of(&[]), shape_of(&[""]));
        let weird = ["", "\"", "\\", "\u{0}", "😀", "__proto__", "1", "\u{2028}", "</script>", "'); throw 1; ('"];
        let id = shape_of(&weird);
        let keys: Vec<String> = serde_json::from_str(&shape_keys(id).unwrap()).unwrap();
        assert_eq!(keys, weird);
        assert_eq!(shape_keys(u32::MAX), None);
    }

    #[test]
    fn shape_prediction() {
        // Same keys (hit), one key changed at the end / start, fewer, more, a prefix
        // of a key, the same set reordered, empty, and back to the first.
        let doc = r#"[{"pa":1,"pb":2},{"pa":3,"pb":4},{"pa":5,"pc":6},{"px":7,"pc":8},{"pa":9},{"pa":1,"pb":2,"pc":3},
            {"pa":1,"p":2},{"pb":1,"pa":2},{},{},{"pa":1,"pb":2},{"pa" : 1 , "p\u0062" : 2}]"#;
        let t = round_trip(doc);
        let ids = shape_ids(&t);
        let want = [
            shape_of(&["pa", "pb"]),
            shape_of(&["pa", "pb"]),
            shape_of(&["pa", "pc"]),
            shape_of(&["px", "pc"]),
            shape_of(&["pa"]),
            shape_of(&["pa", "pb", "pc"]),
            shape_of(&["pa", "p"]),
            shape_of(&["pb", "pa"]),
            shape_of(&[]),
            shape_of(&[]),
            shape_of(&["pa", "pb"]),
            shape_of(&["pa", "pb"]),
        ];
        assert_eq!(ids, want);
        let distinct: HashSet<u32> = want.iter().copied().collect();
        assert_eq!(distinct.len(), 8);
        // Per depth: inner and outer objects alternate without disturbing each other.
        let t = round_trip(r#"[{"o":{"x":1},"p":{"y":2}},{"o":{"x":3},"p":{"y":4}},{"o":{"y":5},"p":{"x":6}},{"o":{"x":1,"y":2},"p":{}}]"#);
        let (o, x, y) = (shape_of(&["o", "p"]), shape_of(&["x"]), shape_of(&["y"]));
        assert_eq!(shape_ids(&t), [o, x, y, o, x, y, o, y, x, o, shape_of(&["x", "y"]), shape_of(&[])]);
        // Keys that need escapes: predicted, without compact tokens.
        let t = round_trip(r#"[{"k\"q":1,"b":2},{"k\"q":3,"b":4},{"k\u0022q":5,"b":6,"c":7},{"k\"q":8},{"k\"q":9, "b":0}]"#);
        let (kb, kbc, k) = (shape_of(&["k\"q", "b"]), shape_of(&["k\"q", "b", "c"]), shape_of(&["k\"q"]));
        assert_eq!(shape_ids(&t), [kb, kb, kbc, k, kb]);
        // Their raw bytes are no token: other keys, or invalid JSON.
        let t = round_trip(r#"[{"a\\b":1},{"a\b":2},{"a\\b":3}]"#);
        assert_eq!(shape_ids(&t), [shape_of(&["a\\b"]), shape_of(&["a\u{8}"]), shape_of(&["a\\b"])]);
        for doc in [r#"[{"k\"q":1},{"k"q":1}]"#, "[{\"a\\n\":1},{\"a\n\":1}]", "[{\"a\\u0000\":1},{\"a\u{0}\":1}]"] {
            assert!(encode(doc.as_bytes()).is_none(), "{doc}");
            assert!(reference::encode(doc.as_bytes()).is_none(), "{doc}");
        }
        // A repeated key under a prediction is still refused, whether it breaks the
        // prediction at the repeat or after all predicted keys matched.
        for doc in [r#"[{"pa":1,"pb":2},{"pa":1,"pa":2}]"#, r#"[{"pa":1,"pb":2},{"pa":1,"pb":2,"pa":3}]"#, r#"[{"pa":1},{"pa":1,"pa":2}]"#]
        {
            assert!(encode(doc.as_bytes()).is_none(), "{doc}");
        }
    }

    #[test]
    fn copy_run_matches_a_byte_loop() {
        let naive = |b: &[u8], i: usize| {
            let end = i + b[i..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            Some((end, b[i..end].is_ascii()))
        };
        // Bytes next to the ones sought, so borrows and near misses are exercised.
        let alphabet = [b'"', b'\\', 0, 1, 0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff, b'a'];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 40) as usize;
            let mut y = x;
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.rotate_left(5).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
                    // Mostly plain letters, so that hits come after long runs too.
                    if y >> 60 < 12 {
                        b'a' + (y >> 40) as u8 % 26
                    } else {
                        alphabet[(y >> 32) as usize % alphabet.len()]
                    }
                })
                .collect();
            for i in 0..=len.min(9) {
                let mut out = vec![b'x'];
                let got = copy_run(&b, i, &mut out);
                assert_eq!(got, naive(&b, i), "{b:?} from {i}");
                let end = got.map_or(len, |(end, _)| end);
                assert_eq!(out[1..], b[i..end], "{b:?} from {i}");
            }
        }
    }

    /// Random JSON-ish documents: valid ones with every kind of token, random
    /// whitespace and escapes, and some broken by a random edit.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }

        fn ws(&mut self, s: &mut String) {
            if self.below(4) == 0 {
                for _ in 0..=self.below(3) {
                    s.push([' ', '\t', '\n', '\r'][self.below(4)]);
                }
            }
        }

        fn digits(&mut self, s: &mut String, n: usize) {
            for _ in 0..n {
                s.push(char::from(b'0' + self.below(10) as u8));
            }
        }

        fn number(&mut self, s: &mut String) {
            match self.below(10) {
                0 => s.push_str(&(self.below(2001) as i64 - 1000).to_string()),
                1 => s.push_str(&(self.next() as i32).to_string()),
                2 => s.push_str(self.pick(&[
                    "2147483647",
                    "2147483648",
                    "-2147483648",
                    "-2147483649",
                    "9007199254740993",
                    "18446744073709551615",
                    "18446744073709551616",
                    "-9223372036854775808",
                    "-9223372036854775809",
                    "-0",
                    "0",
                    "-0.0",
                    "0e0",
                    "-0e-5",
                    "1E5",
                    "1e-400",
                    "-1e-400",
                    "1e400",
                    "4294967295",
                    "9999999999",
                    "-9999999999",
                    "1.7976931348623157e308",
                    "5e-324",
                    "2.2250738585072011e-308",
                    "0.1",
                    "1.0",
                    "2147483647.0",
                    "21474836470e-1",
                ])),
                3 => {
                    // Integers of any length.
                    if self.below(2) == 0 {
                        s.push('-');
                    }
                    s.push(char::from(b'1' + self.below(9) as u8));
                    let n = self.below(30);
                    self.digits(s, n);
                }
                4 => s.push_str(&format!("{:?}", f64::from_bits(self.next() >> 2))),
                5 => s.push_str(&format!("{}", (self.next() % 1_000_000) as f64 / 1024.0)),
                9 if self.below(3) == 0 => {
                    s.push_str(self.pick(&["01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "0x1", "1.5e3.2", "NaN", "-Infinity"]))
                }
                _ => {
                    // Decimal, with or without a fraction and exponent.
                    if self.below(3) == 0 {
                        s.push('-');
                    }
                    if self.below(3) == 0 {
                        s.push('0');
                    } else {
                        s.push(char::from(b'1' + self.below(9) as u8));
                        let n = self.below(18);
                        self.digits(s, n);
                    }
                    if self.below(2) == 0 {
                        s.push('.');
                        let n = 1 + self.below(20);
                        self.digits(s, n);
                    }
                    if self.below(2) == 0 {
                        s.push_str(self.pick(&["e", "E", "e+", "e-", "E+", "E-"]));
                        // Three digits now and then: beyond the range of f64.
                        let n = if self.below(8) == 0 { 3 } else { 1 + self.below(2) };
                        self.digits(s, n);
                    }
                }
            }
        }

        /// A string of `n` pieces, each char written raw or escaped.
        fn string(&mut self, s: &mut String, pieces: &[&str], n: usize) {
            s.push('"');
            for _ in 0..n {
                for c in self.pick(pieces).chars() {
                    let mut units = [0u16; 2];
                    let escaped: String = c.encode_utf16(&mut units).iter().map(|u| format!("\\u{u:04x}")).collect();
                    match (c, self.below(8)) {
                        ('"', _) => s.push_str("\\\""),
                        ('\\', _) => s.push_str("\\\\"),
                        ('\n', 0) => s.push_str("\\n"),
                        ('\u{8}', 0) => s.push_str("\\b"),
                        ('/', 0) => s.push_str("\\/"),
                        (c, _) if c < ' ' => s.push_str(&escaped),
                        (_, 1) => s.push_str(&escaped.to_uppercase().replace("\\U", "\\u")),
                        (_, 2) => s.push_str(&escaped),
                        (c, _) => s.push(c),
                    }
                }
            }
            if self.below(40) == 0 {
                // Lone or mismatched surrogates, which make the document fall back.
                s.push_str(self.pick(&["\\ud800", "\\udfff", "\\ud83d\\u0041", "\\ud83d\\ud83d", "\\ude00\\ud83d"]));
            }
            s.push('"');
        }

        fn value(&mut self, s: &mut String, depth: usize) {
            const STRINGS: [&str; 12] = ["a", "id", "é", "😀", "\u{0}", "\n", "\u{8}", "\"", "\\", "/", "\u{2028}", "0123456789abcdefghij"];
            // Few keys, so few shapes: the registry is shared with the other tests.
            const KEYS: [&str; 7] = ["id", "name", "a", "é", "😀", "", "k\"q"];
            // Mostly containers near the top, mostly scalars deep down.
            match self.below(if depth > 6 {
                4
            } else if depth < 2 {
                12
            } else {
                8
            }) {
                0 => {
                    let n = self.below(5);
                    self.string(s, &STRINGS, n);
                }
                1 | 2 => self.number(s),
                3 => s.push_str(self.pick(&["true", "false", "null"])),
                4..=7 => {
                    s.push('[');
                    self.ws(s);
                    for i in 0..self.below(6) {
                        if i > 0 {
                            s.push(',');
                            self.ws(s);
                        }
                        self.value(s, depth + 1);
                        self.ws(s);
                    }
                    s.push(']');
                }
                _ => {
                    s.push('{');
                    self.ws(s);
                    // A key that needs an escape: predictions without compact tokens.
                    let quirky = self.below(4) == 0;
                    for i in 0..self.below(4) {
                        if i > 0 {
                            s.push(',');
                            self.ws(s);
                        }
                        // Mostly keys from the array's previous objects: predictions hit and miss.
                        let key =
                            if self.below(8) == 0 { KEYS[self.below(7)] } else { [KEYS[i % 3], KEYS[6]][usize::from(i == 1 && quirky)] };
                        let n = if self.below(16) == 0 { 2 } else { 1 };
                        self.string(s, &[key], n);
                        self.ws(s);
                        s.push(':');
                        self.ws(s);
                        self.value(s, depth + 1);
                        self.ws(s);
                    }
                    s.push('}');
                }
            }
        }

        fn document(&mut self) -> Vec<u8> {
            let mut s = String::new();
            self.ws(&mut s);
            self.value(&mut s, 0);
            self.ws(&mut s);
            let mut b = s.into_bytes();
            if self.below(4) == 0 {
                for _ in 0..=self.below(2) {
                    let at = self.below(b.len() + 1);
                    const EDITS: &[u8] = b"\",:[]{}\\ 0e.-+x\x01\x0b\x0c\xc3";
                    match self.below(4) {
                        0 if at < b.len() => {
                            b.remove(at);
                        }
                        1 if at < b.len() => b[at] = EDITS[self.below(EDITS.len())],
                        2 => b.truncate(at),
                        _ => b.insert(at, EDITS[self.below(EDITS.len())]),
                    }
                }
            }
            b
        }
    }

    #[test]
    fn differential_against_the_old_encoder_and_serde_json() {
        let mut g = Gen(0x9E37_79B9_7F4A_7C15);
        let (mut accepted, mut rejected) = (0, 0);
        for _ in 0..4000 {
            let doc = g.document();
            let new = encode(&doc);
            let old = reference::encode(&doc);
            match (&new, &old) {
                (Some(n), Some(o)) => assert_same_tape(n, o, &doc),
                (None, None) => {}
                _ => panic!("new {} old {}: {}", new.is_some(), old.is_some(), String::from_utf8_lossy(&doc)),
            }
            let Some(t) = new else {
                rejected += 1;
                continue;
            };
            accepted += 1;
            let text = std::str::from_utf8(&doc).unwrap();
            assert_eq!(bits(&tape_numbers(&t)), bits(&number_tokens(text)), "numbers of {text}");
            let want: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("serde_json: {e}: {text}"));
            assert!(same(&decode(&t), &want), "{text}");
        }
        // Both outcomes well represented.
        assert!(accepted > 2000 && rejected > 500, "accepted {accepted} rejected {rejected}");
    }

    #[test]
    fn shape_ids_agree_across_threads() {
        let doc = r#"[{"thread_shape_x":1,"y":[{"z":true}]},{"thread_shape_x":2,"y":[]}]"#;
        let tapes: Vec<Tape> = std::thread::scope(|s| {
            (0..4).map(|_| s.spawn(|| encode(doc.as_bytes()).unwrap())).collect::<Vec<_>>().into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(tapes.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(tapes[0], encode(doc.as_bytes()).unwrap());
    }

    #[test]
    fn registry_limits() {
        let sig = |keys: &[&str]| {
            let mut s = Vec::new();
            for k in keys {
                s.extend_from_slice(&(k.len() as u32).to_le_bytes());
                s.extend_from_slice(k.as_bytes());
            }
            s
        };
        let mut r = Registry::new(2, 1 << 20);
        assert_eq!(r.intern(&sig(&["a"])), Some(0));
        assert_eq!(r.intern(&sig(&["a", "a"])), None, "repeated key");
        assert_eq!(r.intern(&sig(&["b"])), Some(1));
        assert_eq!(r.intern(&sig(&["c"])), None, "full");
        assert_eq!(r.intern(&sig(&["a"])), Some(0), "known shapes still resolve when full");
        assert_eq!(r.keys_json, [r#"["a"]"#, r#"["b"]"#]);

        let mut r = Registry::new(100, 64);
        assert_eq!(r.intern(&sig(&[&"x".repeat(40)])), None, "byte budget");
        assert_eq!(r.intern(&sig(&["short"])), Some(0));

        let many: Vec<String> = (0..=MAX_SHAPE_KEYS).map(|i| i.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut r = Registry::new(100, 1 << 20);
        assert_eq!(r.intern(&sig(&many)), None, "too many keys");
        assert!(r.intern(&sig(&many[1..])).is_some());
        assert_eq!(split_signature(&[1, 0, 0]), None);
        assert_eq!(split_signature(&[5, 0, 0, 0, b'a']), None);
    }

    #[test]
    fn a_page_of_records() {
        let rows: Vec<String> = (0..200)
            .map(|i| {
                format!(
                    r#"{{"user_id":"u{i:05}","email":"user{i}@example.com","name":"Ünïcødé {i} 😀","role":"member","active":{},"seats":{i},"score":{}.25,"created_at":"2024-01-01T00:00:00Z","team":null}}"#,
                    i % 2 == 0,
                    i
                )
            })
            .collect();
        let doc = format!(r#"{{"data":[{}],"next":"cursor==","total":200}}"#, rows.join(","));
        let t = round_trip(&doc);
        assert_eq!(t.nums.len(), 200);
        let data = shape_of(&["user_id", "email", "name", "role", "active", "seats", "score", "created_at", "team"]);
        let outer = shape_of(&["data", "next", "total"]);
        assert_eq!(t.ops[..6], [OBJ, outer as i32, ARR, 200, OBJ, data as i32]);
        // Pretty-printed, with whitespace around every key: the same tape.
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&doc).unwrap()).unwrap();
        assert_same_tape(&round_trip(&pretty), &t, pretty.as_bytes());
        let spaced = doc.replace(",\"", " ,\t\"").replace("\":", "\"\r\n:  ").replace('{', "{ ").replace('}', "\n}");
        assert_same_tape(&round_trip(&spaced), &t, spaced.as_bytes());
    }
}
