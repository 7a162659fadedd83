//! Prints the description of the SDK as one JSON document on stdout (or into
//! the file given as the only argument): the operations of both APIs, the
//! result models, the error tree, the client options and the environment
//! variables, all read from the core's own tables
//! (`parsec_teams::describe::description`). `docs/description.json` is its
//! checked-in copy; `make check-description` checks that copy is fresh.

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let text = parsec_teams::describe::description_text();
    let mut args = std::env::args().skip(1);
    let result = match (args.next(), args.next()) {
        (None, _) => std::io::stdout().lock().write_all(text.as_bytes()),
        (Some(path), None) if !path.starts_with('-') => std::fs::write(&path, text),
        _ => {
            eprintln!("usage: parsec-teams-describe [OUTPUT_FILE]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parsec-teams-describe: {e}");
            ExitCode::FAILURE
        }
    }
}
