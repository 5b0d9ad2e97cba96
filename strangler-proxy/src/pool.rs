//! Keep-alive connections to one upstream instance, without a task per request.
//!
//! A request checks out an idle HTTP/1.1 connection (or opens one), sends on it, and the
//! connection goes back to the pool when the response body has been fully relayed: the
//! [`PooledBody`] wrapper returns it on drop once its stream ended.
//!
//! The upstream connection is driven by the task of the client connection that uses it, not by
//! a task of its own: the request future and then the response body poll the connection
//! alongside themselves. A request then costs no wake-ups across tasks, which is most of what a
//! separate connection task would add per request. A connection the upstream
//! closed while idle is discarded at checkout, and a request that was not written at all because
//! the connection died under it is retried on a fresh connection, so a stale keep-alive
//! connection never fails a client's request.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::body::LimitedBody;

/// Idle connections kept per instance; more are closed when they come back.
const MAX_IDLE: usize = 512;

type Sender = SendRequest<LimitedBody>;
type Driver = Pin<Box<Connection<TokioIo<TcpStream>, LimitedBody>>>;

/// One keep-alive connection: the handle to send on and the state machine that runs it (`None`
/// once it has ended).
#[derive(Debug)]
struct UpstreamConnection {
    sender: Sender,
    driver: Option<Driver>,
}

impl UpstreamConnection {
    fn is_closed(&self) -> bool {
        self.driver.is_none() || self.sender.is_closed()
    }
}

/// Polls `future` to completion while also driving the connection it depends on.
async fn driving<F: Future>(driver: &mut Option<Driver>, future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(output);
        }
        match driver.as_mut() {
            Some(connection) => {
                if connection.as_mut().poll(cx).is_ready() {
                    // Ended (closed or failed): dropping it fails whatever still waits on it.
                    *driver = None;
                }
                future.as_mut().poll(cx)
            }
            None => Poll::Pending,
        }
    })
    .await
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
    #[error("{0}")]
    Exchange(#[from] hyper::Error),
}

/// The idle connections of one instance.
#[derive(Debug, Default)]
pub struct ConnectionPool {
    idle: Mutex<Vec<UpstreamConnection>>,
}

impl ConnectionPool {
    fn take_idle(&self) -> Option<UpstreamConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(connection) = idle.pop() {
            if !connection.is_closed() {
                return Some(connection);
            }
        }
        None
    }

    fn put_back(&self, connection: UpstreamConnection) {
        if connection.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(connection);
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
            let (mut connection, fresh) = match self.take_idle() {
                Some(connection) => (connection, false),
                None => (connect(authority, connect_timeout).await?, true),
            };
            let UpstreamConnection { sender, driver } = &mut connection;
            if driving(driver, sender.ready()).await.is_err() {
                if fresh {
                    return Err(PoolError::Connect {
                        address: authority.to_owned(),
                        reason: "connection closed before the request".into(),
                    });
                }
                continue;
            }
            let sent = sender.try_send_request(request);
            match driving(driver, sent).await {
                Ok(response) => {
                    let (parts, body) = response.into_parts();
                    let body = PooledBody {
                        inner: body,
                        connection: Some(connection),
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
    let (sender, connection) = http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(UpstreamConnection {
        sender,
        driver: Some(Box::pin(connection)),
    })
}

/// An upstream response body that drives its connection while it streams and returns the
/// connection to the pool once fully read.
#[derive(Debug)]
pub struct PooledBody {
    inner: Incoming,
    connection: Option<UpstreamConnection>,
    pool: Arc<ConnectionPool>,
    finished: bool,
}

impl PooledBody {
    fn poll_inner(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.finished = true;
        }
        polled
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = this.poll_inner(cx) {
            return Poll::Ready(frame);
        }
        // The data we wait for comes from the connection: run it, then look again.
        if let Some(connection) = this.connection.as_mut()
            && let Some(driver) = connection.driver.as_mut()
            && driver.as_mut().poll(cx).is_ready()
        {
            connection.driver = None;
        }
        this.poll_inner(cx)
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
        if (self.finished || self.inner.is_end_stream())
            && let Some(connection) = self.connection.take()
        {
            self.pool.put_back(connection);
        }
    }
}
