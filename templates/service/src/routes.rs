//! The service's HTTP surface: the {{ context }} context's routes at the monolith's paths, plus
//! the operational endpoints.

use std::path::PathBuf;

use axum::Router;
use axum::routing::{{ '{' }}{{ routing_imports }}{{ '}' }};

/// Builds the router: the context's routes over its state, then `/healthz`, `/readyz`,
/// `/metrics`, request logging and a JSON 404 for unknown paths.
pub fn router(state: {{ state_type }}, db_path: PathBuf) -> Router {
    let context_routes = Router::new()
{%- for route in routes %}
        .route("{{ route.path }}", {{ route.methods }})
{%- endfor %}
        .with_state(state);
    context_routes
        .merge(crate::ops::router(db_path))
        .fallback(crate::ops::route_not_found)
        .layer(axum::middleware::from_fn(crate::ops::observe))
}
