//! Gives the shared library the soname it is installed under, so programs
//! linked against `libparsec_teams.so` record `libparsec_teams.so.0`, and
//! names the C compiler of the build for the `User-Agent`
//! (`PARSEC_TEAMS_C_COMPILER`, e.g. `gcc 12.2.0`; `cc unknown` without one).

use std::process::Command;

fn output(cc: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cc).args(args).output().ok().filter(|o| o.status.success())?;
    String::from_utf8(out.stdout).ok()
}

/// `gcc 12.2.0`, `clang 16.0.6`: the compiler's family and version, ASCII
/// without parentheses (the User-Agent's comment syntax).
fn compiler() -> String {
    let cc = std::env::var("CC").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| "cc".to_owned());
    let banner = output(&cc, &["--version"]).unwrap_or_default();
    let family = if banner.contains("clang") {
        "clang"
    } else if banner.contains("Free Software Foundation") || banner.contains("gcc") {
        "gcc"
    } else {
        "cc"
    };
    let version = output(&cc, &["-dumpfullversion", "-dumpversion"])
        .or_else(|| output(&cc, &["-dumpversion"]))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or_else(|| "unknown".to_owned());
    format!("{family} {version}")
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    println!("cargo:rustc-env=PARSEC_TEAMS_C_COMPILER={}", compiler());
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "freebsd" || os == "netbsd" || os == "openbsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libparsec_teams.so.0");
    }
}
