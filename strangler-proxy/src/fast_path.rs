//! The proxy listener's own HTTP/1.1 server side for the plain request, with hyper's for
//! everything else.
//!
//! Why: with hyper's server side a proxied request cost 22.7k user-space instructions; read with
//! `httparse` and answered from one buffer here it cost 20.5k, 18.9k since the upstream's
//! fields are written back as received, and 15.5k since the client's are kept as received too
//! (a [`crate::message::FieldList`] sharing this side's read buffer; `bench/proxy.sh
//! --instructions`; nginx needs 19.3k). With one worker thread that is the proxy's whole
//! budget.
//!
//! How it stays correct: a connection starts here, and only a request whose head is complete and
//! plain is served here: HTTP/1.1, no body (no `Transfer-Encoding`, `Content-Length` absent or
//! `0`), no `Expect`, no `Upgrade`, no `Connection` but `keep-alive`, not `HEAD` or `CONNECT`,
//! within the header limit, and parsed by the same `httparse` rules hyper uses. The first request
//! that is anything else (a body, HTTP/1.0, a malformed or oversized head, ...) hands the
//! connection, with every byte read so far, to hyper's server for the rest of its life. So the
//! answers to bad input (400, 431, 414), chunked and streamed request bodies, `100-continue`,
//! upgrades and HTTP/1.0 keep-alive stay hyper's, and a head accepted here is one hyper accepts
//! with the same meaning.
//!
//! What this side does the way hyper's does: the header read timeout runs from the moment a
//! connection waits for a head (idle keep-alive time included) and closes without an answer; a
//! client that goes away while its request is in flight cancels it; pipelined requests are
//! answered in order (after a half-close too, where hyper answers only the first); answers are
//! streamed (what is ready is written together, and the buffer is flushed whenever the body has
//! nothing ready); `Date` is added when the answer has none; on shutdown a connection waiting
//! for a head closes and a busy one closes after its answer, which says `connection: close`.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use bytes::{Buf, Bytes, BytesMut};
use http::header;
use http::{Method, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::body::{ClientBody, ProxyBody};
use crate::deadline::Deadlines;
use crate::forward::ClientPeer;
use crate::h1::{Role, put_field};
use crate::message::{ClientRequest, FieldList, ProxyResponse, RequestHead};

/// Header fields allowed, as in hyper: a head with more goes to hyper at once, for its 431.
const MAX_FIELDS: usize = 100;
/// Longest header name `http::HeaderName` takes: a longer one is hyper's to refuse.
const MAX_NAME: usize = 1 << 16;
/// Answer bytes gathered before they are written even though more are ready.
const FLUSH_AT: usize = 64 * 1024;

/// The limits a head is read under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadLimits {
    /// Largest head served; a larger one is hyper's to refuse (431).
    pub max_header_bytes: usize,
    /// How long a connection may wait for a complete head.
    pub header_timeout: Duration,
}

/// What the bytes at the start of the read buffer hold.
#[derive(Debug)]
pub(crate) enum Head {
    /// A complete plain request head.
    Plain(PlainHead),
    /// Not complete yet.
    Incomplete,
    /// Something for hyper: a body, another version, a malformed or oversized head, ...
    NotPlain,
}

/// Reads the request head at the start of `buf` (see the module docs for what is plain).
pub(crate) fn parse_head(buf: &[u8], max_header_bytes: usize) -> Head {
    let mut fields = [const { std::mem::MaybeUninit::uninit() }; MAX_FIELDS];
    let mut request = httparse::Request::new(&mut []);
    // A head's field offsets are kept as u32 (see `FieldList`).
    let max_header_bytes = max_header_bytes.min(u32::MAX as usize);
    let length = match request.parse_with_uninit_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete(length)) if length <= max_header_bytes => length,
        Ok(httparse::Status::Partial) if buf.len() <= max_header_bytes => return Head::Incomplete,
        _ => return Head::NotPlain,
    };
    if request.version != Some(1) {
        return Head::NotPlain;
    }
    let (Some(method), Some(target)) = (request.method, request.path) else {
        return Head::NotPlain;
    };
    let method = match method {
        "GET" => Method::GET,
        "HEAD" | "CONNECT" => return Head::NotPlain,
        other => match Method::from_bytes(other.as_bytes()) {
            Ok(method) => method,
            Err(_) => return Head::NotPlain,
        },
    };
    let Ok(uri) = target.parse::<Uri>() else {
        return Head::NotPlain;
    };
    // Values are as `httparse` accepted them, which `HeaderValue` accepts too, and so are
    // names up to `HeaderName`'s length limit (see `crate::message`); apart from that length,
    // only what makes a request not plain is looked at.
    let mut spans = Vec::with_capacity(request.headers.len());
    let mut has_length = false;
    let base = buf.as_ptr() as usize;
    // Within the head, so below `max_header_bytes`: fits in a u32.
    let offset = |slice: &[u8]| (slice.as_ptr() as usize - base) as u32;
    for field in request.headers.iter() {
        let name = field.name.as_bytes();
        if name.len() >= MAX_NAME {
            return Head::NotPlain;
        }
        let plain = match Role::of(name) {
            Role::Expect | Role::Upgrade | Role::TransferEncoding => false,
            Role::Connection => field.value.eq_ignore_ascii_case(b"keep-alive"),
            Role::ContentLength => field.value == b"0" && !std::mem::replace(&mut has_length, true),
            Role::HopByHop | Role::EndToEnd => true,
        };
        if !plain {
            return Head::NotPlain;
        }
        let (name_start, value_start) = (offset(name), offset(field.value));
        spans.push([
            name_start,
            name_start + name.len() as u32,
            value_start,
            value_start + field.value.len() as u32,
        ]);
    }
    Head::Plain(PlainHead {
        method,
        uri,
        spans,
        length,
    })
}

/// A plain request head as parsed: `length` bytes, `spans` its fields' places in them.
#[derive(Debug)]
pub(crate) struct PlainHead {
    method: Method,
    uri: Uri,
    spans: Vec<[u32; 4]>,
    length: usize,
}

impl PlainHead {
    /// The request, its fields in `bytes` (the head's `length` bytes).
    fn into_request(self, bytes: Bytes) -> RequestHead {
        debug_assert_eq!(bytes.len(), self.length);
        RequestHead::new(
            self.method,
            self.uri,
            FieldList::from_spans(bytes, self.spans),
        )
    }
}

/// How waiting for the next head ended.
#[expect(
    clippy::large_enum_variant,
    reason = "moved once per request; a box would be an allocation per request"
)]
enum Next {
    Plain(RequestHead),
    /// Hand the connection to hyper.
    NotPlain,
    /// Close: the client left, the header timeout passed, or the proxy is stopping.
    Close,
}

/// Serves one client connection: plain requests here, the rest of the connection by hyper from
/// the first request that is not plain. Returns hyper's result when hyper took over.
pub(crate) async fn serve_connection<F, Fut, H, HFut>(
    stream: TcpStream,
    peer: ClientPeer,
    handler: F,
    limits: HeadLimits,
    deadlines: Arc<Deadlines>,
    stopped: watch::Receiver<bool>,
    hand_over: H,
) -> Result<(), hyper::Error>
where
    F: Fn(ClientRequest, &ClientPeer) -> Fut,
    Fut: Future<Output = Result<ProxyResponse, Infallible>>,
    H: FnOnce(Replay, watch::Receiver<bool>) -> HFut,
    HFut: Future<Output = Result<(), hyper::Error>>,
{
    let mut client = Client {
        stream,
        buf: BytesMut::with_capacity(8192),
        // Pipelined bytes read while an answer is pending stop here (hyper's read buffer limit).
        max_buffered: limits.max_header_bytes.max(8192) + 8192,
        read_ended: false,
    };
    let mut out: Vec<u8> = Vec::with_capacity(8192);
    loop {
        let head = match next_head(&mut client, limits, &deadlines).await {
            Next::Plain(head) => head,
            Next::NotPlain => {
                let replay = Replay {
                    prefix: client.buf.freeze(),
                    stream: client.stream,
                };
                return hand_over(replay, stopped).await;
            }
            Next::Close => return Ok(()),
        };
        // Pinned here, not moved into the `select!`: the request's future is large.
        let request = ClientRequest {
            head,
            body: ClientBody::Empty,
        };
        let handling = std::pin::pin!(handler(request, &peer));
        let response = tokio::select! {
            biased;
            Ok(response) = handling => response,
            // Dropping `handling` cancels the upstream request.
            () = client.gone() => return Ok(()),
        };
        let stopping = deadlines.stopping();
        match write_answer(&mut client, &mut out, response, stopping).await {
            Ok(true) => {}
            Ok(false) | Err(_) => {
                let _ = client.stream.shutdown().await;
                return Ok(());
            }
        }
    }
}

/// The client's side of a connection on the fast path.
struct Client {
    stream: TcpStream,
    /// Read and not yet served.
    buf: BytesMut,
    max_buffered: usize,
    /// The client has closed its sending side after requests still in `buf`.
    read_ended: bool,
}

impl Client {
    /// Reads while an answer is pending, keeping pipelined bytes; completes once the client has
    /// gone (closed with nothing left to answer, or the connection failed), and never otherwise.
    /// A client that closes its sending side after pipelined requests gets them all answered
    /// (hyper answers the first and drops the rest); one with nothing pipelined is gone.
    async fn gone(&mut self) {
        loop {
            if self.read_ended || self.buf.len() >= self.max_buffered {
                return std::future::pending().await;
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) if !self.buf.is_empty() => self.read_ended = true,
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

/// Waits until `buf` starts with a complete head, or the connection is to be closed.
async fn next_head(client: &mut Client, limits: HeadLimits, deadlines: &Arc<Deadlines>) -> Next {
    let mut timeout = None;
    let buf = &mut client.buf;
    loop {
        if !buf.is_empty() {
            match parse_head(buf, limits.max_header_bytes) {
                Head::Plain(plain) => {
                    // Shared, not copied: the read buffer's bytes stay the head's until the
                    // request is done with them.
                    let bytes = buf.split_to(plain.length).freeze();
                    return Next::Plain(plain.into_request(bytes));
                }
                Head::NotPlain => return Next::NotPlain,
                Head::Incomplete => {}
            }
        }
        if client.read_ended || (buf.is_empty() && deadlines.stopping()) {
            return Next::Close;
        }
        // Ends at the header timeout, or when the listener stops (see `Deadlines::head_wait`).
        let timeout = timeout.get_or_insert_with(|| deadlines.head_wait(limits.header_timeout));
        tokio::select! {
            biased;
            read = client.stream.read_buf(buf) => match read {
                Ok(0) | Err(_) => return Next::Close,
                Ok(_) => {}
            },
            () = &mut *timeout => return Next::Close,
        }
    }
}

/// Writes one answer; returns whether the connection stays open.
async fn write_answer(
    client: &mut Client,
    out: &mut Vec<u8>,
    answer: ProxyResponse,
    stopping: bool,
) -> io::Result<bool> {
    let (head, mut body) = answer.response.into_parts();
    let received = body.take_received_fields();
    let status = head.status;
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let length = if bodiless {
        None
    } else {
        body.size_hint().exact()
    };
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    let reason = match head.extensions.get::<hyper::ext::ReasonPhrase>() {
        Some(reason) => reason.as_bytes(),
        None => status.canonical_reason().unwrap_or("<none>").as_bytes(),
    };
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
    let mut keep_alive = !stopping;
    let mut says_close = false;
    // The upstream's fields as it sent them (hop-by-hop ones were left out when they were
    // read), then the ones the proxy added or, for an answer of its own, made.
    let mut has_date = false;
    for (name, value) in received.iter() {
        if name.eq_ignore_ascii_case(b"content-length") && status != StatusCode::NOT_MODIFIED {
            // The framing is this side's to write.
            continue;
        }
        has_date |= name.eq_ignore_ascii_case(b"date");
        put_field(out, name, value);
    }
    for (name, value) in &head.headers {
        match *name {
            header::TRANSFER_ENCODING => continue,
            header::CONTENT_LENGTH if status != StatusCode::NOT_MODIFIED => continue,
            header::CONNECTION if has_token(value.as_bytes(), b"close") => {
                keep_alive = false;
                says_close = true;
            }
            _ => {}
        }
        put_field(out, name.as_str().as_bytes(), value.as_bytes());
    }
    if let Some(id) = &answer.request_id {
        put_field(out, b"x-request-id", id.as_bytes());
    }
    if !has_date && !head.headers.contains_key(header::DATE) {
        put_field(out, b"date", &http_date());
    }
    if !keep_alive && !says_close {
        put_field(out, b"connection", b"close");
    }
    if !bodiless {
        match length {
            Some(length) => {
                let mut digits = [0; 20];
                put_field(
                    out,
                    b"content-length",
                    crate::h1::format_u64(length, &mut digits),
                );
            }
            None => put_field(out, b"transfer-encoding", b"chunked"),
        }
    }
    out.extend_from_slice(b"\r\n");
    if !bodiless {
        let chunked = length.is_none();
        loop {
            let frame = match poll_ready(&mut body) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    // Nothing more ready: what is gathered goes out before waiting.
                    flush(&mut client.stream, out).await?;
                    tokio::select! {
                        biased;
                        frame = body.frame() => frame,
                        // A long answer (a stream, a long poll) ends when its client leaves.
                        () = client.gone() => return Ok(false),
                    }
                }
            };
            let data = match frame {
                None => break,
                // The upstream broke off mid-body: so must the answer.
                Some(Err(_)) => return Ok(false),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_trailers) => continue,
                },
            };
            if chunked {
                if !data.is_empty() {
                    crate::h1::encode_chunk(out, &data);
                }
            } else if data.len() >= FLUSH_AT {
                flush(&mut client.stream, out).await?;
                client.stream.write_all(&data).await?;
                continue;
            } else {
                out.extend_from_slice(&data);
            }
            if out.len() >= FLUSH_AT {
                flush(&mut client.stream, out).await?;
            }
        }
        if chunked {
            out.extend_from_slice(crate::h1::LAST_CHUNK);
        }
    }
    flush(&mut client.stream, out).await?;
    Ok(keep_alive)
}

async fn flush(stream: &mut TcpStream, out: &mut Vec<u8>) -> io::Result<()> {
    if !out.is_empty() {
        stream.write_all(out).await?;
        out.clear();
    }
    Ok(())
}

/// The body's next frame if it is ready now, without registering for a wake-up.
fn poll_ready(
    body: &mut ProxyBody,
) -> Poll<Option<Result<Frame<Bytes>, crate::pool::ExchangeError>>> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(body).poll_frame(&mut cx)
}

/// Whether a comma-separated header value holds `token` (any case).
fn has_token(value: &[u8], token: &[u8]) -> bool {
    crate::h1::list_items(value).any(|item| item.eq_ignore_ascii_case(token))
}

/// The current time as an HTTP date, formatted once a second per thread.
fn http_date() -> [u8; 29] {
    use std::cell::Cell;
    thread_local! {
        static CACHED: Cell<(u64, [u8; 29])> = const { Cell::new((u64::MAX, [0; 29])) };
    }
    let now = SystemTime::now();
    let second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    CACHED.with(|cached| {
        let (at, text) = cached.get();
        if at == second {
            return text;
        }
        let mut text = [0; 29];
        let formatted = httpdate::fmt_http_date(now);
        let bytes = formatted.as_bytes();
        let n = bytes.len().min(text.len());
        text[..n].copy_from_slice(&bytes[..n]);
        cached.set((second, text));
        text
    })
}

/// The client connection handed to hyper: the bytes already read are read again first.
#[derive(Debug)]
pub(crate) struct Replay {
    prefix: Bytes,
    stream: TcpStream,
}

impl Replay {
    /// A connection with nothing read yet.
    pub(crate) fn fresh(stream: TcpStream) -> Self {
        Replay {
            prefix: Bytes::new(),
            stream,
        }
    }
}

impl AsyncRead for Replay {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.prefix.is_empty() {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        let n = this.prefix.len().min(buf.remaining());
        buf.put_slice(&this.prefix[..n]);
        this.prefix.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Replay {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMIT: usize = 16 * 1024;

    /// The head at the start of `bytes` when it is plain: method, target, fields, length.
    fn plain(bytes: &[u8]) -> Option<(Method, Uri, FieldList, usize)> {
        let Head::Plain(plain) = parse_head(bytes, LIMIT) else {
            return None;
        };
        let length = plain.length;
        let head = plain.into_request(Bytes::copy_from_slice(&bytes[..length]));
        Some((head.method, head.uri, head.fields, length))
    }

    /// A head built from real names and values in random case and order.
    fn head_text(method: &str, target: &str, version: &str, fields: &[(&str, &str)]) -> String {
        let mut text = format!("{method} {target} {version}\r\n");
        for (name, value) in fields {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text
    }

    #[test]
    fn only_plain_requests_are_served_here() {
        let plain = head_text(
            "GET",
            "/a?b=1",
            "HTTP/1.1",
            &[("Host", "x"), ("X-User", "u")],
        );
        let Some((method, uri, fields, length)) = self::plain(plain.as_bytes()) else {
            panic!("a plain GET is served here");
        };
        assert_eq!(length, plain.len());
        assert_eq!(method, Method::GET);
        assert_eq!(uri, "/a?b=1");
        assert_eq!(fields.get("x-user"), Some(&b"u"[..]));
        let names: Vec<_> = fields.iter().map(|(name, _)| name).collect();
        assert_eq!(names, [&b"Host"[..], b"X-User"]);
        for (method, version, fields) in [
            ("POST", "HTTP/1.1", vec![("Content-Length", "3")]),
            ("POST", "HTTP/1.1", vec![("Content-Length", "00")]),
            (
                "POST",
                "HTTP/1.1",
                vec![("Content-Length", "0"), ("Content-Length", "0")],
            ),
            ("POST", "HTTP/1.1", vec![("Transfer-Encoding", "chunked")]),
            ("GET", "HTTP/1.1", vec![("Expect", "100-continue")]),
            ("GET", "HTTP/1.1", vec![("Upgrade", "websocket")]),
            ("GET", "HTTP/1.1", vec![("Connection", "close")]),
            ("GET", "HTTP/1.0", vec![]),
            ("HEAD", "HTTP/1.1", vec![]),
            ("CONNECT", "HTTP/1.1", vec![]),
        ] {
            let text = head_text(method, "/", version, &fields);
            assert!(
                matches!(parse_head(text.as_bytes(), LIMIT), Head::NotPlain),
                "{text:?} must go to hyper"
            );
        }
        let partial = "GET / HTTP/1.1\r\nHost: x\r\n";
        assert!(matches!(
            parse_head(partial.as_bytes(), LIMIT),
            Head::Incomplete
        ));
        // A name longer than `HeaderName` takes is hyper's to refuse, whatever the limit.
        let long_name = "n".repeat(MAX_NAME);
        let long = head_text("GET", "/", "HTTP/1.1", &[(long_name.as_str(), "v")]);
        assert!(matches!(
            parse_head(long.as_bytes(), 4 * MAX_NAME),
            Head::NotPlain
        ));
        let oversized = head_text("GET", "/", "HTTP/1.1", &[("X-Big", &"v".repeat(LIMIT))]);
        assert!(matches!(
            parse_head(oversized.as_bytes(), LIMIT),
            Head::NotPlain
        ));
        assert!(matches!(
            parse_head(&oversized.as_bytes()[..LIMIT + 10], LIMIT),
            Head::NotPlain
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever a client sends, the fast path serves it, waits, or hands it on; no panic.
        #[test]
        fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Some((_, _, fields, length)) = plain(&bytes) {
                prop_assert!(length <= bytes.len());
                // Every field is one `http` accepts, so hyper's side and the codec agree on it.
                prop_assert_eq!(fields.to_map().len(), fields.len());
            }
        }

        /// Any name and value `httparse` accepts in a request convert to `HeaderName` and
        /// `HeaderValue` (what building a `HeaderMap` used to check here).
        #[test]
        fn accepted_fields_all_convert_to_a_header_map(
            name in proptest::collection::vec(prop_oneof![0x21u8..0x7f, any::<u8>()], 1..12),
            value in proptest::collection::vec(prop_oneof![0x20u8..0x7f, any::<u8>()], 0..24),
        ) {
            let mut text = b"GET / HTTP/1.1\r\n".to_vec();
            text.extend_from_slice(&name);
            text.extend_from_slice(b": ");
            text.extend_from_slice(&value);
            text.extend_from_slice(b"\r\n\r\n");
            if let Some((_, _, fields, _)) = plain(&text) {
                // (A name that is a line break ends the head instead: no field at all.)
                prop_assert_eq!(fields.to_map().len(), fields.len());
            }
        }

        /// Heads that look almost right: a head served here carries no body of any kind and is
        /// exactly the bytes httparse counts; everything else is hyper's.
        #[test]
        fn plausible_heads_are_plain_only_without_a_body(
            method in prop::sample::select(vec!["GET", "POST", "DELETE", "HEAD", "get", "PURGE"]),
            version in prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2.0"]),
            fields in proptest::collection::vec(
                (prop::sample::select(vec![
                    "Content-Length", "content-length", "Transfer-Encoding", "Connection",
                    "Expect", "Upgrade", "Host", "X-A", "TE",
                ]), prop::sample::select(vec![
                    "0", "00", "+0", " 0", "5", "chunked", "close", "keep-alive", "Keep-Alive",
                    "100-continue", "", "x",
                ])),
                0..6,
            ),
            pipelined in prop::sample::select(vec!["", "GET / HTTP/1.1\r\n\r\n", "garbage"]),
        ) {
            let head = head_text(method, "/p", version, &fields);
            let bytes = format!("{head}{pipelined}");
            if let Some((_, _, fields, length)) = plain(bytes.as_bytes()) {
                prop_assert_eq!(length, head.len());
                prop_assert_eq!(version, "HTTP/1.1");
                prop_assert!(method != "HEAD");
                prop_assert!(!fields.contains("transfer-encoding"));
                prop_assert!(!fields.contains("expect"));
                prop_assert!(!fields.contains("upgrade"));
                let lengths: Vec<_> = fields.get_all("content-length").collect();
                prop_assert!(lengths.is_empty() || lengths == [b"0"]);
                for value in fields.get_all("connection") {
                    prop_assert!(value.eq_ignore_ascii_case(b"keep-alive"));
                }
            }
        }
    }
}
