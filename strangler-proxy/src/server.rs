//! Running the proxy: bind both listeners, serve connections, watch the config file and SIGHUP,
//! and shut down gracefully.
//!
//! [`Proxy::start`] is the embedding API (the CLI, the demo and the tests use it): it binds the
//! configured addresses (port 0 picks a free port), returns a [`RunningProxy`] that reports the
//! bound addresses, and serves until [`RunningProxy::shutdown`] or drop.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::Poll;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::body::ProxyBody;
use crate::config::ValidConfig;
use crate::deadline::{Deadlines, HyperTimer};
use crate::fast_path::{self, HeadLimits, Replay};
use crate::forward::{ClientPeer, X_REQUEST_ID};
use crate::ids::stable_hash;
use crate::log::EventLog;
use crate::message::{ClientRequest, ProxyResponse};
use crate::metrics::MetricsRegistry;
use crate::state::{ReloadError, Shared, WeightError};
use crate::status::ProxyStatus;

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("cannot listen on {address} ({which}): {source}")]
    Bind {
        /// `proxy` or `admin`.
        which: &'static str,
        /// The address asked for.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The log file could not be opened.
    #[error("cannot open the log: {0}")]
    Log(std::io::Error),
    /// The SIGHUP handler could not be installed.
    #[error("cannot listen for SIGHUP: {0}")]
    Signal(std::io::Error),
}

/// Optional behaviour of a started proxy.
#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// Reload the config file on SIGHUP (the CLI sets this; embedders usually do not).
    pub reload_on_sighup: bool,
}

/// Starts proxies.
#[derive(Debug)]
pub struct Proxy;

impl Proxy {
    /// Binds the configured listeners and starts serving.
    pub async fn start(config: ValidConfig) -> Result<RunningProxy, StartError> {
        Proxy::start_with(config, ProxyOptions::default()).await
    }

    /// [`Proxy::start`] with options.
    pub async fn start_with(
        config: ValidConfig,
        options: ProxyOptions,
    ) -> Result<RunningProxy, StartError> {
        let bind = |which, address| async move {
            TcpListener::bind(address)
                .await
                .map_err(|source| StartError::Bind {
                    which,
                    address,
                    source,
                })
        };
        let proxy_listener = bind("proxy", config.listen).await?;
        let admin_listener = bind("admin", config.admin).await?;
        let listen_addr = local_addr(&proxy_listener, config.listen);
        let admin_addr = local_addr(&admin_listener, config.admin);
        let metrics = Arc::new(MetricsRegistry::default());
        let log = EventLog::start(&config.log, metrics.clone()).map_err(StartError::Log)?;
        let drain = config.timeouts.drain;
        let watch_interval = config.watch_interval;
        let loaded_hash = config.source_hash;
        let header_limits = (
            config.limits.max_header_bytes,
            config.timeouts.client_header,
        );
        let shared = Shared::new(config, log, metrics);
        let (stop, stopped) = watch::channel(false);

        let mut background = Vec::new();
        if let (Some(interval), Some(path)) = (watch_interval, shared.source.clone()) {
            background.push(tokio::spawn(watch_file(
                shared.clone(),
                path,
                interval,
                loaded_hash,
            )));
        }
        if options.reload_on_sighup {
            background.push(spawn_sighup(shared.clone()).map_err(StartError::Signal)?);
        }
        let proxy_shared = shared.clone();
        let proxy_task = tokio::spawn(serve(
            proxy_listener,
            stopped.clone(),
            drain,
            header_limits,
            move |request, peer: &ClientPeer| {
                crate::forward::handle(proxy_shared.clone(), request, peer.clone())
            },
            Some(shared.clone()),
        ));
        let admin_shared = shared.clone();
        let admin_task = tokio::spawn(serve(
            admin_listener,
            stopped,
            Duration::from_secs(2),
            (64 * 1024, Duration::from_secs(10)),
            move |request: ClientRequest, _peer: &ClientPeer| {
                let answer = crate::admin::handle(admin_shared.clone(), request.into_http());
                async move { answer.await.map(ProxyResponse::from) }
            },
            None,
        ));
        shared.log.event(
            "started",
            serde_json::json!({"listen": listen_addr.to_string(), "admin": admin_addr.to_string()}),
        );
        Ok(RunningProxy {
            listen_addr,
            admin_addr,
            shared,
            stop,
            proxy_task: Some(proxy_task),
            admin_task: Some(admin_task),
            background,
        })
    }
}

fn local_addr(listener: &TcpListener, configured: SocketAddr) -> SocketAddr {
    listener.local_addr().unwrap_or(configured)
}

/// A proxy that is serving. Dropping it stops it without draining; call
/// [`RunningProxy::shutdown`] to drain in-flight requests first.
pub struct RunningProxy {
    listen_addr: SocketAddr,
    admin_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    proxy_task: Option<JoinHandle<bool>>,
    admin_task: Option<JoinHandle<bool>>,
    background: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningProxy")
            .field("listen_addr", &self.listen_addr)
            .field("admin_addr", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Every in-flight request finished within the drain time.
    pub drained: bool,
}

impl RunningProxy {
    /// Where the proxy listener is bound.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen_addr
    }

    /// Where the admin listener is bound.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// Re-reads the config file (what `POST /reload`, SIGHUP and the file watcher do).
    pub fn reload(&self) -> Result<u64, ReloadError> {
        self.shared.reload("api")
    }

    /// Sets a route's weight (what `PUT /routes/{name}` does); returns the new table version.
    pub fn set_weight(&self, route: &str, weight: u32) -> Result<u64, WeightError> {
        self.shared.set_weight(route, weight)
    }

    /// The status document of `GET /routes`.
    pub fn status(&self) -> ProxyStatus {
        self.shared.status()
    }

    /// The Prometheus text of `GET /metrics`.
    pub fn metrics_text(&self) -> String {
        self.shared.prometheus()
    }

    /// Stops accepting, lets in-flight requests finish (up to the configured drain time), then
    /// stops everything.
    pub async fn shutdown(mut self) -> ShutdownReport {
        let _ = self.stop.send(true);
        let mut drained = true;
        for task in [self.proxy_task.take(), self.admin_task.take()]
            .into_iter()
            .flatten()
        {
            drained &= task.await.unwrap_or(false);
        }
        self.shared
            .log
            .event("stopped", serde_json::json!({"drained": drained}));
        let log = self.shared.log.clone();
        // Flushing blocks briefly; keep it off the async workers.
        let _ = tokio::task::spawn_blocking(move || log.flush()).await;
        ShutdownReport { drained }
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.background {
            task.abort();
        }
        for task in [self.proxy_task.take(), self.admin_task.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        self.shared.stop_background();
    }
}

/// Accepts connections until told to stop, then drains; returns whether draining finished in time.
/// With `counted`, a request hyper refuses itself before the handler sees it (a malformed head:
/// 400; a head over the limit: 431) counts in that proxy's `rejected` metric, and connections
/// start on the [`fast_path`](crate::fast_path) (the proxy listener; the admin API is served by
/// hyper alone).
async fn serve<F, Fut>(
    listener: TcpListener,
    mut stopped: watch::Receiver<bool>,
    drain: Duration,
    (max_header_bytes, header_timeout): (usize, Duration),
    handler: F,
    counted: Option<Arc<Shared>>,
) -> bool
where
    F: Fn(ClientRequest, &ClientPeer) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<ProxyResponse, Infallible>> + Send + 'static,
{
    let deadlines = Deadlines::new();
    // Aborted when this function returns or is itself dropped (an aborted proxy task).
    let _ticker = AbortOnDrop(tokio::spawn(deadlines.clone().run()));
    let mut builder = http1::Builder::new();
    builder
        .timer(HyperTimer(deadlines.clone()))
        .header_read_timeout(header_timeout)
        .max_header_size(max_header_bytes)
        .max_buf_size(max_header_bytes.max(8192) + 8192)
        .keep_alive(true)
        // One buffer per answer (head and body data copied together) rather than a queue of
        // buffers for `writev`: 1.6% fewer instructions per proxied request for API-sized
        // answers (bench/proxy.sh --instructions); a large body costs a copy per chunk read.
        .writev(false);
    let builder = Arc::new(builder);
    let limits = HeadLimits {
        max_header_bytes,
        header_timeout,
    };
    // The open connections: waited for when draining, aborted when the drain time runs out
    // (or when this task is aborted), so none outlives the proxy.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let peer = ClientPeer::new(peer, deadlines.clone());
                    let connection = connection(
                        stream,
                        peer,
                        handler.clone(),
                        builder.clone(),
                        counted.is_some().then_some((limits, deadlines.clone())),
                        stopped.clone(),
                    );
                    let counted = counted.clone();
                    // Finished ones are reaped here, so the set holds the open ones only.
                    while connections.try_join_next().is_some() {}
                    connections.spawn(async move {
                        let result = connection.await;
                        if let Err(error) = result
                            && error.is_parse()
                            && let Some(shared) = counted
                        {
                            shared.metrics.global.rejected.fetch_add(1, Relaxed);
                        }
                    });
                }
                Err(error) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    // Fast-path connections waiting for a head close; busy ones close after their answer.
    deadlines.stop_head_waits();
    let all_closed = async { while connections.join_next().await.is_some() {} };
    tokio::time::timeout(drain, all_closed).await.is_ok()
}

/// One client connection: on the fast path when `fast` holds its limits and clock, by hyper
/// from the start otherwise (or from the first request the fast path leaves to hyper).
async fn connection<F, Fut>(
    stream: TcpStream,
    peer: ClientPeer,
    handler: F,
    builder: Arc<http1::Builder>,
    fast: Option<(HeadLimits, Arc<Deadlines>)>,
    stopped: watch::Receiver<bool>,
) -> Result<(), hyper::Error>
where
    F: Fn(ClientRequest, &ClientPeer) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<ProxyResponse, Infallible>> + Send + 'static,
{
    let hyper_handler = handler.clone();
    let hyper_peer = peer.clone();
    let service = service_fn(move |request: Request<Incoming>| {
        let answer = hyper_handler(ClientRequest::from_hyper(request), &hyper_peer);
        async move {
            let ProxyResponse {
                mut response,
                request_id,
            } = answer.await?;
            // hyper writes the header map only.
            let fields = response.body_mut().take_received_fields();
            if !fields.is_empty() {
                *response.headers_mut() = fields.merged_with(response.headers());
            }
            if let Some(id) = request_id.and_then(|id| id.to_header_value()) {
                response.headers_mut().insert(X_REQUEST_ID, id);
            }
            Ok::<_, Infallible>(response)
        }
    });
    let by_hyper = move |io: Replay, stopped| serve_by_hyper(builder, io, service, stopped);
    match fast {
        Some((limits, deadlines)) => {
            fast_path::serve_connection(stream, peer, handler, limits, deadlines, stopped, by_hyper)
                .await
        }
        None => by_hyper(Replay::fresh(stream), stopped).await,
    }
}

/// The rest of a connection served by hyper; on stop it finishes what is in flight and closes.
async fn serve_by_hyper<S>(
    builder: Arc<http1::Builder>,
    io: Replay,
    service: S,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), hyper::Error>
where
    S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<ProxyBody>,
            Error = Infallible,
        >,
    S::Future: Send + 'static,
{
    let connection = builder.serve_connection(TokioIo::new(io), service);
    let mut connection = std::pin::pin!(connection);
    // One poll first: hyper reads the bytes the fast path handed over (a stop applied before
    // that would find the connection idle and close it with a request unanswered).
    let first = std::future::poll_fn(|cx| Poll::Ready(connection.as_mut().poll(cx))).await;
    if let Poll::Ready(result) = first {
        return result;
    }
    if !*stopped.borrow_and_update() {
        tokio::select! {
            result = connection.as_mut() => return result,
            // A change means stopping; an error means the proxy is gone.
            _ = stopped.changed() => {}
        }
    }
    connection.as_mut().graceful_shutdown();
    connection.await
}

/// Aborts a task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reloads whenever the file's content changes (polling: works on every filesystem, including
/// the bind mounts and ConfigMaps where change notifications do not arrive).
async fn watch_file(
    shared: Arc<Shared>,
    path: std::path::PathBuf,
    interval: Duration,
    loaded_hash: Option<u64>,
) {
    let fingerprint = |bytes: &[u8]| stable_hash(bytes);
    let mut last = loaded_hash;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Ok(bytes) = tokio::fs::read(&path).await else {
            continue;
        };
        let now = Some(fingerprint(&bytes));
        if now != last {
            last = now;
            let _ = shared.reload("file_changed");
        }
    }
}

fn spawn_sighup(shared: Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let _ = shared.reload("sighup");
        }
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// The header read timeout runs on the proxy's own coarse clock (`deadline`): a client that
    /// never finishes its request head is cut off after `client_header`, not before, while a
    /// client that does is served on the same kind of connection.
    #[tokio::test]
    async fn a_client_that_never_finishes_its_head_is_cut_off_after_the_header_timeout() {
        let config = ValidConfig::from_toml_str(
            r#"
listen = "127.0.0.1:0"
admin = "127.0.0.1:0"
watch_config = "off"
[log]
target = "off"
[timeouts]
client_header = "300ms"
[upstreams.mono]
endpoints = ["http://127.0.0.1:1"]
[default]
primary = "mono"
"#,
            "<test>",
        )
        .expect("valid config");
        let proxy = Proxy::start(config).await.expect("start");
        let mut stream = TcpStream::connect(proxy.listen_addr())
            .await
            .expect("connect");
        let started = Instant::now();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        let waited = started.elapsed();
        assert!(read.is_ok(), "the connection was not closed within 5 s");
        assert!(
            waited >= Duration::from_millis(300),
            "closed before the header timeout: {waited:?}"
        );

        // A complete head on a fresh connection is answered (502: no upstream listens).
        let mut stream = TcpStream::connect(proxy.listen_addr())
            .await
            .expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .expect("answered in time")
            .expect("read");
        assert!(
            answer.starts_with(b"HTTP/1.1 502"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        proxy.shutdown().await;
    }
}
