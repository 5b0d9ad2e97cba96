//! Upstreams as real processes (the `strangler-test-upstream` binary of this package) that a
//! test can kill and start again on the same port; killed on drop, also when a test fails.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::support::TestClient;

const BINARY: &str = env!("CARGO_BIN_EXE_strangler-test-upstream");
/// How long a starting upstream may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// One upstream process.
pub struct UpstreamProcess {
    pub name: String,
    pub addr: SocketAddr,
    args: Vec<String>,
    child: Option<Child>,
}

impl UpstreamProcess {
    /// Starts `strangler-test-upstream --name NAME ARGS...` on a free loopback port.
    pub fn start(name: &str, args: &[&str]) -> UpstreamProcess {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let (child, addr) = spawn(name, "127.0.0.1:0", &args);
        UpstreamProcess {
            name: name.to_owned(),
            addr,
            args,
            child: Some(child),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL, like a crash: no draining, open connections reset by the kernel.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again, same arguments, same port.
    pub fn restart(&mut self) {
        self.kill();
        let (child, addr) = spawn(&self.name, &self.addr.to_string(), &self.args);
        assert_eq!(addr, self.addr, "restarted on another address");
        self.child = Some(child);
    }

    /// Requests served so far by method (from its `/stats`, which a hanging upstream answers
    /// too).
    pub async fn served(&self, client: &TestClient, method: &str) -> u64 {
        let reply = client.get(&format!("{}/stats", self.url()), &[]).await;
        let stats: Value = serde_json::from_slice(&reply.body).expect("stats JSON");
        stats["requests"][method].as_u64().unwrap_or(0)
    }
}

impl Drop for UpstreamProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(name: &str, listen: &str, args: &[String]) -> (Child, SocketAddr) {
    let mut child = Command::new(BINARY)
        .args(["--name", name, "--listen", listen, "--stop-on-eof"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {BINARY}: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok());
    match addr {
        Some(addr) => (child, addr),
        None => {
            let _ = child.kill();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            let _ = child.wait();
            panic!("upstream {name} did not start on {listen}: {line:?} {stderr}");
        }
    }
}
