//! Keep-alive connections to one upstream instance, and the exchange of one request on them.
//!
//! A request checks out an idle HTTP/1.1 connection (or opens one), writes its head and body with
//! the codec of [`crate::h1`], and reads the answer's head; the answer's body then streams from
//! the same connection as hyper's server side polls it ([`PooledBody`]), and the connection goes
//! back to the pool the moment the body's last byte has been read. Everything runs on the task of
//! the client connection: no task, channel or wake-up per upstream request.
//!
//! Stale connections: an idle connection the upstream closed shows as readable (end of stream)
//! and is discarded at checkout without a system call in the common case (tokio keeps the
//! readiness from its last `epoll` turn). Should the upstream close it in the instant between
//! checkout and write, the exchange ends with no answer at all; the request is then sent again on
//! a new connection when that is safe: an idempotent method and a body that was not streamed
//! (nothing or bytes held in memory). Anything else gets the error, as nginx does.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{Method, Response};
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::body::{LimitedBody, RequestBodyError};
use crate::h1::{
    self, ChunkError, ChunkedDecoder, Decoded, HeadError, LAST_CHUNK, RequestFraming,
    ResponseFraming,
};

/// Idle connections kept per instance; more are closed when they come back.
const MAX_IDLE: usize = 512;
/// Read buffer growth step.
const READ_CHUNK: usize = 8 * 1024;
/// A request body chunk at most this large is copied next to its framing and written in one
/// system call; a larger one is written from its own buffer.
const COPY_LIMIT: usize = 16 * 1024;

/// One keep-alive connection with its buffers (kept across requests: no allocation per request).
#[derive(Debug)]
struct UpstreamConnection {
    stream: TcpStream,
    read: BytesMut,
    write: Vec<u8>,
}

impl UpstreamConnection {
    fn new(stream: TcpStream) -> Self {
        UpstreamConnection {
            stream,
            read: BytesMut::with_capacity(READ_CHUNK),
            write: Vec::with_capacity(1024),
        }
    }

    /// Whether the upstream closed (or wrote to) this idle connection: checked without a system
    /// call unless tokio saw the socket become readable.
    fn idle_is_usable(&self, cx: &mut Context<'_>) -> bool {
        match self.stream.poll_read_ready(cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            // Possibly stale readiness: look. Nothing to read is the only good answer.
            Poll::Ready(Ok(())) => {
                matches!(self.stream.try_read(&mut [0u8; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            }
        }
    }

    /// Reads what the upstream sent next into the buffer; `Ok(0)` at end of stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.read.capacity() - self.read.len() < READ_CHUNK / 4 {
            self.read.reserve(READ_CHUNK);
        }
        let read = self.stream.read_buf(&mut self.read);
        pin!(read).poll(cx)
    }
}

/// Why a request to an instance failed.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// No TCP connection could be made (refused, unreachable, timed out).
    #[error("connecting to {address}: {reason}")]
    Connect {
        /// `host:port`.
        address: String,
        /// What went wrong.
        reason: String,
    },
    /// The exchange failed after the request was (possibly) sent: not safe to retry blindly.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
}

/// What went wrong in an exchange on an open connection.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Reading or writing the connection failed.
    #[error("upstream connection: {0}")]
    Io(#[from] io::Error),
    /// The upstream closed the connection before a complete answer.
    #[error("the upstream closed the connection before a complete answer")]
    Closed,
    /// The client's body could not be relayed (too large, or the client went away).
    #[error(transparent)]
    RequestBody(#[from] RequestBodyError),
    /// The answer's head was not valid HTTP/1.x.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// The answer's chunked body was malformed.
    #[error(transparent)]
    Chunk(#[from] ChunkError),
}

/// The idle connections of one instance.
#[derive(Debug, Default)]
pub struct ConnectionPool {
    idle: Mutex<Vec<UpstreamConnection>>,
}

impl ConnectionPool {
    fn take_idle(&self, cx: &mut Context<'_>) -> Option<UpstreamConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(connection) = idle.pop() {
            if connection.idle_is_usable(cx) {
                return Some(connection);
            }
        }
        None
    }

    fn put_back(&self, mut connection: UpstreamConnection) {
        connection.read.clear();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    /// Number of idle connections (for status).
    pub fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// Sends one request to `authority`, in origin form whatever the form of `parts.uri`, its
    /// headers as [`h1::encode_request_head`] writes them,
    /// and returns the response with its body streaming from the connection, which returns to
    /// the pool when the body has been read.
    pub(crate) async fn send(
        self: &Arc<Self>,
        authority: &str,
        connect_timeout: Duration,
        parts: &http::request::Parts,
        mut body: LimitedBody,
        replacements: &h1::Replacements<'_>,
    ) -> Result<Response<PooledBody>, PoolError> {
        let framing = request_framing(&parts.method, &body);
        // A body held in memory (or none) can be written again; a streamed one cannot.
        let replay = body.replayable();
        let retry_allowed = replay.is_some() && is_idempotent(&parts.method);
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        loop {
            let reused = poll_fn(|cx| Poll::Ready(self.take_idle(cx))).await;
            let fresh = reused.is_none();
            let mut connection = match reused {
                Some(connection) => connection,
                None => connect(authority, connect_timeout).await?,
            };
            connection.write.clear();
            h1::encode_request_head(
                &mut connection.write,
                &parts.method,
                target,
                &parts.headers,
                replacements,
                authority,
                framing,
            );
            let outcome = match &replay {
                Some(bytes) => write_held(&mut connection, bytes, framing).await,
                None => write_streamed(&mut connection, &mut body, framing).await,
            };
            let head = match outcome {
                Ok(()) => read_head(&mut connection, &parts.method).await,
                Err(error) => Err(error),
            };
            match head {
                Ok(head) => {
                    let mut response = Response::new(PooledBody::empty());
                    *response.status_mut() = head.status;
                    *response.version_mut() = head.version;
                    *response.headers_mut() = head.headers;
                    let body =
                        PooledBody::new(connection, self.clone(), head.framing, head.keep_alive);
                    *response.body_mut() = body;
                    return Ok(response);
                }
                // Nothing came back on a connection that had served before: it went stale in
                // the instant after checkout. Safe to send again only when nothing was consumed.
                Err(error) if !fresh && retry_allowed && nothing_answered(&error) => continue,
                Err(error) => return Err(error.into()),
            }
        }
    }
}

/// Methods RFC 9110 calls idempotent: sending one twice has the effect of sending it once.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// The connection ended without a byte of answer (closed or reset).
fn nothing_answered(error: &ExchangeError) -> bool {
    match error {
        ExchangeError::Closed => true,
        ExchangeError::Io(error) => matches!(
            error.kind(),
            io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

fn request_framing(method: &Method, body: &LimitedBody) -> RequestFraming {
    if body.is_end_stream() {
        // A method that normally carries a body says so explicitly, as clients do.
        return if matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
            RequestFraming::Length(0)
        } else {
            RequestFraming::None
        };
    }
    match body.size_hint().exact() {
        Some(length) => RequestFraming::Length(length),
        None => RequestFraming::Chunked,
    }
}

/// Writes the head with a body held in memory, in one system call.
async fn write_held(
    connection: &mut UpstreamConnection,
    bytes: &Bytes,
    framing: RequestFraming,
) -> Result<(), ExchangeError> {
    match framing {
        RequestFraming::Chunked if !bytes.is_empty() => {
            h1::encode_chunk(&mut connection.write, bytes);
            connection.write.extend_from_slice(LAST_CHUNK);
        }
        RequestFraming::Chunked => connection.write.extend_from_slice(LAST_CHUNK),
        _ => connection.write.extend_from_slice(bytes),
    }
    connection.stream.write_all(&connection.write).await?;
    Ok(())
}

/// Writes the head, then the client's body as it arrives (chunked when its length is unknown).
/// Body data already at hand goes out with the head.
async fn write_streamed(
    connection: &mut UpstreamConnection,
    body: &mut LimitedBody,
    framing: RequestFraming,
) -> Result<(), ExchangeError> {
    let chunked = framing == RequestFraming::Chunked;
    let mut sent: u64 = 0;
    loop {
        // The next frame if it is already there; `None` when it has to be waited for.
        let frame = if connection.write.is_empty() {
            poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx).map(Some)).await
        } else {
            poll_fn(|cx| Poll::Ready(ready_frame(Pin::new(&mut *body).poll_frame(cx)))).await
        };
        match frame {
            None => {
                // Nothing at hand: send what is buffered, then wait for more.
                connection.stream.write_all(&connection.write).await?;
                connection.write.clear();
            }
            Some(Some(Ok(frame))) => {
                let Ok(data) = frame.into_data() else {
                    continue; // Trailers are not forwarded.
                };
                if data.is_empty() {
                    continue;
                }
                sent += data.len() as u64;
                if let RequestFraming::Length(length) = framing
                    && sent > length
                {
                    return Err(io::Error::other("request body longer than its length").into());
                }
                if chunked {
                    h1::encode_chunk(&mut connection.write, &data);
                } else if data.len() <= COPY_LIMIT {
                    connection.write.extend_from_slice(&data);
                } else {
                    connection.stream.write_all(&connection.write).await?;
                    connection.write.clear();
                    connection.stream.write_all(&data).await?;
                }
            }
            Some(Some(Err(error))) => return Err(error.into()),
            Some(None) => {
                if chunked {
                    connection.write.extend_from_slice(LAST_CHUNK);
                }
                if !connection.write.is_empty() {
                    connection.stream.write_all(&connection.write).await?;
                    connection.write.clear();
                }
                return Ok(());
            }
        }
    }
}

/// `Some(frame result)` when ready, `None` when the frame is not there yet.
#[allow(clippy::type_complexity)]
fn ready_frame(
    polled: Poll<Option<Result<Frame<Bytes>, RequestBodyError>>>,
) -> Option<Option<Result<Frame<Bytes>, RequestBodyError>>> {
    match polled {
        Poll::Ready(frame) => Some(frame),
        Poll::Pending => None,
    }
}

/// Reads until a whole response head is in.
async fn read_head(
    connection: &mut UpstreamConnection,
    method: &Method,
) -> Result<h1::ResponseHead, ExchangeError> {
    loop {
        if !connection.read.is_empty()
            && let Some(head) = h1::parse_response_head(&mut connection.read, method)?
        {
            return Ok(head);
        }
        if poll_fn(|cx| connection.poll_fill(cx)).await? == 0 {
            return Err(ExchangeError::Closed);
        }
    }
}

async fn connect(authority: &str, timeout: Duration) -> Result<UpstreamConnection, PoolError> {
    let failed = |reason: String| PoolError::Connect {
        address: authority.to_owned(),
        reason,
    };
    let stream = tokio::time::timeout(timeout, TcpStream::connect(authority))
        .await
        .map_err(|_| failed(format!("no connection within {timeout:?}")))?
        .map_err(|e| failed(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    Ok(UpstreamConnection::new(stream))
}

/// Where the answer's body stands.
#[derive(Debug)]
enum BodyState {
    /// Fully read (or there was none).
    Done,
    /// This many bytes still to come.
    Length(u64),
    Chunked(ChunkedDecoder),
    /// Until the upstream closes.
    UntilClose,
}

/// An upstream answer's body, read from its connection as it is polled; the connection goes
/// back to the pool as soon as the last byte is read, or is closed if the body is dropped early.
#[derive(Debug)]
pub struct PooledBody {
    state: BodyState,
    connection: Option<UpstreamConnection>,
    pool: Option<Arc<ConnectionPool>>,
    keep_alive: bool,
}

impl PooledBody {
    fn empty() -> Self {
        PooledBody {
            state: BodyState::Done,
            connection: None,
            pool: None,
            keep_alive: false,
        }
    }

    fn new(
        connection: UpstreamConnection,
        pool: Arc<ConnectionPool>,
        framing: ResponseFraming,
        keep_alive: bool,
    ) -> Self {
        let state = match framing {
            ResponseFraming::Empty => BodyState::Done,
            ResponseFraming::Length(length) => BodyState::Length(length),
            ResponseFraming::Chunked => BodyState::Chunked(ChunkedDecoder::default()),
            ResponseFraming::UntilClose => BodyState::UntilClose,
        };
        let mut body = PooledBody {
            state,
            connection: Some(connection),
            pool: Some(pool),
            keep_alive,
        };
        if matches!(body.state, BodyState::Done) {
            body.finish();
        }
        body
    }

    /// The body has been read: the connection can serve the next request, unless the upstream
    /// said otherwise or sent more than the answer.
    fn finish(&mut self) {
        self.state = BodyState::Done;
        if let (Some(connection), Some(pool)) = (self.connection.take(), self.pool.as_ref())
            && self.keep_alive
            && connection.read.is_empty()
        {
            pool.put_back(connection);
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, ExchangeError>>> {
        loop {
            let Some(connection) = self.connection.as_mut() else {
                return Poll::Ready(None);
            };
            match &mut self.state {
                BodyState::Done => return Poll::Ready(None),
                BodyState::Length(remaining) => {
                    if !connection.read.is_empty() {
                        let take = usize::try_from(*remaining)
                            .map_or(connection.read.len(), |r| r.min(connection.read.len()));
                        let data = connection.read.split_to(take).freeze();
                        *remaining -= take as u64;
                        if *remaining == 0 {
                            self.finish();
                        }
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
                BodyState::Chunked(decoder) => match decoder.decode(&mut connection.read)? {
                    Decoded::Data(data) => return Poll::Ready(Some(Ok(data))),
                    Decoded::Done => {
                        self.finish();
                        return Poll::Ready(None);
                    }
                    Decoded::NeedMore => {}
                },
                BodyState::UntilClose => {
                    if !connection.read.is_empty() {
                        return Poll::Ready(Some(Ok(connection.read.split().freeze())));
                    }
                }
            }
            // The buffer is empty (or holds an incomplete chunk line): read more.
            let read = ready!(connection.poll_fill(cx))?;
            if read == 0 {
                if matches!(self.state, BodyState::UntilClose) {
                    self.state = BodyState::Done;
                    self.connection = None;
                    return Poll::Ready(None);
                }
                self.connection = None;
                return Poll::Ready(Some(Err(ExchangeError::Closed)));
            }
        }
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = ExchangeError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ExchangeError>>> {
        let this = self.get_mut();
        this.poll_next(cx)
            .map(|next| next.map(|data| data.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, BodyState::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match self.state {
            BodyState::Done => SizeHint::with_exact(0),
            BodyState::Length(remaining) => SizeHint::with_exact(remaining),
            _ => SizeHint::default(),
        }
    }
}
