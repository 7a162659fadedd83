//! Writes `src/operations.rs` from the core's operation table.
//! `--check`: exit 1 (and write nothing) when the committed file is stale.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/operations.rs");
    let fresh = parsec_teams_c::codegen::operations_rs();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::args().any(|a| a == "--check") {
        if current == fresh {
            println!("{} is fresh", path.display());
            return ExitCode::SUCCESS;
        }
        eprintln!("{} is stale: run `make -C bindings-c generate` and commit the result", path.display());
        return ExitCode::FAILURE;
    }
    if current != fresh {
        if let Err(e) = std::fs::write(&path, fresh) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    } else {
        println!("{} unchanged", path.display());
    }
    ExitCode::SUCCESS
}
