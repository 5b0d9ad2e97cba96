//! Keep-alive connections to one upstream instance, without a task per request.
//!
//! A request checks out an idle HTTP/1.1 connection (or opens one), sends on it, and the
//! connection goes back to the pool when the response body has been fully relayed: the
//! [`PooledBody`] wrapper returns it on drop once its stream ended. A connection the upstream
//! closed while idle is discarded at checkout, and a request that was not written at all because
//! the connection died under it is retried on a fresh connection, so a stale keep-alive
//! connection never fails a client's request.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::body::LimitedBody;

/// Idle connections kept per instance; more are closed when they come back.
const MAX_IDLE: usize = 512;

type Sender = SendRequest<LimitedBody>;

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
    #[error("{0}")]
    Exchange(#[from] hyper::Error),
}

/// The idle connections of one instance.
#[derive(Debug, Default)]
pub struct ConnectionPool {
    idle: Mutex<Vec<Sender>>,
}

impl ConnectionPool {
    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn put_back(&self, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
    }

    /// Number of idle connections (for status).
    pub fn idle_count(&self) -> usize {
        self.idle.lock().map_or(0, |idle| idle.len())
    }

    /// Sends one request to `authority` and returns the response with its body wired to give
    /// the connection back when done.
    pub(crate) async fn send(
        self: &Arc<Self>,
        authority: &str,
        connect_timeout: Duration,
        mut request: Request<LimitedBody>,
    ) -> Result<Response<PooledBody>, PoolError> {
        // Pooled connections first; each may turn out dead, in which case the request comes back
        // unsent and the next one is tried. The last resort is a new connection.
        loop {
            let (mut sender, fresh) = match self.take_idle() {
                Some(sender) => (sender, false),
                None => (connect(authority, connect_timeout).await?, true),
            };
            if sender.ready().await.is_err() {
                if fresh {
                    return Err(PoolError::Connect {
                        address: authority.to_owned(),
                        reason: "connection closed before the request".into(),
                    });
                }
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    let body = PooledBody {
                        inner: body,
                        sender: Some(sender),
                        pool: self.clone(),
                        finished: false,
                    };
                    return Ok(Response::from_parts(parts, body));
                }
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) if !fresh => request = unsent,
                    _ => return Err(PoolError::Exchange(failed.into_error())),
                },
            }
        }
    }
}

async fn connect(authority: &str, timeout: Duration) -> Result<Sender, PoolError> {
    let failed = |reason: String| PoolError::Connect {
        address: authority.to_owned(),
        reason,
    };
    let stream = tokio::time::timeout(timeout, TcpStream::connect(authority))
        .await
        .map_err(|_| failed(format!("no connection within {timeout:?}")))?
        .map_err(|e| failed(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| failed(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "upstream connection ended with an error");
        }
    });
    Ok(sender)
}

/// An upstream response body that returns its connection to the pool once fully read.
#[derive(Debug)]
pub struct PooledBody {
    inner: Incoming,
    sender: Option<Sender>,
    pool: Arc<ConnectionPool>,
    finished: bool,
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.finished = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        // A body dropped half-read leaves its connection mid-message: it cannot be reused.
        if self.finished || self.inner.is_end_stream() {
            if let Some(sender) = self.sender.take() {
                self.pool.put_back(sender);
            }
        }
    }
}
