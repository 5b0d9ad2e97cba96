//! Body types of the forwarding path: the client's request body with a size limit enforced while
//! it streams, and the response body that is either the upstream's stream or the proxy's own.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};

use crate::h1::ReceivedFields;
use crate::pool::{ExchangeError, PooledBody};

/// Why streaming the client's body to the upstream stopped.
#[derive(Debug, thiserror::Error)]
pub enum RequestBodyError {
    /// The client sent more than the limit.
    #[error("request body exceeds {0} bytes")]
    TooLarge(u64),
    /// Reading from the client failed.
    #[error("reading the request body: {0}")]
    Client(#[from] hyper::Error),
}

/// The client's request body as the server side hands it over.
#[derive(Debug)]
pub enum ClientBody {
    /// From hyper's server.
    Hyper(Incoming),
    /// No body.
    Empty,
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            ClientBody::Hyper(inner) => Pin::new(inner).poll_frame(cx),
            ClientBody::Empty => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ClientBody::Hyper(inner) => inner.is_end_stream(),
            ClientBody::Empty => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ClientBody::Hyper(inner) => inner.size_hint(),
            ClientBody::Empty => SizeHint::with_exact(0),
        }
    }
}

/// The client's body, cut off with [`RequestBodyError::TooLarge`] once it passes `limit` bytes;
/// the forwarder finds that error in the failed exchange's cause chain and answers 413, not 502.
#[derive(Debug)]
pub struct LimitedBody {
    inner: Option<Incoming>,
    /// A body held in memory (a mirrored or replayed request), sent instead of `inner`.
    held: Option<Bytes>,
    remaining: u64,
    limit: u64,
}

impl LimitedBody {
    /// Wraps a body.
    pub fn new(inner: ClientBody, limit: u64) -> Self {
        let inner = match inner {
            ClientBody::Hyper(inner) => Some(inner),
            ClientBody::Empty => None,
        };
        LimitedBody {
            inner,
            held: None,
            remaining: limit,
            limit,
        }
    }

    /// No body at all (a replayed bodiless request).
    pub fn empty() -> Self {
        LimitedBody {
            inner: None,
            held: None,
            remaining: 0,
            limit: 0,
        }
    }

    /// A body already read into memory.
    pub fn from_bytes(bytes: Bytes) -> Self {
        LimitedBody {
            inner: None,
            held: (!bytes.is_empty()).then_some(bytes),
            remaining: 0,
            limit: 0,
        }
    }

    /// The whole body when it can be sent again: none at all, or bytes held in memory (a
    /// streamed body is consumed as it is sent).
    pub(crate) fn replayable(&self) -> Option<Bytes> {
        match (&self.held, &self.inner) {
            (Some(held), _) => Some(held.clone()),
            (None, None) => Some(Bytes::new()),
            (None, Some(inner)) => inner.is_end_stream().then(Bytes::new),
        }
    }
}

impl Body for LimitedBody {
    type Data = Bytes;
    type Error = RequestBodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, RequestBodyError>>> {
        if let Some(held) = self.held.take() {
            return Poll::Ready(Some(Ok(Frame::data(held))));
        }
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let length = data.len() as u64;
                    if length > self.remaining {
                        return Poll::Ready(Some(Err(RequestBodyError::TooLarge(self.limit))));
                    }
                    self.remaining -= length;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.held.is_none() && self.inner.as_ref().is_none_or(Incoming::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.held, &self.inner) {
            (Some(held), _) => SizeHint::with_exact(held.len() as u64),
            (None, Some(inner)) => inner.size_hint(),
            (None, None) => SizeHint::with_exact(0),
        }
    }
}

/// What the proxy sends back: the upstream's body streamed through, or a body of its own.
#[derive(Debug)]
pub enum ProxyBody {
    /// Streamed from the upstream as it arrives.
    Upstream(PooledBody),
    /// Made by the proxy (errors, admin answers).
    Local(Full<Bytes>),
    /// Streamed from the primary while a copy is kept for a shadow comparison.
    Teed(Box<TeeBody>),
}

/// The primary's body on a shadowed request: relayed as it arrives, copied up to a limit, and
/// the copy handed to the mirror when the stream ends (`None` if it was too large or cut off).
#[derive(Debug)]
pub struct TeeBody {
    inner: PooledBody,
    copy: Vec<u8>,
    limit: usize,
    overflow: bool,
    done: Option<tokio::sync::oneshot::Sender<Option<Bytes>>>,
}

impl TeeBody {
    /// Wraps the primary's body.
    pub fn new(
        inner: PooledBody,
        limit: usize,
        done: tokio::sync::oneshot::Sender<Option<Bytes>>,
    ) -> Self {
        TeeBody {
            inner,
            copy: Vec::new(),
            limit,
            overflow: false,
            done: Some(done),
        }
    }
}

impl Drop for TeeBody {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            // An empty body may never be polled; a finished one is complete either way.
            let complete = !self.overflow && self.inner.is_end_stream();
            let _ = done.send(complete.then(|| Bytes::from(std::mem::take(&mut self.copy))));
        }
    }
}

impl ProxyBody {
    /// A body of the proxy's own.
    pub fn local(bytes: impl Into<Bytes>) -> Self {
        ProxyBody::Local(Full::new(bytes.into()))
    }

    /// The header fields the upstream sent with this answer; `None` for the proxy's own.
    pub fn received_fields(&self) -> Option<&ReceivedFields> {
        match self {
            ProxyBody::Upstream(pooled) => Some(pooled.received_fields()),
            ProxyBody::Teed(tee) => Some(tee.inner.received_fields()),
            ProxyBody::Local(_) => None,
        }
    }

    /// Takes the upstream's header fields out (empty for the proxy's own answers), for the
    /// writer of the answer.
    pub fn take_received_fields(&mut self) -> ReceivedFields {
        match self {
            ProxyBody::Upstream(pooled) => pooled.take_received_fields(),
            ProxyBody::Teed(tee) => tee.inner.take_received_fields(),
            ProxyBody::Local(_) => ReceivedFields::default(),
        }
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = ExchangeError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, ExchangeError>>> {
        match self.get_mut() {
            ProxyBody::Upstream(body) => Pin::new(body).poll_frame(cx),
            ProxyBody::Teed(tee) => {
                let polled = Pin::new(&mut tee.inner).poll_frame(cx);
                match &polled {
                    Poll::Ready(Some(Ok(frame))) => {
                        if let Some(data) = frame.data_ref() {
                            if tee.copy.len() + data.len() <= tee.limit {
                                tee.copy.extend_from_slice(data);
                            } else {
                                tee.overflow = true;
                            }
                        }
                    }
                    Poll::Ready(None) => {
                        if let Some(done) = tee.done.take() {
                            let copy =
                                (!tee.overflow).then(|| Bytes::from(std::mem::take(&mut tee.copy)));
                            let _ = done.send(copy);
                        }
                    }
                    _ => {}
                }
                polled
            }
            ProxyBody::Local(body) => match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Upstream(body) => body.is_end_stream(),
            ProxyBody::Local(body) => body.is_end_stream(),
            ProxyBody::Teed(tee) => tee.inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Upstream(body) => body.size_hint(),
            ProxyBody::Local(body) => body.size_hint(),
            ProxyBody::Teed(tee) => tee.inner.size_hint(),
        }
    }
}
