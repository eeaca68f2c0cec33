//! Operations: a request id on every request (`x-request-id`, generated when absent and echoed
//! in the response), one tracing span per request (method, matched route, request id; status
//! and latency recorded when the response is ready, then one `served` event), request counts
//! and latency in Prometheus metrics, `/metrics` to scrape them, and graceful shutdown on
//! SIGTERM as well as Ctrl-C.
//!
//! Labels use the matched route pattern (`/api/v1/enterprises/{uscc}`), never the raw path, and
//! requests that match no route share the label [`UNMATCHED`], so clients cannot create series.
//! `/metrics` answers only loopback callers that came without a proxy's forwarding headers, or
//! callers presenting the configured `metrics_token` as a bearer token; everyone else gets 404.

use crate::error::WebError;
use crate::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Response as HttpResponse};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The request id header (generated as a UUID v4 when the client sends none).
pub const REQUEST_ID: &str = "x-request-id";
/// Route label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";
/// Histograms are folded into their buckets at least this often (and at every scrape).
const UPKEEP_SECONDS: u64 = 5;

/// The process's Prometheus recorder, installed as the global `metrics` recorder on first use.
/// Idempotent: every router of a process (tests build many) shares it.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(yuepin_metrics::HTTP_DURATION.into()),
                &yuepin_metrics::HTTP_DURATION_BUCKETS,
            )
            .expect("the latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        match metrics::set_global_recorder(recorder) {
            Ok(()) => yuepin_metrics::describe(),
            Err(_) => tracing::warn!("another metrics recorder is installed; /metrics stays empty"),
        }
        handle
    })
}

/// Adds the request id, trace and metrics layers to every route of `router` (and its fallback).
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    recorder();
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|req: &Request| {
                        let request_id = req
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!(
                            "request",
                            method = %req.method(),
                            route = route_of(req),
                            request_id,
                            status = tracing::field::Empty,
                            latency_ms = tracing::field::Empty,
                        )
                    })
                    .on_request(())
                    .on_response(|res: &HttpResponse<Body>, latency: Duration, span: &Span| {
                        span.record("status", res.status().as_u16());
                        span.record("latency_ms", latency.as_micros() as f64 / 1000.0);
                        tracing::info!("served");
                    }),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(middleware::from_fn(count)),
    )
}

fn route_of(req: &Request) -> &str {
    req.extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or(UNMATCHED)
}

async fn count(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let start = Instant::now();
    let resp = next.run(req).await;
    yuepin_metrics::http_request(
        method.as_str(),
        route.as_ref().map_or(UNMATCHED, MatchedPath::as_str),
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    upkeep();
    resp
}

/// Folds recorded histogram samples into buckets every few seconds, so memory stays bounded
/// between scrapes (the exporter has no background task of its own without its HTTP listener).
fn upkeep() {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST.load(Ordering::Relaxed);
    if now >= last + UPKEEP_SECONDS
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        recorder().run_upkeep();
    }
}

/// Resolves on Ctrl-C or SIGTERM (what service managers and orchestrators send), so that the
/// server stops accepting connections and finishes the requests in flight.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !metrics_allowed(peer, req.headers(), state.config.metrics_token.as_deref()) {
        return WebError::NotFound("/metrics 不存在 (no such page)".into()).into_response();
    }
    let pool = state.store.pool();
    yuepin_metrics::db_pool(pool.size(), pool.num_idle());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        recorder().render(),
    )
        .into_response()
}

/// Whether a caller may read `/metrics`: with the configured token as `Authorization: Bearer`,
/// or from a loopback address when no proxy forwarded the request (a proxy on the same host
/// would otherwise make every outside caller look local).
pub fn metrics_allowed(peer: Option<IpAddr>, headers: &HeaderMap, token: Option<&str>) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let (Some(expected), Some(given)) = (token.filter(|t| !t.is_empty()), bearer) {
        // Comparing digests keeps the comparison's timing independent of the token.
        if Sha256::digest(expected.as_bytes()) == Sha256::digest(given.as_bytes()) {
            return true;
        }
    }
    let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    !forwarded && peer.is_some_and(is_loopback)
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn metrics_need_loopback_without_forwarding_or_the_token() {
        let local: Option<IpAddr> = Some("127.0.0.1".parse().unwrap());
        let mapped: Option<IpAddr> = Some("::ffff:127.0.0.1".parse().unwrap());
        let remote: Option<IpAddr> = Some("203.0.113.7".parse().unwrap());
        let none = HeaderMap::new();
        assert!(metrics_allowed(local, &none, None));
        assert!(metrics_allowed(mapped, &none, None));
        assert!(metrics_allowed(Some("::1".parse().unwrap()), &none, None));
        assert!(!metrics_allowed(remote, &none, None));
        assert!(!metrics_allowed(None, &none, None));
        let proxied = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert!(!metrics_allowed(local, &proxied, None));
        let good = headers(&[("authorization", "Bearer s3cret")]);
        let bad = headers(&[("authorization", "Bearer s3cre")]);
        assert!(metrics_allowed(remote, &good, Some("s3cret")));
        assert!(!metrics_allowed(remote, &bad, Some("s3cret")));
        assert!(!metrics_allowed(remote, &good, None));
        // An empty configured token opens nothing.
        let empty = headers(&[("authorization", "Bearer ")]);
        assert!(!metrics_allowed(remote, &empty, Some("")));
    }
}
