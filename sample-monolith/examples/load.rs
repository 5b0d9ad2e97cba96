//! A small load generator for the sample monolith, so its baseline throughput and latency can
//! be measured (and later compared with the same traffic through the strangler proxy). Client
//! threads send requests over loopback for a fixed time, one connection per request
//! (`Connection: close`), and the run ends with requests per second and latency percentiles.
//!
//! ```sh
//! target/release/examples/load --addr 127.0.0.1:3900 --clients 8 --seconds 10 --mix reads
//! ```
//!
//! `--mix reads` cycles through catalog, seat-map, review and quote requests; `--mix bookings`
//! has every client book a seat and cancel it again (two write transactions per round) on a
//! showtime it schedules for itself.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mix {
    Reads,
    Bookings,
}

struct Options {
    addr: SocketAddr,
    clients: usize,
    seconds: u64,
    mix: Mix,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:3000".parse().map_err(|e| format!("{e}"))?,
        clients: 8,
        seconds: 10,
        mix: Mix::Reads,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--addr" => options.addr = value.parse().map_err(|e| format!("--addr: {e}"))?,
            "--clients" => {
                options.clients = value.parse().map_err(|e| format!("--clients: {e}"))?;
            }
            "--seconds" => {
                options.seconds = value.parse().map_err(|e| format!("--seconds: {e}"))?;
            }
            "--mix" => {
                options.mix = match value.as_str() {
                    "reads" => Mix::Reads,
                    "bookings" => Mix::Bookings,
                    _ => return Err("--mix must be reads or bookings".into()),
                }
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if !(1..=64).contains(&options.clients) {
        return Err("--clients must be 1-64".into());
    }
    if !(1..=600).contains(&options.seconds) {
        return Err("--seconds must be 1-600".into());
    }
    Ok(options)
}

/// Sends one request; returns the status and body.
fn send(addr: SocketAddr, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// The first `"id":N` of a JSON body.
fn first_id(body: &str) -> Option<i64> {
    let rest = body.split_once("\"id\":")?.1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

struct ClientResult {
    latencies: Vec<Duration>,
    failures: usize,
}

fn run_client(options: &Options, index: usize, stop: &AtomicBool) -> Result<ClientResult, String> {
    let addr = options.addr;
    let mut latencies = Vec::new();
    let mut failures = 0;
    let mut timed = |method: &str, path: &str, body: &str, expect: u16| {
        let started = Instant::now();
        let outcome = send(addr, method, path, body);
        latencies.push(started.elapsed());
        match outcome {
            Ok((status, body)) if status == expect => Some(body),
            _ => {
                failures += 1;
                None
            }
        }
    };
    match options.mix {
        Mix::Reads => {
            let requests: [(&str, &str, &str); 5] = [
                ("GET", "/api/movies?per_page=10", ""),
                ("GET", "/api/movies/1", ""),
                ("GET", "/api/showtimes/1/seats", ""),
                ("GET", "/api/movies/1/reviews", ""),
                (
                    "POST",
                    "/api/fares/quote",
                    r#"{"showtime_id":1,"seats":["D4","D5"]}"#,
                ),
            ];
            let mut round = index;
            while !stop.load(Ordering::Relaxed) {
                let (method, path, body) = requests[round % requests.len()];
                timed(method, path, body, 200);
                round += 1;
            }
        }
        Mix::Bookings => {
            let (_, customer) = send(
                addr,
                "POST",
                "/api/customers",
                &format!(
                    r#"{{"email":"load{index}-{}@example.org","full_name":"Load"}}"#,
                    std::process::id()
                ),
            )
            .map_err(|e| e.to_string())?;
            let customer = first_id(&customer).ok_or("cannot create a customer")?;
            // One showtime per client, on distinct days so they never overlap.
            let day = 1 + (index % 28);
            let month = 1 + (index / 28) % 12;
            let (_, movie) = send(
                addr,
                "POST",
                "/api/movies",
                &format!(
                    r#"{{"title":"Load {index} {}","genre":"drama","duration_minutes":90,"age_rating":"PG","release_year":2026}}"#,
                    std::process::id()
                ),
            )
            .map_err(|e| e.to_string())?;
            let movie = first_id(&movie).ok_or("cannot create a movie")?;
            let (_, showtime) = send(
                addr,
                "POST",
                "/api/showtimes",
                &format!(
                    r#"{{"movie_id":{movie},"screen_id":1,"starts_at":"2099-{month:02}-{day:02}T{:02}:00:00Z","base_price_cents":1000}}"#,
                    8 + (std::process::id() % 12)
                ),
            )
            .map_err(|e| e.to_string())?;
            let showtime = first_id(&showtime)
                .ok_or("cannot schedule a showtime (run on a fresh database)")?;
            let order =
                format!(r#"{{"customer_id":{customer},"showtime_id":{showtime},"seats":["E5"]}}"#);
            while !stop.load(Ordering::Relaxed) {
                if let Some(body) = timed("POST", "/api/bookings", &order, 201)
                    && let Some(booking) = first_id(&body)
                {
                    timed("POST", &format!("/api/bookings/{booking}/cancel"), "", 200);
                }
            }
        }
    }
    Ok(ClientResult {
        latencies,
        failures,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => Arc::new(options),
        Err(message) => {
            eprintln!("load: {message}");
            return ExitCode::from(2);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..options.clients)
        .map(|index| {
            let options = Arc::clone(&options);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || run_client(&options, index, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(options.seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut failures = 0;
    for handle in handles {
        match handle.join() {
            Ok(Ok(result)) => {
                latencies.extend(result.latencies);
                failures += result.failures;
            }
            Ok(Err(message)) => {
                eprintln!("load: a client could not start: {message}");
                return ExitCode::FAILURE;
            }
            Err(_) => {
                eprintln!("load: a client thread panicked");
                return ExitCode::FAILURE;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "mix={} clients={} seconds={:.1} requests={} failures={} rps={:.0} p50={:.2}ms p99={:.2}ms max={:.2}ms",
        if options.mix == Mix::Reads {
            "reads"
        } else {
            "bookings"
        },
        options.clients,
        elapsed,
        latencies.len(),
        failures,
        latencies.len() as f64 / elapsed,
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    if failures > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
