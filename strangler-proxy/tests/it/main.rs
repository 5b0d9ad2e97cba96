//! Integration tests of strangler-proxy: real upstreams and the proxy on `127.0.0.1:0`, real HTTP.

mod access_log;
mod admin;
mod chaos;
mod client_wire;
mod config;
mod fallback;
mod forwarding;
mod health;
mod limits;
mod no_request_lost;
mod outlier;
mod progressive;
mod reload;
mod rollback;
mod routing;
mod shadow;
mod support;
mod throttle;
mod upstream_wire;
