//! Lists the generated per-operation C entry points of bindings-c
//! (src/operations.rs) as tables of function pointers for the `c_abi` target,
//! so an operation added to the core is fuzzed without editing the target.

use std::fmt::Write as _;

fn main() {
    let src = "../bindings-c/src/operations.rs";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).expect("bindings-c/src/operations.rs");
    let (mut teams, mut admin) = (String::new(), String::new());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("pub unsafe extern \"C\" fn ") {
        rest = &rest[i + "pub unsafe extern \"C\" fn ".len()..];
        let name = &rest[..rest.find('(').expect("(")];
        let client = rest[rest.find("client: ").expect("a client parameter")..].split([',', ')']).next().unwrap_or_default();
        let list = if client.contains("pt_admin_client") { &mut admin } else { &mut teams };
        writeln!(list, "    (\"{name}\", parsec_teams_c::operations::{name}),").unwrap();
    }
    assert!(!teams.is_empty() && !admin.is_empty(), "no entry points found in {src}");
    let out = format!(
        "/// Every `pt_<resource>_<method>` of the Teams API.\npub const TEAMS_OPS: &[(&str, TeamsEntry)] = &[\n{teams}];\n\
         /// Every `pt_admin_<resource>_<method>`.\npub const ADMIN_OPS: &[(&str, AdminEntry)] = &[\n{admin}];\n"
    );
    let path = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("c_ops.rs");
    std::fs::write(path, out).expect("write c_ops.rs");
}
