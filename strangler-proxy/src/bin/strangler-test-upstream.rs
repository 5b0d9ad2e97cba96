//! A small HTTP upstream that runs as its own process, for the proxy's chaos tests and the shadow
//! benchmark: a test can kill it (a real crash: sockets reset, nothing answers) and start it again
//! on the same port, which an in-process upstream cannot imitate faithfully.
//!
//! ```text
//! strangler-test-upstream --name NAME [--listen 127.0.0.1:0] [--fail-method POST]...
//!     [--hang] [--field KEY=JSON]... [--set-cookie VALUE] [--stop-on-eof]
//! ```
//!
//! It prints `listening on http://ADDR` as its first line, then serves:
//! - `/healthz`: `200 ok`, always (even with `--hang`);
//! - `/stats`: JSON `{"requests": {METHOD: count}}`, the requests served so far, by method
//!   (`/healthz` and `/stats` not counted);
//! - anything else: with `--hang` never answers; for a method named by `--fail-method` answers
//!   `500` with a JSON error; otherwise `200` with the JSON object `{upstream, method, path,
//!   headers, body_bytes}` plus every `--field` (a JSON value), and `Set-Cookie: VALUE` when
//!   given. `headers` echoes every request header, secrets included, as a careless service
//!   would.
//!
//! With `--stop-on-eof` it exits when its standard input closes, so a test that dies without
//! cleaning up does not leave it running.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

const USAGE: &str = "usage: strangler-test-upstream --name NAME [--listen ADDR] \
[--fail-method METHOD]... [--hang] [--field KEY=JSON]... [--set-cookie VALUE] [--stop-on-eof]";

/// What this instance does, from its arguments.
#[derive(Debug)]
struct Behaviour {
    name: String,
    listen: SocketAddr,
    fail_methods: Vec<Method>,
    hang: bool,
    fields: Map<String, Value>,
    set_cookie: Option<HeaderValue>,
    stop_on_eof: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Behaviour, String> {
    let mut behaviour = Behaviour {
        name: String::new(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        fail_methods: Vec::new(),
        hang: false,
        fields: Map::new(),
        set_cookie: None,
        stop_on_eof: false,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--name" => behaviour.name = value()?,
            "--listen" => {
                let text = value()?;
                behaviour.listen = text
                    .parse()
                    .map_err(|_| format!("--listen `{text}` is not IP:PORT"))?;
            }
            "--fail-method" => {
                let text = value()?;
                let method = Method::from_bytes(text.as_bytes())
                    .map_err(|_| format!("--fail-method `{text}` is not a method"))?;
                behaviour.fail_methods.push(method);
            }
            "--hang" => behaviour.hang = true,
            "--field" => {
                let text = value()?;
                let (key, json) = text
                    .split_once('=')
                    .ok_or_else(|| format!("--field `{text}` is not KEY=JSON"))?;
                let parsed: Value = serde_json::from_str(json)
                    .map_err(|e| format!("--field `{text}`: not JSON: {e}"))?;
                behaviour.fields.insert(key.to_owned(), parsed);
            }
            "--set-cookie" => {
                let text = value()?;
                behaviour.set_cookie = Some(
                    HeaderValue::from_str(&text)
                        .map_err(|_| format!("--set-cookie `{text}` is not a header value"))?,
                );
            }
            "--stop-on-eof" => behaviour.stop_on_eof = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if behaviour.name.is_empty() {
        return Err("--name is required".into());
    }
    Ok(behaviour)
}

type Counts = Arc<Mutex<BTreeMap<String, u64>>>;

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn answer(
    behaviour: &Behaviour,
    counts: &Counts,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    match request.uri().path() {
        "/healthz" => return reply(StatusCode::OK, json!("ok")),
        "/stats" => {
            let counts = counts.lock().map(|c| c.clone()).unwrap_or_default();
            return reply(StatusCode::OK, json!({ "requests": counts }));
        }
        _ => {}
    }
    if let Ok(mut counts) = counts.lock() {
        *counts.entry(request.method().to_string()).or_default() += 1;
    }
    if behaviour.hang {
        std::future::pending::<()>().await;
    }
    if behaviour.fail_methods.contains(request.method()) {
        return reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "upstream": behaviour.name, "error": "failing on purpose" }),
        );
    }
    let (parts, body) = request.into_parts();
    let body_bytes = body.collect().await.map_or(0, |b| b.to_bytes().len());
    let mut headers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (key, value) in &parts.headers {
        headers
            .entry(key.as_str())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let mut object = behaviour.fields.clone();
    object.insert("upstream".into(), json!(behaviour.name));
    object.insert("method".into(), json!(parts.method.as_str()));
    object.insert(
        "path".into(),
        json!(parts.uri.path_and_query().map_or("/", |p| p.as_str())),
    );
    object.insert("headers".into(), json!(headers));
    object.insert("body_bytes".into(), json!(body_bytes));
    let mut response = reply(StatusCode::OK, Value::Object(object));
    if let Some(cookie) = &behaviour.set_cookie {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, cookie.clone());
    }
    response
}

async fn serve(behaviour: Arc<Behaviour>, listener: TcpListener) {
    let counts = Counts::default();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: wait a little rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (behaviour, counts) = (behaviour.clone(), counts.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let (behaviour, counts) = (behaviour.clone(), counts.clone());
                async move { Ok::<_, Infallible>(answer(&behaviour, &counts, request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn main() {
    let behaviour = match parse_args(std::env::args().skip(1)) {
        Ok(behaviour) => Arc::new(behaviour),
        Err(reason) => {
            eprintln!("{reason}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if behaviour.stop_on_eof {
        std::thread::spawn(|| {
            let mut sink = [0u8; 64];
            while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async {
        let listener = match TcpListener::bind(behaviour.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("cannot listen on {}: {error}", behaviour.listen);
                std::process::exit(1);
            }
        };
        let address = listener.local_addr().unwrap_or(behaviour.listen);
        println!("listening on http://{address}");
        let _ = std::io::stdout().flush();
        serve(behaviour, listener).await;
    });
}
