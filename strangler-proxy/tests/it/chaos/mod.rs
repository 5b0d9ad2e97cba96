//! Chaos tests: the upstreams are real processes (`strangler-test-upstream`) that get killed,
//! restarted, fail writes or hang, while a steady load of a few hundred requests per second runs
//! through a proxy serving on real loopback listeners. What the client sees is checked request
//! by request; what the proxy did is read back from its admin API, as an operator would.

mod differing_bodies;
mod failing_posts;
mod hanging_shadow;
mod killed_candidate;
mod load;
mod process;
mod unsafe_retries;

use std::time::{Duration, Instant};

use strangler_proxy::{AdminClient, ProxyStatus, RunningProxy};

use crate::support::HEADER;
use process::UpstreamProcess;

/// A proxy config: the common header, one `[upstreams.NAME]` per process (with `extra` lines
/// for the ones named there), the routes, and a default route to `mono`.
fn config(upstreams: &[(&UpstreamProcess, &str)], routes: &str) -> String {
    let mut text = HEADER.to_owned();
    for (upstream, extra) in upstreams {
        text.push_str(&format!(
            "[upstreams.{}]\nendpoints = [\"{}\"]\n{extra}\n",
            upstream.name,
            upstream.url()
        ));
    }
    text.push_str(routes);
    text.push_str("\n[default]\nprimary = \"mono\"\n");
    text
}

/// Chaos tests run one at a time: each measures its own load, and on a small machine two at once
/// would mostly measure each other.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Held for the whole of a chaos test.
async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

fn admin(proxy: &RunningProxy) -> AdminClient {
    AdminClient::new(&proxy.admin_addr().to_string(), None).expect("admin client")
}

async fn status(admin: &AdminClient) -> ProxyStatus {
    admin.status().await.expect("GET /routes")
}

/// Polls the admin API until `done` holds; panics with `what` after `limit`.
async fn wait_until(
    admin: &AdminClient,
    limit: Duration,
    what: &str,
    done: impl Fn(&ProxyStatus) -> bool,
) -> ProxyStatus {
    let deadline = Instant::now() + limit;
    loop {
        let status = status(admin).await;
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The route called `name` in a status document.
fn route<'a>(status: &'a ProxyStatus, name: &str) -> &'a strangler_proxy::status::RouteStatus {
    status
        .routes
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no route {name}"))
}
