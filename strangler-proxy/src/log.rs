//! The proxy's structured log: JSON lines (one per request when the access log is on, one per
//! notable event such as a reload) written to stderr or a file by a dedicated thread.
//!
//! The request path only formats a line and hands it over a bounded channel; when the writer
//! falls behind, lines are dropped and counted rather than slowing requests down.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use serde::Serialize;

use crate::config::{LogConfig, LogTarget};
use crate::ids::now_rfc3339;
use crate::metrics::MetricsRegistry;

const QUEUE: usize = 16 * 1024;

enum LogMessage {
    Line(String),
    /// Answered once every line queued before it is written and flushed.
    Flush(SyncSender<()>),
}

/// One access log line.
#[derive(Debug, Serialize)]
pub struct AccessRecord<'a> {
    /// When the response head was sent (RFC 3339, UTC).
    pub time: String,
    /// The request's `X-Request-Id`.
    pub request_id: &'a str,
    /// The client's address.
    pub client: String,
    /// HTTP method.
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// Route name.
    pub route: &'a str,
    /// `primary` or `candidate`.
    pub side: &'a str,
    /// Upstream name.
    pub upstream: &'a str,
    /// The instance that served it, if one was contacted.
    pub endpoint: Option<&'a str>,
    /// Status sent to the client.
    pub status: u16,
    /// Time to response head, milliseconds.
    pub latency_ms: f64,
    /// Why the proxy answered itself, if it did.
    pub failure: Option<&'a str>,
    /// The candidate failed and the primary answered instead.
    pub fallback: bool,
}

/// Hands lines to the writer thread.
#[derive(Debug, Clone)]
pub struct EventLog {
    sender: Option<SyncSender<LogMessage>>,
    access: bool,
    metrics: Arc<MetricsRegistry>,
}

impl EventLog {
    /// Opens the target and starts the writer thread (none when the target is `off`).
    pub(crate) fn start(
        config: &LogConfig,
        metrics: Arc<MetricsRegistry>,
    ) -> std::io::Result<Self> {
        let writer: Box<dyn Write + Send> = match &config.target {
            LogTarget::Off => {
                return Ok(EventLog {
                    sender: None,
                    access: false,
                    metrics,
                });
            }
            LogTarget::Stderr => Box::new(std::io::stderr()),
            LogTarget::File(path) => {
                Box::new(OpenOptions::new().create(true).append(true).open(path)?)
            }
        };
        let (sender, receiver) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("strangler-log".into())
            .spawn(move || write_lines(receiver, writer))?;
        Ok(EventLog {
            sender: Some(sender),
            access: config.access,
            metrics,
        })
    }

    /// Whether per-request lines are wanted (so callers can skip building them).
    pub fn access_enabled(&self) -> bool {
        self.access
    }

    /// Logs one request.
    pub fn access(&self, record: &AccessRecord<'_>) {
        if self.access
            && let Ok(line) = serde_json::to_string(record)
        {
            self.send(line);
        }
    }

    /// Logs an event: `{"time":..,"event":name, ...fields}`.
    pub fn event(&self, name: &str, fields: serde_json::Value) {
        let mut object = serde_json::Map::new();
        object.insert("time".into(), now_rfc3339().into());
        object.insert("event".into(), name.into());
        if let serde_json::Value::Object(fields) = fields {
            object.extend(fields);
        }
        tracing::info!(
            event = name,
            "{}",
            serde_json::Value::Object(object.clone())
        );
        self.send(serde_json::Value::Object(object).to_string());
    }

    /// Waits (up to a second) until every line logged so far is written: called at shutdown so
    /// the last lines are not lost when the process exits.
    pub fn flush(&self) {
        if let Some(sender) = &self.sender {
            let (done, written) = sync_channel(1);
            if sender.send(LogMessage::Flush(done)).is_ok() {
                let _ = written.recv_timeout(std::time::Duration::from_secs(1));
            }
        }
    }

    fn send(&self, line: String) {
        if let Some(sender) = &self.sender
            && let Err(TrySendError::Full(_)) = sender.try_send(LogMessage::Line(line))
        {
            self.metrics.global.log_dropped.fetch_add(1, Relaxed);
        }
    }
}

fn write_lines(receiver: Receiver<LogMessage>, writer: Box<dyn Write + Send>) {
    let mut writer = BufWriter::new(writer);
    let mut waiting = Vec::new();
    while let Ok(message) = receiver.recv() {
        let mut next = Some(message);
        while let Some(message) = next {
            match message {
                LogMessage::Line(line) => {
                    let _ = writeln!(writer, "{line}");
                }
                LogMessage::Flush(done) => waiting.push(done),
            }
            next = receiver.try_recv().ok();
        }
        let _ = writer.flush();
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}
