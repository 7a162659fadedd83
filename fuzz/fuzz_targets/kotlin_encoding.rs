//! The Kotlin package's result decoding (bindings-kotlin/src/json.rs): a
//! response body decoded straight into the binary encoding the JVM reads must
//! spell the same value as serde_json's own parse, or both must refuse it; and
//! parameters given as JSON text never panic the core's parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The module alone (it needs only the core, serde and serde_json), not the
// uniffi crate around it.
#[path = "../../bindings-kotlin/src/json.rs"]
#[allow(dead_code)]
mod kotlin_json;

fuzz_target!(|data: &[u8]| {
    let direct = serde_json::from_slice::<kotlin_json::Encoded>(data);
    let value = serde_json::from_slice::<serde_json::Value>(data);
    match (direct, value) {
        (Ok(kotlin_json::Encoded(bytes)), Ok(v)) => {
            assert_eq!(kotlin_json::read(&bytes), kotlin_json::read(&kotlin_json::to_bytes(&v)));
        }
        (Err(_), Err(_)) => {}
        (d, v) => panic!("the encoding and serde_json disagree: {:?} / {:?}", d.map(|_| ()), v.map(|_| ())),
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parsec_teams::validate::parse_json_text(text, "params");
    }
});
