//! The C-layer benchmark (`make -C bindings-c bench`): 10,000 `members.get`
//! calls from 8 threads through the C library (`bench_members_get`, a C
//! program linked with libparsec_teams.so) versus the same calls through the
//! Rust core directly (8 threads blocking on one shared runtime, exactly the C
//! layer's threading model), in interleaved rounds against one mock server
//! running in its own process. A third, informational column runs the calls
//! as 8 async tasks (how a Rust program would usually write it).
//!
//! Reports medians of throughput and client CPU time per call (getrusage of
//! the client process: user + system, measured part only) and writes
//! bench/c/RESULTS.md.
//!
//! cargo run --release -p parsec-teams-c --example bench-c-layer -- \
//!     --mock target/release/parsec-teams-mock --c-bench bindings-c/build/bench_members_get \
//!     --output bench/c/RESULTS.md [--rounds 21] [--calls 10000] [--threads 8] [--warmup 400]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use parsec_teams::{Client, ClientOptions, HttpMethod};
use serde_json::Value;

struct Args {
    mock: String,
    c_bench: String,
    output: String,
    rounds: usize,
    calls: usize,
    threads: usize,
    warmup: usize,
    /// Internal: run one side in this (fresh) process and print its sample.
    child: Option<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        mock: String::new(),
        c_bench: String::new(),
        output: "bench/c/RESULTS.md".into(),
        rounds: 21,
        calls: 10_000,
        threads: 8,
        warmup: 400,
        child: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--mock" => a.mock = v.clone(),
            "--c-bench" => a.c_bench = v.clone(),
            "--output" => a.output = v.clone(),
            "--rounds" => a.rounds = v.parse().expect("--rounds"),
            "--calls" => a.calls = v.parse().expect("--calls"),
            "--threads" => a.threads = v.parse().expect("--threads"),
            "--warmup" => a.warmup = v.parse().expect("--warmup"),
            "--child" => a.child = Some(v.clone()),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(a.child.is_some() || (!a.mock.is_empty() && !a.c_bench.is_empty()), "--mock and --c-bench are required");
    a
}

/// CPU time (user + system) of this process, in seconds.
fn cpu_s() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

#[derive(Clone, Copy)]
struct Sample {
    wall_s: f64,
    cpu_s: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    C,
    RustThreads,
    RustAsync,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::C => "C library (pt_members_get, 8 pthreads)",
            Side::RustThreads => "Rust core directly (8 threads, block_on)",
            Side::RustAsync => "Rust core directly (8 async tasks), informational",
        }
    }
}

struct Mock {
    child: Child,
    base_url: String,
    api_key: String,
}

fn start_mock(path: &str) -> Mock {
    let mut child =
        Command::new(path).args(["--port", "0"]).stdout(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("mock line");
    let v: Value = serde_json::from_str(&line).expect("mock JSON line");
    Mock {
        child,
        base_url: v["base_url"].as_str().expect("base_url").to_owned(),
        api_key: v["api_key"].as_str().expect("api_key").to_owned(),
    }
}

fn split(calls: usize, threads: usize, i: usize) -> (usize, usize) {
    let first = i * (calls / threads);
    let count = calls / threads + usize::from(i < calls % threads);
    (first, count)
}

fn rust_threads(rt: &tokio::runtime::Runtime, client: &Client, calls: usize, threads: usize) {
    std::thread::scope(|s| {
        for i in 0..threads {
            s.spawn(move || {
                let (first, count) = split(calls, threads, i);
                for k in 0..count {
                    let user = 1 + ((first + k) % 50) as i64;
                    rt.block_on(client.members().get(user)).expect("members.get");
                }
            });
        }
    });
}

fn rust_async(rt: &tokio::runtime::Runtime, client: &Arc<Client>, calls: usize, threads: usize) {
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..threads {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let (first, count) = split(calls, threads, i);
                for k in 0..count {
                    let user = 1 + ((first + k) % 50) as i64;
                    client.members().get(user).await.expect("members.get");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    });
}

/// Runs one side in a fresh process (the C program, or this program with
/// `--child`), so every side pays the same process, runtime and warm-up costs.
fn run_side(args: &Args, mock: &Mock, side: Side) -> Sample {
    let counts = [args.calls.to_string(), args.threads.to_string(), args.warmup.to_string()];
    let mut cmd = match side {
        Side::C => {
            let mut c = Command::new(&args.c_bench);
            c.args(&counts);
            c
        }
        Side::RustThreads | Side::RustAsync => {
            let mut c = Command::new(std::env::current_exe().expect("own path"));
            let mode = if side == Side::RustThreads { "threads" } else { "async" };
            c.args(["--child", mode, "--calls", &counts[0], "--threads", &counts[1]]);
            c.args(["--warmup", &counts[2]]);
            c
        }
    };
    let out = cmd.env("PARSEC_BASE_URL", &mock.base_url).env("PARSEC_API_KEY", &mock.api_key).output().expect("run a benchmark side");
    assert!(out.status.success(), "{} failed: {}", side.label(), String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("benchmark JSON line");
    assert_eq!(v["errors"], 0);
    Sample { wall_s: v["wall_s"].as_f64().unwrap(), cpu_s: v["cpu_s"].as_f64().unwrap() }
}

/// `--child threads|async`: the Rust core directly, measured like the C program.
fn child(args: &Args, mode: &str) {
    // The same runtime the C library builds: multi-thread, default workers.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let client = Arc::new(Client::new(ClientOptions::new().language("rust bench")).expect("client from env"));
    let run = |calls: usize| match mode {
        "threads" => rust_threads(&rt, &client, calls, args.threads),
        _ => rust_async(&rt, &client, calls, args.threads),
    };
    run(args.warmup);
    let (t0, c0) = (Instant::now(), cpu_s());
    run(args.calls);
    let (cpu, wall) = (cpu_s() - c0, t0.elapsed().as_secs_f64());
    println!("{{\"calls\": {}, \"threads\": {}, \"errors\": 0, \"wall_s\": {wall:.6}, \"cpu_s\": {cpu:.6}}}", args.calls, args.threads);
}

/// A 95% bootstrap interval of the median (2,000 resamples, fixed seed).
fn ci(v: &[f64]) -> (f64, f64) {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut medians: Vec<f64> = (0..2000).map(|_| median((0..v.len()).map(|_| v[(next() % v.len() as u64) as usize]).collect())).collect();
    medians.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (medians[50], medians[1949])
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `--child paired`: the layer alone. In ONE process, the same 8 threads
/// alternate batches of calls through the C entry point (`pt_members_get`,
/// from this crate's rlib: the code of libparsec_teams) and through the core
/// directly, so slow drifts of the machine's load hit both sides alike.
fn paired(args: &Args) {
    use parsec_teams_c::{operations::pt_members_get, pt_client, pt_error, pt_status};
    use std::ffi::{c_char, CString};

    struct Shared(*mut pt_client);
    // SAFETY: a pt_client is thread-safe (documented in the header).
    unsafe impl Sync for Shared {}

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let direct = Client::new(ClientOptions::new().language("rust bench")).expect("client");
    let mut err: *mut pt_error = std::ptr::null_mut();
    let c_client = Shared(unsafe { parsec_teams_c::client::pt_client_new(std::ptr::null(), &mut err) });
    assert!(!c_client.0.is_null(), "pt_client_new failed");
    let params: Vec<CString> = (1..=50).map(|u| CString::new(format!("{{\"user_id\": {u}}}")).unwrap()).collect();
    let batch = 1_000usize;
    let run = |via_c: bool, calls: usize| {
        std::thread::scope(|s| {
            for i in 0..args.threads {
                let (c_client, params, direct, rt) = (&c_client, &params, &direct, &rt);
                s.spawn(move || {
                    let (first, count) = split(calls, args.threads, i);
                    for k in 0..count {
                        let user = (first + k) % 50;
                        if via_c {
                            let mut out: *mut c_char = std::ptr::null_mut();
                            let st = unsafe { pt_members_get(c_client.0, params[user].as_ptr(), &mut out, std::ptr::null_mut()) };
                            assert_eq!(st, pt_status::PT_OK);
                            unsafe { parsec_teams_c::pt_string_free(out) };
                        } else {
                            rt.block_on(direct.members().get(user as i64 + 1)).expect("members.get");
                        }
                    }
                });
            }
        });
    };
    run(true, args.warmup);
    run(false, args.warmup);
    let mut rows = Vec::new();
    let batches = (args.calls * 4 / batch).max(2);
    for b in 0..batches {
        for via_c in [b % 2 == 0, b % 2 == 1] {
            let (t0, c0) = (Instant::now(), cpu_s());
            run(via_c, batch);
            rows.push(serde_json::json!({
                "c": via_c, "wall_s": t0.elapsed().as_secs_f64(), "cpu_s": cpu_s() - c0, "calls": batch,
            }));
        }
    }
    unsafe { parsec_teams_c::client::pt_client_free(c_client.0) };
    println!("{}", Value::Array(rows));
}

fn main() {
    let args = parse_args();
    match args.child.as_deref() {
        Some("paired") => return paired(&args),
        Some(mode) => return child(&args, mode),
        None => {}
    }
    let mock = start_mock(&args.mock);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let control = Client::new(ClientOptions::new().api_key(mock.api_key.clone()).base_url(mock.base_url.clone())).expect("client");
    let reset = || {
        rt.block_on(control.request(HttpMethod::Post, "/_mock/reset", &[], None)).expect("reset");
    };

    let sides = [Side::C, Side::RustThreads, Side::RustAsync];
    let mut samples: Vec<(usize, Side, Sample)> = Vec::new();
    for round in 0..args.rounds {
        for k in 0..sides.len() {
            let side = sides[(round + k) % sides.len()];
            reset();
            let sample = run_side(&args, &mock, side);
            eprintln!(
                "round {}: {:<52} {:>8.0} calls/s  {:>6.1} us CPU/call",
                round + 1,
                side.label(),
                args.calls as f64 / sample.wall_s,
                sample.cpu_s / args.calls as f64 * 1e6
            );
            samples.push((round, side, sample));
        }
    }
    reset();
    let out = Command::new(std::env::current_exe().expect("own path"))
        .args(["--child", "paired", "--calls", &args.calls.to_string()])
        .args(["--threads", &args.threads.to_string(), "--warmup", &args.warmup.to_string()])
        .args(["--rounds", &args.rounds.to_string()])
        .env("PARSEC_BASE_URL", &mock.base_url)
        .env("PARSEC_API_KEY", &mock.api_key)
        .output()
        .expect("run the paired side");
    assert!(out.status.success(), "paired run failed: {}", String::from_utf8_lossy(&out.stderr));
    let pairs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("paired JSON");
    let side_of = |c: bool| -> Vec<&Value> { pairs.iter().filter(|v| v["c"] == c).collect() };
    let (pc, pr) = (side_of(true), side_of(false));
    let sum = |v: &[&Value], k: &str| v.iter().map(|x| x[k].as_f64().unwrap()).sum::<f64>();
    let paired_calls = pc.iter().map(|x| x["calls"].as_f64().unwrap()).sum::<f64>();
    let p_tput = (sum(&pc, "wall_s") / sum(&pr, "wall_s")).recip();
    let p_cpu = sum(&pc, "cpu_s") / sum(&pr, "cpu_s");
    let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
    let p_tput_ratios: Vec<f64> = pc.iter().zip(&pr).map(|(c, r)| f(r, "wall_s") / f(c, "wall_s")).collect();
    let p_cpu_ratios: Vec<f64> = pc.iter().zip(&pr).map(|(c, r)| f(c, "cpu_s") / f(r, "cpu_s")).collect();
    eprintln!("paired in-process (totals): throughput {p_tput:.3}x, CPU {p_cpu:.3}x");

    let mut mock = mock;
    unsafe { libc::kill(mock.child.id() as libc::pid_t, libc::SIGTERM) };
    let _ = mock.child.wait();

    let stat = |side: Side| {
        let rows: Vec<Sample> = samples.iter().filter(|(_, s, _)| *s == side).map(|(_, _, x)| *x).collect();
        let tput = median(rows.iter().map(|x| args.calls as f64 / x.wall_s).collect());
        let cpu = median(rows.iter().map(|x| x.cpu_s / args.calls as f64 * 1e6).collect());
        (tput, cpu)
    };
    let (c_tput, c_cpu) = stat(Side::C);
    let (r_tput, r_cpu) = stat(Side::RustThreads);
    let (a_tput, a_cpu) = stat(Side::RustAsync);
    let tput_ratio = c_tput / r_tput;
    let cpu_ratio = c_cpu / r_cpu;
    // Per-round ratios (each round runs both sides back to back).
    let per_round = |f: &dyn Fn(&Sample) -> f64| -> Vec<f64> {
        (0..args.rounds)
            .map(|r| {
                let get = |side: Side| samples.iter().find(|(rr, s, _)| *rr == r && *s == side).map(|(_, _, x)| f(x)).unwrap();
                get(Side::C) / get(Side::RustThreads)
            })
            .collect()
    };
    let round_tput_ratios = per_round(&|x| 1.0 / x.wall_s);
    let round_cpu_ratios = per_round(&|x| x.cpu_s);
    // A ratio's median with its 95% bootstrap interval, and what it says
    // about the 5% target (`higher_is_better`: throughput).
    let judge = |ratios: &[f64], higher_is_better: bool| -> String {
        let (m, lo, hi) = (median(ratios.to_vec()), ci(ratios).0, ci(ratios).1);
        let cost = |r: f64| if higher_is_better { 1.0 - r } else { r - 1.0 };
        let (best, worst) = if higher_is_better { (cost(hi), cost(lo)) } else { (cost(lo), cost(hi)) };
        let verdict = if worst < 0.05 {
            "within the 5% target"
        } else if cost(m) >= 0.05 && best >= 0.05 {
            "OUTSIDE the 5% target"
        } else if cost(m) < 0.05 {
            "median within the 5% target; the interval is wider than this run's noise allows to settle"
        } else {
            "median OUTSIDE the 5% target, interval crosses it"
        };
        format!("**{m:.3}x** (95% CI {lo:.3}-{hi:.3}): {verdict}")
    };
    let mut md = String::new();
    md.push_str("## C library (`bindings-c`): the cost of the C layer\n\n");
    md.push_str(&format!(
        "{} `members.get` calls from {} threads, one shared client, against the mock server \
         (`parsec-teams-mock`, its own process, loopback), {} interleaved rounds (the order of \
         the sides rotates every round), {} warm-up calls per side not measured. Medians. \
         Every side runs in a fresh client process of its own, warmed up the same way. \
         CPU = user + system time of the client process (getrusage) during the measured calls, \
         divided by the number of calls. Machine: {} cores, shared with other builds while \
         this ran. Regenerate with `make -C bindings-c bench`.\n\n",
        args.calls,
        args.threads,
        args.rounds,
        args.warmup,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    ));
    md.push_str("| side | calls/s (median) | CPU us/call (median) |\n| --- | ---: | ---: |\n");
    for (side, t, c) in [(Side::C, c_tput, c_cpu), (Side::RustThreads, r_tput, r_cpu), (Side::RustAsync, a_tput, a_cpu)] {
        md.push_str(&format!("| {} | {:.0} | {:.1} |\n", side.label(), t, c));
    }
    md.push_str(&format!(
        "\n**C layer vs the Rust core (same threading model)**, ratios of the two sides within \
         each round (C / Rust), median over the rounds: throughput {}; CPU per call {}. \
         (Ratio of the medians above: throughput {:.3}x, CPU {:.3}x.)\n\n",
        judge(&round_tput_ratios, true),
        judge(&round_cpu_ratios, false),
        tput_ratio,
        cpu_ratio,
    ));
    md.push_str(&format!(
        "**The layer alone, paired in one process:** the same {} threads alternate batches \
         of 1,000 calls through the C entry point `pt_members_get` (this crate's code, \
         called through its C ABI) and through the core directly ({} calls per side in \
         all), so load drifts hit both alike. Per-pair ratios (C / Rust): throughput {}; \
         CPU per call {}. (Totals: throughput {:.3}x, CPU {:.3}x.)\n\n",
        args.threads,
        paired_calls,
        judge(&p_tput_ratios, true),
        judge(&p_cpu_ratios, false),
        p_tput,
        p_cpu,
    ));
    md.push_str(
        "What the C layer adds per call: parsing the params JSON, looking the operation up, \
         serializing the result to a C string and freeing it (`pt_string_free`); the HTTP \
         round trip, validation, retries and decoding are the core's in both columns. The \
         Rust columns decode into the typed `Member` model; the C column takes the member \
         object out of the `{\"data\": ...}` envelope as raw JSON text (the core's decoding, \
         into `serde_json::value::RawValue`) and copies it into the C string. The machine is \
         shared and noisy: single rounds vary by +-20%, which is why the sides are interleaved \
         and medians compared; the per-round ratios pair runs made back to back.\n\n",
    );
    md.push_str("<details><summary>Every round</summary>\n\n| round | side | calls/s | CPU us/call |\n| ---: | --- | ---: | ---: |\n");
    for (r, side, x) in &samples {
        md.push_str(&format!(
            "| {} | {} | {:.0} | {:.1} |\n",
            r + 1,
            side.label(),
            args.calls as f64 / x.wall_s,
            x.cpu_s / args.calls as f64 * 1e6
        ));
    }
    md.push_str("\n</details>\n");
    std::fs::write(&args.output, &md).expect("write results");
    println!("{md}");
}
