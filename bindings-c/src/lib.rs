//! The C library of parsec-teams: `libparsec_teams.so` / `libparsec_teams.a`
//! and `include/parsec_teams.h` (generated from this crate by cbindgen).
//!
//! The binding is thin: the core owns HTTP, validation, retries, quota pacing,
//! pagination and decoding. This crate converts C arguments (a JSON string of
//! parameters) into the core's generic call path, maps errors to [`pt_status`]
//! in one function, and hands results back as JSON strings.
//!
//! Layout:
//! - [`status`]: `pt_status`, `pt_error` and the one `ErrorKind` mapping;
//! - [`ffi`]: the panic guard, pointer and string conversions, the shared runtime;
//! - [`client`]: clients, the generic `pt_call`, the escape hatch, quotas, iterators;
//! - [`operations`] and [`status_codes`]: one entry point per operation and
//!   the `pt_status` codes, GENERATED from `docs/description.json` by the
//!   workspace program `bindings-c/codegen` (`make -C bindings-c generate`),
//!   which is not part of this library; never edit them by hand.
//!
//! Every `unsafe extern "C"` function follows the pointer rules written once in
//! the header's preamble ("Pointers and ownership"), hence no per-function
//! `# Safety` sections.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

pub mod client;
pub mod ffi;
pub mod operations;
pub mod status;
pub mod status_codes;

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

pub use client::{pt_admin_client, pt_admin_client_options, pt_client, pt_client_options, pt_iter, PT_OPTIONS_VERSION};
pub use status::{pt_error, pt_status};

/// The SDK version (`"0.1.0"`), a static string: do not free it.
#[no_mangle]
pub extern "C" fn pt_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    VERSION.get_or_init(|| CString::new(parsec_teams::VERSION).unwrap_or_default()).as_ptr()
}

/// Frees a string returned by this library (a result JSON). NULL is fine.
/// Never pass it to `free()`, and never free it twice.
#[no_mangle]
pub unsafe extern "C" fn pt_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `s` came from `CString::into_raw` in this library (the header's contract).
        drop(unsafe { CString::from_raw(s) });
    }));
}

#[cfg(test)]
mod tests {
    /// Entry points that cannot panic (no allocation that can fail softly, no
    /// indexing, no unwrap), so they need no guard: each with why.
    const PANIC_FREE: &[(&str, &str)] = &[
        ("pt_version", "a OnceLock of a CString built with unwrap_or_default"),
        ("pt_status_name", "a bounds-checked lookup in a static array"),
        ("pt_client_options_init", "one ptr::write of a struct literal"),
        ("pt_admin_client_options_init", "one ptr::write of a struct literal"),
    ];

    /// What a body must call for a panic inside it to become PT_ERR_INTERNAL
    /// (or, for destructors, to be swallowed) instead of unwinding into C.
    const GUARDS: &[&str] = &["guard(", "guard_status(", "call_teams(", "call_admin(", "release(", "free_box(", "catch_unwind("];

    /// Every option of the description that C offers is a field of the
    /// options struct of each client that takes it, in the header.
    #[test]
    fn the_options_structs_have_every_option_of_the_description() {
        let description: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/description.json")).expect("docs/description.json");
        let header = include_str!("../include/parsec_teams.h");
        let body = |name: &str| {
            let start = header.find(&format!("typedef struct {name} {{")).unwrap_or_else(|| panic!("{name} in the header"));
            let end = start + header[start..].find(&format!("}} {name};")).expect("end of struct");
            &header[start..end]
        };
        let (client, admin) = (body("pt_client_options"), body("pt_admin_client_options"));
        let mut checked = 0;
        for option in description["options"].as_array().expect("options") {
            let c = option["names"]["c"]["name"].as_str().expect("a C name");
            let text = ["string", "secret", "url"].iter().any(|t| option["type"] == *t);
            let ty = if text { "const char *" } else { "" };
            for (client_name, fields) in [("Client", client), ("AdminClient", admin)] {
                if option["clients"].as_array().unwrap().iter().any(|c| c == client_name) {
                    let decl = if ty.is_empty() { format!(" {c};") } else { format!("{ty}{c};") };
                    assert!(fields.contains(&decl), "{client_name}'s options lack {c} ({})", option["name"]);
                    if option["type"] == "duration" {
                        assert_eq!(option["names"]["c"]["unit"], "ms", "{c}");
                    }
                    checked += 1;
                }
            }
        }
        let declared = client.matches(";\n").count() + admin.matches(";\n").count();
        // Each struct has `version` besides its options.
        assert_eq!(declared, checked + 2, "a field of the header is not an option of the description");
    }

    #[test]
    fn every_entry_point_runs_under_the_panic_guard() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut seen = 0;
        for file in ["lib.rs", "ffi.rs", "client.rs", "status.rs", "operations.rs"] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let mut rest = text.as_str();
            while let Some(at) = rest.find("extern \"C\" fn ") {
                let after = &rest[at + "extern \"C\" fn ".len()..];
                let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let end = after.find("\n}\n").unwrap_or(after.len());
                let body = &after[..end];
                if !PANIC_FREE.iter().any(|(n, _)| *n == name) {
                    assert!(GUARDS.iter().any(|g| body.contains(g)), "{file}: {name} does not run under the panic guard");
                }
                seen += 1;
                rest = &after[end..];
            }
        }
        // One generated entry point per operation of the description, plus the 18 written by hand.
        let description: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/description.json")).expect("docs/description.json");
        let operations = description["counts"]["operations"].as_u64().expect("counts.operations") as usize;
        assert_eq!(seen, operations + 18, "is the scan still right?");
    }
}
