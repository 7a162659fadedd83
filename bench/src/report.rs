//! Medians, the Markdown table and the "## Rust core" section of RESULTS.md.

use std::fmt::Write as _;
use std::path::Path;

use crate::callgrind::{Callgrind, CgCase, Row};
use crate::workload::{Case, Sample, Which, CONCURRENCY, GET_IDS, PAGE_LIMIT};
use crate::{BoxError, Counts};

/// The target of the issue: the core at least this fraction of the bare loop.
pub const TARGET: f64 = 0.95;

const HEADING: &str = "## Rust core";
const TIMED: (&str, &str) = ("<!-- rust-core:timed -->", "<!-- /rust-core:timed -->");
const CALLGRIND: (&str, &str) = ("<!-- rust-core:callgrind -->", "<!-- /rust-core:callgrind -->");

/// Every measured sample, by case and client.
#[derive(Default)]
pub struct Samples {
    by: [[Vec<Sample>; 3]; 3],
}

fn case_index(c: Case) -> usize {
    Case::ALL.iter().position(|&x| x == c).unwrap_or(0)
}
fn which_index(w: Which) -> usize {
    Which::ALL.iter().position(|&x| x == w).unwrap_or(0)
}

impl Samples {
    pub fn push(&mut self, case: Case, which: Which, s: Sample) {
        self.by[case_index(case)][which_index(which)].push(s);
    }
    fn get(&self, case: Case, which: Which) -> &[Sample] {
        &self.by[case_index(case)][which_index(which)]
    }
    fn stats(&self, case: Case, which: Which) -> Stats {
        let s = self.get(case, which);
        let rps: Vec<f64> = s.iter().map(Sample::rps).collect();
        Stats {
            rps: median(&rps),
            rps_min: rps.iter().copied().fold(f64::INFINITY, f64::min),
            rps_max: rps.iter().copied().fold(0.0, f64::max),
            cpu_us: median(&s.iter().map(Sample::cpu_us).collect::<Vec<_>>()),
            mock_cpu_us: {
                let m: Vec<f64> = s.iter().filter_map(Sample::mock_cpu_us).collect();
                (!m.is_empty()).then(|| median(&m))
            },
        }
    }
}

struct Stats {
    rps: f64,
    rps_min: f64,
    rps_max: f64,
    cpu_us: f64,
    mock_cpu_us: Option<f64>,
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn ratio_cell(r: f64) -> String {
    if r >= TARGET {
        format!("{r:.2}")
    } else {
        format!("**{r:.2}** ✗")
    }
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} CPUs (nproc), {model}")
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The timed part: setup, the table, the ceiling and a reading of the result.
pub fn timed_markdown(samples: &Samples, counts: &Counts, rounds: usize) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Run {} on {}, release build, {rounds} interleaved rounds (the order of the clients \
         rotating from round to round), after a warm-up; figures are medians over the rounds. The mock is \
         the `parsec-teams-mock` release binary in its own process (fixture of 1,000 \
         members), so the client CPU (getrusage `RUSAGE_SELF`: every thread of the bench \
         process) holds no server work. Client: one multi-thread tokio runtime with 2 \
         workers, one shared client per column. Requests: {} sequential `members.get`, {} \
         `members.get` from {CONCURRENCY} tasks, {} sequential `members.list(limit={PAGE_LIMIT})` \
         pages; ids cycle over members 1..{GET_IDS}, page offsets over the fixture.\n",
        now(),
        machine(),
        thousands(counts.sequential as f64),
        thousands(counts.concurrent as f64),
        thousands(counts.pages as f64),
    );
    md.push_str(
        "| Case | Client | req/s | req/s min–max | CPU µs/req | req/s core/bare | CPU bare/core | mock CPU µs/req |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut misses = Vec::new();
    let mut worst: Option<(f64, String)> = None;
    for case in Case::ALL {
        let bare = samples.stats(case, Which::Bare);
        for which in Which::ALL {
            let s = samples.stats(case, which);
            let (r_rps, r_cpu) = if which == Which::Bare {
                ("—".to_owned(), "—".to_owned())
            } else {
                let rr = s.rps / bare.rps;
                let rc = bare.cpu_us / s.cpu_us;
                for (what, r) in [("req/s", rr), ("CPU", rc)] {
                    let name = format!("{} / {} / {what}", case.label(), which.label());
                    if r < TARGET {
                        misses.push(format!("{name} {r:.2}"));
                    }
                    if worst.as_ref().is_none_or(|(w, _)| r < *w) {
                        worst = Some((r, name));
                    }
                }
                (ratio_cell(rr), ratio_cell(rc))
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {}–{} | {:.1} | {} | {} | {} |",
                case.label(),
                which.label(),
                thousands(s.rps),
                thousands(s.rps_min),
                thousands(s.rps_max),
                s.cpu_us,
                r_rps,
                r_cpu,
                s.mock_cpu_us.map_or("—".to_owned(), |m| format!("{m:.1}")),
            );
        }
    }

    // The mock's ceiling: the bare loop at concurrency 64; and the mock's own
    // capacity estimate (cores / its CPU per request) for each case.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let ceiling = samples.stats(Case::Concurrent, Which::Bare).rps;
    let best = |case: Case| Which::ALL.iter().map(|&w| samples.stats(case, w).rps).fold(0.0, f64::max);
    let seq_best = best(Case::Sequential);
    let _ = writeln!(
        md,
        "\n**Mock ceiling** (the bare loop at concurrency {CONCURRENCY}, client and mock sharing \
         the {cores} cores): **{} req/s** of `members.get`. The fastest sequential client ran at \
         {} req/s = {:.0}% of it. The mock's own CPU per request (from /proc, last column) \
         puts its capacity with all {cores} cores to itself at about {} `members.get`/s and \
         {} pages of {PAGE_LIMIT}/s, against at most {} pages/s for any client.",
        thousands(ceiling),
        thousands(seq_best),
        100.0 * seq_best / ceiling,
        capacity(samples, Case::Sequential, cores),
        capacity(samples, Case::Pages, cores),
        thousands(best(Case::Pages)),
    );

    let _ = writeln!(md, "\n**Reading.** {}", reading(samples, &misses, worst, ceiling, seq_best));
    md
}

fn capacity(samples: &Samples, case: Case, cores: f64) -> String {
    capacity_rps(samples, case, cores).map_or_else(|| "? (no /proc)".to_owned(), thousands)
}

/// Requests/s the mock could serve with every core to itself: cores / its CPU per request.
fn capacity_rps(samples: &Samples, case: Case, cores: f64) -> Option<f64> {
    let m: Vec<f64> = Which::ALL.iter().filter_map(|&w| samples.stats(case, w).mock_cpu_us).collect();
    (!m.is_empty()).then(|| cores * 1e6 / median(&m))
}

fn reading(samples: &Samples, misses: &[String], worst: Option<(f64, String)>, ceiling: f64, seq_best: f64) -> String {
    let mut t = String::new();
    if misses.is_empty() {
        let _ = write!(t, "The core meets the {TARGET:.2}x target on every case in both figures");
        if let Some((w, name)) = &worst {
            let _ = write!(t, " (lowest ratio {w:.2}: {name})");
        }
        t.push_str(". ");
    } else {
        let _ = write!(t, "The core misses the {TARGET:.2}x target on {} of 12 figures: {}. ", misses.len(), misses.join("; "));
    }
    let cpu = |c: Case, w: Which| samples.stats(c, w).cpu_us;
    let _ = write!(
        t,
        "Per request the core spends {:+.1} µs (typed) and {:+.1} µs (call_json) of client CPU \
         over the bare loop on a sequential `members.get` (bare: {:.1} µs), and {:+.1} / {:+.1} µs \
         on a page of {PAGE_LIMIT} (bare: {:.1} µs). ",
        cpu(Case::Sequential, Which::Core) - cpu(Case::Sequential, Which::Bare),
        cpu(Case::Sequential, Which::CoreJson) - cpu(Case::Sequential, Which::Bare),
        cpu(Case::Sequential, Which::Bare),
        cpu(Case::Pages, Which::Core) - cpu(Case::Pages, Which::Bare),
        cpu(Case::Pages, Which::CoreJson) - cpu(Case::Pages, Which::Bare),
        cpu(Case::Pages, Which::Bare),
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let capacity = capacity_rps(samples, Case::Sequential, cores);
    if seq_best < 0.5 * ceiling {
        t.push_str(
            "The sequential cases stay well under the mock's ceiling, so they measure the \
             clients' latency and CPU, not the mock. ",
        );
    } else if let Some(cap) = capacity.filter(|&c| seq_best < 0.5 * c) {
        let _ = write!(
            t,
            "The measured ceiling is low because other work loads this machine: it is not \
             2x above the fastest sequential client. The mock's own CPU per request, though, \
             gives it a capacity of about {} `members.get`/s ({:.1}x that client), so the \
             mock's work is not what limits the sequential cases: the shared cores are. ",
            thousands(cap),
            cap / seq_best
        );
    } else {
        t.push_str(
            "Warning: a sequential client came within 2x of the mock's ceiling and of its \
             capacity; the mock may be what limits it. ",
        );
    }
    t.push_str(
        "At concurrency 64 the client and the mock compete for the same cores, so the bare \
         loop's rate there *is* the ceiling and a client's rate mostly reflects how much CPU it \
         leaves the mock: the CPU µs/req column is the cleaner figure for that case. The \
         machine is shared and noisy (see the min–max column); CPU time is steadier than wall \
         time, and the callgrind counts below are steadier still.",
    );
    t
}

/// The callgrind part.
pub fn callgrind_markdown(cg: &Callgrind) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Instructions (Ir) per request under `valgrind --tool=callgrind` ({}), measured {}: the \
         whole client process on a current-thread tokio runtime (the mock runs natively, \
         untraced), sequential requests, N and 2N of them; Ir/request = (I(2N) − I(N)) / N, \
         which cancels the setup. User-space instructions only (no kernel time), but \
         repeatable run to run, unlike wall time on this machine.\n",
        cg.valgrind,
        now(),
    );
    md.push_str(
        "| Case | Client | N | Ir total, N | Ir total, 2N | Ir/request | Ir bare/client |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    for r in &cg.rows {
        let bare = cg.rows.iter().find(|b| b.case == r.case && b.which == Which::Bare).map(Row::per_request);
        let per = r.per_request();
        let ratio = match (r.which, bare) {
            (Which::Bare, _) | (_, None) => "—".to_owned(),
            (_, Some(b)) => ratio_cell(b / per),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.case.label(),
            r.which.label(),
            thousands(r.n as f64),
            thousands(r.small as f64),
            thousands(r.large as f64),
            thousands(per),
            ratio
        );
    }
    let per = |case: CgCase, which: Which| cg.rows.iter().find(|r| r.case == case && r.which == which).map(Row::per_request);
    let mut reading = Vec::new();
    for case in [CgCase::Get, CgCase::Pages] {
        if let (Some(b), Some(c), Some(j)) = (per(case, Which::Bare), per(case, Which::Core), per(case, Which::CoreJson)) {
            reading.push(format!(
                "on `{}` the typed core runs {:+.1}% instructions and call_json {:+.1}% against the bare loop ({:+.0} / {:+.0} Ir per request)",
                case.label(),
                100.0 * (c / b - 1.0),
                100.0 * (j / b - 1.0),
                c - b,
                j - b
            ));
        }
    }
    if !reading.is_empty() {
        let _ = writeln!(
            md,
            "\n**Reading.** In user-space instructions, {}. The `members.get` counts repeat to within 0.01% between \
             runs; pages, dominated by JSON decoding and malloc, to within about 1%.",
            reading.join("; ")
        );
    }
    md
}

/// The parts of the section this run produced (`None` = keep the old one).
pub struct Section {
    pub timed: Option<String>,
    pub callgrind: Option<String>,
}

/// Rewrites the "## Rust core" section of `path` (created if missing), keeping
/// the other sections and, for a part not run now, the previous text.
pub fn update_results(path: &Path, section: &Section) -> Result<(), BoxError> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let (before, old_section, after) = split_section(&old);
    let keep = |marks: (&str, &str), new: &Option<String>| -> String {
        match new {
            Some(t) => t.trim_end().to_owned(),
            None => between(old_section, marks).map(|t| t.trim().to_owned()).unwrap_or_else(|| "(not run yet: `bench/run.sh`)".to_owned()),
        }
    };
    let timed = keep(TIMED, &section.timed);
    let cg = keep(CALLGRIND, &section.callgrind);
    let body = format!(
        "{HEADING}\n\n\
         Written by `bench/run.sh` (`make bench`); do not edit by hand. The core of \
         `parsec-teams` against the mock, side by side with a bare reqwest + serde_json loop \
         doing the same requests. Ratios: req/s core/bare, CPU bare/core; both must be \
         ≥ {TARGET:.2} (✗ marks a miss). See bench/README.md for the method.\n\n\
         {}\n{timed}\n{}\n\n### Instructions per request (callgrind)\n\n{}\n{cg}\n{}\n",
        TIMED.0, TIMED.1, CALLGRIND.0, CALLGRIND.1
    );
    let mut out = String::new();
    if before.trim().is_empty() {
        out.push_str("# Benchmarks\n\n");
    } else {
        out.push_str(before.trim_end());
        out.push_str("\n\n");
    }
    out.push_str(&body);
    if !after.trim().is_empty() {
        out.push('\n');
        out.push_str(after.trim_start());
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// (text before the section, the section, text after it). A missing section
/// is empty and goes at the end.
fn split_section(text: &str) -> (&str, &str, &str) {
    let start = text
        .match_indices(HEADING)
        .find(|(i, _)| {
            (*i == 0 || text[..*i].ends_with('\n')) && text[i + HEADING.len()..].chars().next().is_none_or(|c| c == '\n' || c == '\r')
        })
        .map(|(i, _)| i);
    let Some(start) = start else {
        return (text, "", "");
    };
    let rest = &text[start + HEADING.len()..];
    let end = rest.find("\n## ").map_or(text.len(), |i| start + HEADING.len() + i + 1);
    (&text[..start], &text[start..end], &text[end..])
}

fn between<'a>(text: &'a str, (open, close): (&str, &str)) -> Option<&'a str> {
    let a = text.find(open)? + open.len();
    let b = a + text[a..].find(close)?;
    Some(&text[a..b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
    }

    #[test]
    fn section_is_replaced_in_place() {
        let text = "# Benchmarks\n\n## Python\n\npy\n\n## Rust core\n\nold\n\n## Node\n\nnode\n";
        let (a, s, b) = split_section(text);
        assert_eq!(a, "# Benchmarks\n\n## Python\n\npy\n\n");
        assert_eq!(s, "## Rust core\n\nold\n\n");
        assert_eq!(b, "## Node\n\nnode\n");
        let (a, s, b) = split_section("# B\n\n## Rust core extra\n");
        assert_eq!((a, s, b), ("# B\n\n## Rust core extra\n", "", ""));
    }

    #[test]
    fn update_keeps_other_sections_and_parts() {
        let dir = std::env::temp_dir().join(format!("pt-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("RESULTS.md");
        std::fs::write(&path, "# Benchmarks\n\n## Python\n\npy table\n").unwrap();
        update_results(&path, &Section { timed: Some("TIMED-1".into()), callgrind: Some("CG-1".into()) }).unwrap();
        update_results(&path, &Section { timed: Some("TIMED-2".into()), callgrind: None }).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Benchmarks\n\n## Python\n\npy table\n\n## Rust core\n"));
        assert!(text.contains("TIMED-2") && !text.contains("TIMED-1"));
        assert!(text.contains("CG-1"));
        assert_eq!(text.matches("## Rust core").count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
