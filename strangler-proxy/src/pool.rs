//! Keep-alive connections to one upstream instance, and the exchange of one request on them.
//!
//! A request checks out an idle HTTP/1.1 connection (or opens one), writes its head and body with
//! the codec of [`crate::h1`], and reads the answer's head; the answer's body then streams from
//! the same connection as hyper's server side polls it ([`PooledBody`]), and the connection goes
//! back to the pool the moment the body's last byte has been read. A request with no body or a
//! body held in memory runs entirely on the task of the client connection: no task, channel or
//! wake-up per upstream request. A body that streams in from the client is written by a task of
//! its own while the answer is read, as a full-duplex exchange must be: an upstream may answer
//! before reading the whole body (a 413 or 401 to a large upload) or stream its answer while the
//! body still arrives (an echo), and neither may turn into a 502 or a stall.
//!
//! Stale connections: an idle connection the upstream closed shows as readable (end of stream)
//! and is discarded at checkout without a system call in the common case (tokio keeps the
//! readiness from its last `epoll` turn). Should the upstream close it in the instant between
//! checkout and write, the exchange ends with no answer at all; the request is then sent once
//! more, on a new connection, when that is safe: an idempotent method, a body that was not
//! streamed (nothing, or bytes held in memory), and not a byte of answer read. Anything else gets
//! the error, as with nginx.

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
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::task::JoinHandle;

use crate::body::{LimitedBody, RequestBodyError};
use crate::deadline::{Deadlines, before};
use crate::h1::{
    self, ChunkError, ChunkedDecoder, Decoded, HeadError, LAST_CHUNK, ReceivedFields,
    RequestFraming, ResponseFraming,
};
use crate::message::RequestHead;

/// Idle connections kept per instance; more are closed when they come back.
const MAX_IDLE: usize = 512;
/// Read buffer growth step.
const READ_CHUNK: usize = 8 * 1024;
/// A request body chunk at most this large is copied next to its framing and written in one
/// system call; a larger one is written from its own buffer.
const COPY_LIMIT: usize = 16 * 1024;

/// The reading half of a connection and what has been read but not yet used.
#[derive(Debug)]
struct ReadSide {
    half: OwnedReadHalf,
    buf: BytesMut,
}

impl ReadSide {
    /// Reads what the upstream sent next into the buffer; `Ok(0)` at end of stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        let read = self.half.read_buf(&mut self.buf);
        pin!(read).poll(cx)
    }
}

/// The writing half of a connection with its buffer (kept across requests: no allocation per
/// request).
#[derive(Debug)]
struct WriteSide {
    half: OwnedWriteHalf,
    buf: Vec<u8>,
}

/// One keep-alive connection.
#[derive(Debug)]
struct UpstreamConnection {
    read: ReadSide,
    write: WriteSide,
}

impl UpstreamConnection {
    fn new(stream: TcpStream) -> Self {
        let (read, write) = stream.into_split();
        UpstreamConnection {
            read: ReadSide {
                half: read,
                buf: BytesMut::with_capacity(READ_CHUNK),
            },
            write: WriteSide {
                half: write,
                buf: Vec::with_capacity(1024),
            },
        }
    }

    /// Whether the upstream closed (or wrote to) this idle connection: checked without a system
    /// call unless tokio saw the socket become readable.
    fn idle_is_usable(&self, cx: &mut Context<'_>) -> bool {
        let stream: &TcpStream = self.read.half.as_ref();
        match stream.poll_read_ready(cx) {
            Poll::Pending => true,
            Poll::Ready(Err(_)) => false,
            // Possibly stale readiness: look. Nothing to read is the only good answer.
            Poll::Ready(Ok(())) => matches!(
                stream.try_read(&mut [0u8; 1]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock
            ),
        }
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
    /// The connection was open but no answer's head came in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// How long an exchange may wait for the answer's head once a connection is open: the request
/// timeout, which does not count the time spent connecting (that has a timeout of its own, and a
/// connection that never opened leaves the request unsent, free to go elsewhere).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnswerDeadline<'a> {
    pub deadlines: &'a Arc<Deadlines>,
    pub within: Duration,
}

/// Why [`ConnectionPool::send`] brought no answer.
#[derive(Debug)]
pub(crate) struct SendFailure {
    pub error: PoolError,
    /// The body, untouched, when not a byte of the request left the proxy (no connection could
    /// be made before anything was written): the request may then go elsewhere, whatever its
    /// method.
    pub unsent_body: Option<LimitedBody>,
}

impl From<PoolError> for SendFailure {
    /// A failure after the request was, or may have been, written.
    fn from(error: PoolError) -> Self {
        SendFailure {
            error,
            unsent_body: None,
        }
    }
}

/// What went wrong in an exchange on an open connection.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Reading or writing the connection failed.
    #[error("upstream connection: {0}")]
    Io(#[from] io::Error),
    /// The upstream closed the connection without a byte of answer.
    #[error("the upstream closed the connection without answering")]
    Closed,
    /// The upstream closed the connection in the middle of its answer.
    #[error("the upstream closed the connection before a complete answer")]
    Truncated,
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
        connection.read.buf.clear();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    /// Number of idle connections (for status).
    pub fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// Sends one request to `authority`, in origin form whatever the form of `head.uri`, its
    /// fields as [`h1::encode_request_head`] writes them, and returns the response with its
    /// body streaming from the connection, which returns to the pool when the body has been read.
    /// The response's header map is empty: the upstream's header fields are in the body
    /// ([`PooledBody::received_fields`]; [`ReceivedFields::merged_with`] makes a map of them).
    /// `connect_timeout` bounds opening a connection; `answer`, when given, bounds the wait for
    /// the answer's head from then on (shadow traffic bounds its whole exchange itself).
    pub(crate) async fn send(
        self: &Arc<Self>,
        authority: &str,
        connect_timeout: Duration,
        answer: Option<AnswerDeadline<'_>>,
        head: &RequestHead,
        body: LimitedBody,
        replacements: &h1::Replacements<'_>,
    ) -> Result<Response<PooledBody>, SendFailure> {
        let framing = request_framing(&head.method, &body);
        let target = head.uri.path_and_query().map_or("/", |p| p.as_str());
        let encode = |buf: &mut Vec<u8>| {
            buf.clear();
            h1::encode_request_head(
                buf,
                &head.method,
                target,
                &head.fields,
                replacements,
                authority,
                framing,
            );
        };
        let (mut connection, mut fresh) = match self.checkout(authority, connect_timeout).await {
            Ok(checked_out) => checked_out,
            // Not a byte was written: the body goes back untouched.
            Err(error) => {
                return Err(SendFailure {
                    error,
                    unsent_body: Some(body),
                });
            }
        };
        let mut deadline = answer.map(|limit| limit.deadlines.sleep(limit.within));
        // A body held in memory (or none) can be written again; a streamed one cannot.
        let Some(held) = body.replayable() else {
            encode(&mut connection.write.buf);
            let exchange = self.exchange_streamed(connection, body, framing, &head.method);
            return match before(&mut deadline, exchange).await {
                Some(outcome) => Ok(outcome?),
                None => Err(timed_out(answer).into()),
            };
        };
        let mut retried = false;
        loop {
            encode(&mut connection.write.buf);
            let exchange = exchange_held(&mut connection, &held, framing, &head.method);
            match before(&mut deadline, exchange).await {
                None => return Err(timed_out(answer).into()),
                Some(Ok((head, complete))) => {
                    let keep_alive = head.keep_alive && complete;
                    return Ok(self.response(
                        head,
                        connection.read,
                        Writer::Idle(connection.write),
                        keep_alive,
                    ));
                }
                // Not a byte of answer on a connection that had served before: it went stale
                // in the instant after checkout. Sent once more when that is safe (and then,
                // whatever happens, the first try may have reached the instance).
                Some(Err(error))
                    if !fresh
                        && !retried
                        && is_idempotent(&head.method)
                        && nothing_answered(&error) =>
                {
                    retried = true;
                    let checkout = self.checkout(authority, connect_timeout);
                    (connection, fresh) = match before(&mut deadline, checkout).await {
                        Some(checked_out) => checked_out?,
                        None => return Err(timed_out(answer).into()),
                    };
                }
                Some(Err(error)) => return Err(PoolError::from(error).into()),
            }
        }
    }

    /// An idle connection (`false`) or a new one (`true`).
    async fn checkout(
        &self,
        authority: &str,
        connect_timeout: Duration,
    ) -> Result<(UpstreamConnection, bool), PoolError> {
        match poll_fn(|cx| Poll::Ready(self.take_idle(cx))).await {
            Some(connection) => Ok((connection, false)),
            None => Ok((connect(authority, connect_timeout).await?, true)),
        }
    }

    /// Writes the head (already in the write buffer) while a task of its own streams the
    /// client's body after it, and reads the answer meanwhile.
    async fn exchange_streamed(
        self: &Arc<Self>,
        connection: UpstreamConnection,
        body: LimitedBody,
        framing: RequestFraming,
        method: &Method,
    ) -> Result<Response<PooledBody>, PoolError> {
        let UpstreamConnection { mut read, write } = connection;
        let mut writing = AbortOnDrop(tokio::spawn(write_streamed(write, body, framing)));
        let mut written: Option<Result<WriteSide, ExchangeError>> = None;
        let head = {
            let mut reading = pin!(read_head(&mut read, method));
            loop {
                tokio::select! {
                    biased;
                    outcome = &mut writing.0, if written.is_none() => {
                        let outcome = outcome.unwrap_or_else(|e| Err(io::Error::other(e).into()));
                        if let Err(ExchangeError::RequestBody(error)) = outcome {
                            // The client's body failed (too large, or the client went away):
                            // that is the answer, whatever the upstream would say.
                            return Err(ExchangeError::RequestBody(error).into());
                        }
                        // Written, or the upstream stopped reading (it may have answered
                        // early): the answer decides.
                        written = Some(outcome);
                    }
                    head = &mut reading => break head,
                }
            }
        };
        let head = match (head, written) {
            (Ok(head), written_now) => {
                written = written_now;
                head
            }
            // No answer after a failed write: the write's error says more.
            (Err(_), Some(Err(write_error))) => return Err(write_error.into()),
            (Err(error), _) => return Err(error.into()),
        };
        let keep_alive = head.keep_alive;
        let writer = match written {
            Some(Ok(write)) => Writer::Idle(write),
            Some(Err(_)) => Writer::Failed,
            None => Writer::Busy(writing),
        };
        Ok(self.response(head, read, writer, keep_alive))
    }

    fn response(
        self: &Arc<Self>,
        head: h1::ResponseHead,
        read: ReadSide,
        writer: Writer,
        keep_alive: bool,
    ) -> Response<PooledBody> {
        let mut response = Response::new(PooledBody::new(
            head.fields,
            read,
            writer,
            self.clone(),
            head.framing,
            keep_alive,
        ));
        // The version stays our own (HTTP/1.1): the upstream's is a property of its hop, and a
        // proxy answers in its own version (RFC 9110, section 6.2); the head does not carry it.
        *response.status_mut() = head.status;
        response
    }
}

/// Aborts a task when dropped (the exchange it belongs to was given up).
#[derive(Debug)]
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Where the writing half of an exchange's connection is once the answer's head is in.
#[derive(Debug)]
enum Writer {
    /// The whole request was written: the half can serve the next request.
    Idle(WriteSide),
    /// The client's body is still being written by its task.
    Busy(AbortOnDrop<Result<WriteSide, ExchangeError>>),
    /// Writing failed: the connection cannot be reused.
    Failed,
}

impl Writer {
    /// The half, if the request was written in full (without waiting for a busy writer).
    fn into_idle(self) -> Option<WriteSide> {
        match self {
            Writer::Idle(write) => Some(write),
            Writer::Busy(mut task) => {
                let waker = std::task::Waker::noop();
                match Pin::new(&mut task.0).poll(&mut Context::from_waker(waker)) {
                    Poll::Ready(Ok(Ok(write))) => Some(write),
                    _ => None, // Dropping the task's handle aborts it.
                }
            }
            Writer::Failed => None,
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

/// The error of an answer that did not come within `answer`'s time.
fn timed_out(answer: Option<AnswerDeadline<'_>>) -> PoolError {
    PoolError::Timeout(answer.map_or(Duration::ZERO, |limit| limit.within))
}

/// The connection ended (closed or reset) before a single byte of answer.
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

/// Writes the head (in the write buffer) with a body held in memory, in one system call, and
/// reads the answer's head. Returns the head and whether the whole request was written (an
/// upstream may answer and close before reading it all).
async fn exchange_held(
    connection: &mut UpstreamConnection,
    bytes: &Bytes,
    framing: RequestFraming,
    method: &Method,
) -> Result<(h1::ResponseHead, bool), ExchangeError> {
    let buf = &mut connection.write.buf;
    match framing {
        RequestFraming::Chunked if !bytes.is_empty() => {
            h1::encode_chunk(buf, bytes);
            buf.extend_from_slice(LAST_CHUNK);
        }
        RequestFraming::Chunked => buf.extend_from_slice(LAST_CHUNK),
        _ => buf.extend_from_slice(bytes),
    }
    let written = connection.write.half.write_all(&connection.write.buf).await;
    let head = read_head(&mut connection.read, method).await;
    match (head, written) {
        (Ok(head), written) => Ok((head, written.is_ok())),
        // No answer after a failed write: the write's error says more (and decides a retry).
        (Err(_), Err(write_error)) => Err(write_error.into()),
        (Err(error), Ok(())) => Err(error),
    }
}

/// Writes the head (in the write buffer), then the client's body as it arrives (chunked when
/// its length is unknown); body data already at hand goes out with the head. Runs as a task of
/// its own, and hands the half back when done.
async fn write_streamed(
    mut write: WriteSide,
    mut body: LimitedBody,
    framing: RequestFraming,
) -> Result<WriteSide, ExchangeError> {
    let chunked = framing == RequestFraming::Chunked;
    let mut sent: u64 = 0;
    loop {
        // The next frame if it is already there; `None` when it has to be waited for.
        let frame = if write.buf.is_empty() {
            poll_fn(|cx| Pin::new(&mut body).poll_frame(cx).map(Some)).await
        } else {
            poll_fn(|cx| Poll::Ready(ready_frame(Pin::new(&mut body).poll_frame(cx)))).await
        };
        match frame {
            None => {
                // Nothing at hand: send what is buffered, then wait for more.
                write.half.write_all(&write.buf).await?;
                write.buf.clear();
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
                    h1::encode_chunk(&mut write.buf, &data);
                } else if data.len() <= COPY_LIMIT {
                    write.buf.extend_from_slice(&data);
                } else {
                    write.half.write_all(&write.buf).await?;
                    write.buf.clear();
                    write.half.write_all(&data).await?;
                }
            }
            Some(Some(Err(error))) => return Err(error.into()),
            Some(None) => {
                if chunked {
                    write.buf.extend_from_slice(LAST_CHUNK);
                }
                if !write.buf.is_empty() {
                    write.half.write_all(&write.buf).await?;
                    write.buf.clear();
                }
                return Ok(write);
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
    read: &mut ReadSide,
    method: &Method,
) -> Result<h1::ResponseHead, ExchangeError> {
    loop {
        if !read.buf.is_empty()
            && let Some(head) = h1::parse_response_head(&mut read.buf, method)?
        {
            return Ok(head);
        }
        if poll_fn(|cx| read.poll_fill(cx)).await? == 0 {
            return Err(if read.buf.is_empty() {
                ExchangeError::Closed
            } else {
                ExchangeError::Truncated
            });
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
    /// The header fields of the answer this body belongs to, until a writer takes them.
    fields: ReceivedFields,
    state: BodyState,
    read: Option<ReadSide>,
    writer: Option<Writer>,
    pool: Arc<ConnectionPool>,
    keep_alive: bool,
}

impl PooledBody {
    fn new(
        fields: ReceivedFields,
        read: ReadSide,
        writer: Writer,
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
            fields,
            state,
            read: Some(read),
            writer: Some(writer),
            pool,
            keep_alive,
        };
        if matches!(body.state, BodyState::Done) {
            body.finish();
        }
        body
    }

    /// The header fields the upstream sent with this answer, as received (see
    /// [`ReceivedFields`] for why they travel with the body).
    pub fn received_fields(&self) -> &ReceivedFields {
        &self.fields
    }

    /// Takes the header fields out, for the writer of the answer.
    pub fn take_received_fields(&mut self) -> ReceivedFields {
        std::mem::take(&mut self.fields)
    }

    /// The body has been read: the connection can serve the next request, unless the upstream
    /// said otherwise, sent more than the answer, or the request was not written in full.
    fn finish(&mut self) {
        self.state = BodyState::Done;
        let (Some(read), Some(writer)) = (self.read.take(), self.writer.take()) else {
            return;
        };
        if self.keep_alive
            && read.buf.is_empty()
            && let Some(write) = writer.into_idle()
        {
            self.pool.put_back(UpstreamConnection { read, write });
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, ExchangeError>>> {
        loop {
            let Some(read) = self.read.as_mut() else {
                return Poll::Ready(None);
            };
            match &mut self.state {
                BodyState::Done => return Poll::Ready(None),
                BodyState::Length(remaining) => {
                    if !read.buf.is_empty() {
                        let take = usize::try_from(*remaining)
                            .map_or(read.buf.len(), |r| r.min(read.buf.len()));
                        let data = read.buf.split_to(take).freeze();
                        *remaining -= take as u64;
                        if *remaining == 0 {
                            self.finish();
                        }
                        return Poll::Ready(Some(Ok(data)));
                    }
                }
                BodyState::Chunked(decoder) => match decoder.decode(&mut read.buf)? {
                    Decoded::Data(data) => return Poll::Ready(Some(Ok(data))),
                    Decoded::Done => {
                        self.finish();
                        return Poll::Ready(None);
                    }
                    Decoded::NeedMore => {}
                },
                BodyState::UntilClose => {
                    if !read.buf.is_empty() {
                        return Poll::Ready(Some(Ok(read.buf.split().freeze())));
                    }
                }
            }
            // The buffer is empty (or holds an incomplete chunk line): read more.
            let filled = ready!(read.poll_fill(cx))?;
            if filled == 0 {
                self.read = None;
                self.writer = None;
                if matches!(self.state, BodyState::UntilClose) {
                    self.state = BodyState::Done;
                    return Poll::Ready(None);
                }
                return Poll::Ready(Some(Err(ExchangeError::Truncated)));
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
