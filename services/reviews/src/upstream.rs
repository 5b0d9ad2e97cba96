//! Reads from the services that own data this service no longer holds.
//!
//! Where the monolith's code read another context's table, the carried code now asks the
//! owner's API (see the `TODO(strangler)` comments). The owner of context `NAME` is found at
//! `$NAME_URL` (e.g. `MOVIES_URL`), else at `$MONOLITH_URL`, else at `http://127.0.0.1:3000`:
//! while the strangling goes on, the monolith still serves those routes. The calls are blocking
//! (the carried code runs on the database's blocking threads) and plain HTTP/1.1.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde::de::DeserializeOwned;

/// How long one call may take to connect, and to answer.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Answers larger than this are refused.
const MAX_ANSWER_BYTES: u64 = 8 << 20;

/// The base URL of the service owning `context`'s data.
pub fn base_url(context: &str) -> String {
    let key = format!("{}_URL", context.to_ascii_uppercase().replace('-', "_"));
    std::env::var(&key)
        .or_else(|_| std::env::var("MONOLITH_URL"))
        .unwrap_or_else(|_| "http://127.0.0.1:3000".to_string())
}

/// `GET path` on the owner of `context`: the status code and the body.
pub fn get(context: &str, path: &str) -> Result<(u16, String), String> {
    send(context, "GET", path, None)
}

/// `METHOD path` on the owner of `context`, with an optional JSON body: the status code and
/// the body of the answer. (Added by hand to the generated client: the service writes its
/// reviews through to the monolith, see `handlers::reviews`.)
pub fn send(
    context: &str,
    method: &str,
    path: &str,
    json_body: Option<&str>,
) -> Result<(u16, String), String> {
    let base = base_url(context);
    let authority = base
        .strip_prefix("http://")
        .ok_or_else(|| format!("{base}: only http:// upstreams are supported"))?
        .trim_end_matches('/');
    let address = authority
        .to_socket_addrs()
        .map_err(|err| format!("{authority}: {err}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .map_err(|err| format!("{context} service at {base}: {err}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|err| format!("{context} service: {err}"))?;
    let body = json_body.unwrap_or("");
    let content = if json_body.is_some() {
        format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        )
    } else if method == "GET" || method == "HEAD" {
        String::new()
    } else {
        "content-length: 0\r\n".to_string()
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {authority}\r\naccept: application/json\r\nconnection: close\r\n{content}\r\n{body}"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|err| format!("{context} service: {err}"))?;
    let mut raw = Vec::new();
    stream
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut raw)
        .map_err(|err| format!("{context} service: {err}"))?;
    parse_response(&raw).ok_or_else(|| format!("{context} service: malformed HTTP answer"))
}

fn parse_response(raw: &[u8]) -> Option<(u16, String)> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let chunked = lines.any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Some((status, String::from_utf8(body).ok()?))
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// Whether the owner knows the resource: 200 is yes, 404 is no, anything else an error.
pub fn exists(context: &str, path: &str) -> Result<bool, String> {
    match get(context, path)? {
        (200, _) => Ok(true),
        (404, _) => Ok(false),
        (status, body) => Err(format!(
            "{context} service answered {status} to GET {path}: {body}"
        )),
    }
}

/// The resource as JSON; 404 and other failures are errors.
pub fn get_json<T: DeserializeOwned>(context: &str, path: &str) -> Result<T, String> {
    get_optional_json(context, path)?
        .ok_or_else(|| format!("{context} service has nothing at {path}"))
}

/// The resource as JSON, or `None` on 404.
pub fn get_optional_json<T: DeserializeOwned>(
    context: &str,
    path: &str,
) -> Result<Option<T>, String> {
    match get(context, path)? {
        (200, body) => serde_json::from_str(&body).map(Some).map_err(|err| {
            format!("{context} service answered GET {path} with unexpected JSON: {err}")
        }),
        (404, _) => Ok(None),
        (status, body) => Err(format!(
            "{context} service answered {status} to GET {path}: {body}"
        )),
    }
}
