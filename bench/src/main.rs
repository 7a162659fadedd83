//! `parsec-teams-bench`: the Rust core against the mock server (a separate
//! process), side by side with a bare reqwest + serde_json loop doing the same
//! requests, in interleaved rounds. See bench/README.md.

mod callgrind;
mod floor;
mod mock;
mod report;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

use mock::{MockProcess, FIXTURE_MEMBERS};
use workload::{Case, Clients, Which, PAGE_LIMIT};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: parsec-teams-bench [--rounds N] [--quick] [--callgrind | --no-callgrind]
                          [--mock PATH] [--results PATH] [--no-write]

Runs the core (typed and call_json) and a bare reqwest + serde_json loop against
the mock server (started as a child process) in N interleaved rounds, prints a
Markdown table of medians and rewrites the \"## Rust core\" section of RESULTS.md.

  --rounds N        measured rounds (default 5; at least 3 to write RESULTS.md)
  --quick           a smoke run: 1/10 of the requests, 1 round, RESULTS.md untouched
  --callgrind       only the callgrind pass (instructions per members.get)
  --no-callgrind    skip the callgrind pass (run by default when valgrind is on PATH)
  --mock PATH       the parsec-teams-mock binary (default: next to this binary)
  --results PATH    the file to update (default: bench/RESULTS.md of the source tree)
  --no-write        print only";

/// What to run.
pub struct Options {
    pub rounds: usize,
    pub quick: bool,
    pub timed: bool,
    pub callgrind: bool,
    pub mock_bin: PathBuf,
    pub results: PathBuf,
    pub write: bool,
}

/// The request counts.
pub struct Counts {
    pub sequential: usize,
    pub concurrent: usize,
    pub pages: usize,
}

impl Counts {
    pub fn of(&self, case: Case) -> usize {
        match case {
            Case::Sequential => self.sequential,
            Case::Concurrent => self.concurrent,
            Case::Pages => self.pages,
        }
    }
}

fn parse_args() -> Result<Option<Options>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut o = Options {
        rounds: 5,
        quick: false,
        timed: true,
        callgrind: true,
        mock_bin: exe.with_file_name("parsec-teams-mock"),
        results: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/RESULTS.md")),
        write: true,
    };
    let mut explicit_callgrind = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--rounds" => o.rounds = value("--rounds")?.parse().ok().filter(|&n| n >= 1).ok_or("--rounds: a whole number >= 1")?,
            "--quick" => o.quick = true,
            "--callgrind" => {
                explicit_callgrind = true;
                o.timed = false;
                o.callgrind = true;
            }
            "--no-callgrind" => o.callgrind = false,
            "--mock" => o.mock_bin = value("--mock")?.into(),
            "--results" => o.results = value("--results")?.into(),
            "--no-write" => o.write = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.quick {
        o.rounds = 1;
        o.write = false;
    }
    if o.callgrind && !explicit_callgrind && !callgrind::available() {
        eprintln!("valgrind not found on PATH: skipping the callgrind pass");
        o.callgrind = false;
    }
    Ok(Some(o))
}

fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

fn main() -> ExitCode {
    // The callgrind pass re-runs this binary under valgrind in this mode.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(callgrind::CHILD_FLAG) {
        return match callgrind::child(&args[2..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("parsec-teams-bench (callgrind child): {e}");
                ExitCode::FAILURE
            }
        };
    }
    // Other languages' benches run this binary in this mode for the host's floor.
    if args.get(1).map(String::as_str) == Some(floor::FLAG) {
        return match floor::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("parsec-teams-bench (floor): {e}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("parsec-teams-bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parsec-teams-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(o: &Options) -> Result<(), BoxError> {
    let divisor = if o.quick { 10 } else { 1 };
    let counts = Counts { sequential: 2_000 / divisor, concurrent: 10_000 / divisor, pages: 500 / divisor };
    let mock = MockProcess::start(&o.mock_bin)?;
    eprintln!("mock: {} ({} members), client: {} worker threads", mock.base_url, FIXTURE_MEMBERS, 2);
    let timed = if o.timed { Some(timed_rounds(o, &counts, &mock)?) } else { None };
    let cg = if o.callgrind { Some(callgrind::run(&mock, o.quick)?) } else { None };
    drop(mock);

    let section = report::Section {
        timed: timed.as_ref().map(|samples| report::timed_markdown(samples, &counts, o.rounds)),
        callgrind: cg.as_ref().map(report::callgrind_markdown),
    };
    if let Some(t) = &section.timed {
        println!("{t}");
    }
    if let Some(c) = &section.callgrind {
        println!("{c}");
    }
    if o.write && o.rounds < 3 && o.timed {
        eprintln!("fewer than 3 rounds: {} left untouched", o.results.display());
    } else if o.write {
        report::update_results(&o.results, &section)?;
        eprintln!("updated the \"## Rust core\" section of {}", o.results.display());
    }
    Ok(())
}

/// The warm-up and the interleaved rounds; `samples[case][which]` per round.
fn timed_rounds(o: &Options, counts: &Counts, mock: &MockProcess) -> Result<report::Samples, BoxError> {
    let rt = runtime()?;
    let clients = Clients::from_mock(mock)?;
    let page_offsets = (FIXTURE_MEMBERS as i64 / PAGE_LIMIT).max(1);

    // Warm-up: fills both pools (64 connections each), the allocator and the caches.
    eprintln!("warm-up");
    for which in Which::ALL {
        clients.run(&rt, None, which, Case::Sequential, 200, page_offsets)?;
        clients.run(&rt, None, which, Case::Concurrent, 1_000, page_offsets)?;
        clients.run(&rt, None, which, Case::Pages, 25, page_offsets)?;
    }

    let mut samples = report::Samples::default();
    for round in 0..o.rounds {
        // Rotate the order (bare, core, json / core, json, bare / json, bare, core / ...)
        // so that every client runs first, second and last in turn.
        let order: Vec<Which> = (0..Which::ALL.len()).map(|k| Which::ALL[(round + k) % Which::ALL.len()]).collect();
        for case in Case::ALL {
            for &which in &order {
                let s = clients.run(&rt, Some(mock), which, case, counts.of(case), page_offsets)?;
                eprintln!(
                    "round {}/{}  {:<36} {:<17} {:>9.0} req/s  {:>7.1} µs CPU/req",
                    round + 1,
                    o.rounds,
                    case.label(),
                    which.label(),
                    s.rps(),
                    s.cpu_us()
                );
                samples.push(case, which, s);
            }
        }
    }
    Ok(samples)
}
