//! Gives the shared library the soname it is installed under, so programs
//! linked against `libparsec_teams.so` record `libparsec_teams.so.0`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "freebsd" || os == "netbsd" || os == "openbsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libparsec_teams.so.0");
    }
}
