//! The HTTP server (CONTRACT.md "HTTP API"): axum routes, DTOs, auth, limits, SSE, metrics.
//! Handlers validate and translate; every turn runs in the `ask` pipeline on a blocking thread,
//! bounded by a semaphore so overload is a 429 rather than a stalled runtime.

pub mod auth;
mod error;
mod limit;

use crate::ask::{Assistant, TurnError, TurnRequest};
use crate::config::ServerSettings;
use crate::domain::conversation::{Feedback, Rating};
use crate::domain::{Filters, Lang, SearchMode};
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
pub use error::ApiError;
use limit::RateLimiter;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tower_http::trace::TraceLayer;

/// Request bodies over this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Re-ingests the knowledge directory and swaps the new index in; returns the ingest summary.
pub type Reindex = dyn Fn() -> Result<Value, String> + Send + Sync;

#[derive(Clone)]
pub struct ServerState {
    assistant: Arc<Assistant>,
    reindex: Arc<Reindex>,
    settings: Arc<ServerSettings>,
    turns: Arc<Semaphore>,
    limiter: Arc<RateLimiter>,
    metrics: PrometheusHandle,
}

/// The one Prometheus recorder of the process (tests build several routers).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (embedding code); ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub fn router(assistant: Arc<Assistant>, reindex: Arc<Reindex>, settings: ServerSettings) -> Router {
    let state = ServerState {
        assistant,
        reindex,
        turns: Arc::new(Semaphore::new(settings.max_concurrent_turns)),
        limiter: Arc::new(RateLimiter::new(settings.rate_limit_per_sec, settings.rate_limit_burst)),
        settings: Arc::new(settings),
        metrics: metrics_handle(),
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(prometheus))
        .route("/v1/ask", post(ask))
        .route("/v1/search", post(search))
        .route("/v1/feedback", post(feedback))
        .route("/v1/gaps", get(gaps))
        .route("/v1/gaps/{id}/resolve", post(resolve_gap))
        .route("/v1/ingest", post(ingest))
        .route("/v1/stats", get(stats))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed here")
        })
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn(record_metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve(router: Router, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving");
    serve_until(router, listener, shutdown_signal()).await
}

/// Serves on `listener` until `shutdown` completes, then lets requests in flight finish.
pub async fn serve_until(
    router: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let path =
        request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [("path", path), ("status", response.status().as_u16().to_string())];
    metrics::counter!("clerk_http_requests_total", &labels).increment(1);
    metrics::histogram!("clerk_http_request_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

async fn rate_limit(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let client = match request.headers().get("x-clerk-customer").and_then(|v| v.to_str().ok()) {
        Some(token) => format!("t:{token}"),
        None => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| format!("ip:{}", c.0.ip()))
            .unwrap_or_else(|| "local".into()),
    };
    if !state.limiter.allow(&client) {
        return ApiError::rate_limited().into_response();
    }
    next.run(request).await
}

/// A JSON body whose rejections speak the contract's error format.
struct ApiJson<T>(T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}

fn require_admin(state: &ServerState, headers: &HeaderMap) -> Result<(), ApiError> {
    let header = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth::admin_ok(state.settings.admin_key.as_deref(), header) { Ok(()) } else { Err(ApiError::unauthorized()) }
}

/// The customer a valid `X-Clerk-Customer` token proves; a bad token is refused outright
/// rather than silently treated as anonymous.
fn customer(state: &ServerState, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(token) = headers.get("x-clerk-customer") else { return Ok(None) };
    let token = token.to_str().map_err(|_| ApiError::unauthorized())?;
    let now = chrono::Utc::now().timestamp();
    auth::verify(state.settings.session_secret.as_deref(), token, now)
        .map(Some)
        .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, "invalid_customer_token", e.to_string()))
}

impl From<TurnError> for ApiError {
    fn from(e: TurnError) -> Self {
        match e {
            TurnError::TooLong { .. } => ApiError::too_large(e.to_string()),
            TurnError::Invalid(_) => ApiError::invalid(e.to_string()),
            TurnError::NoIndex => ApiError::unavailable(e.to_string()),
            TurnError::Internal(_) => ApiError::internal(e),
        }
    }
}

/// Runs blocking pipeline work under the turn semaphore: a short wait, then 429.
async fn run_blocking<T: Send + 'static>(
    state: &ServerState,
    work: impl FnOnce() -> Result<T, TurnError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit = tokio::time::timeout(Duration::from_millis(500), Arc::clone(&state.turns).acquire_owned())
        .await
        .map_err(|_| ApiError::overloaded())?
        .map_err(|_| ApiError::unavailable("shutting down"))?;
    let result = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(result?)
}

async fn healthz(State(state): State<ServerState>) -> Response {
    match state.assistant.health() {
        Some(h) => {
            Json(json!({"status": "ok", "generation": h.generation, "documents": h.documents, "chunks": h.chunks}))
                .into_response()
        }
        None => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "loading"}))).into_response(),
    }
}

async fn prometheus(State(state): State<ServerState>) -> Response {
    ([("content-type", "text/plain; version=0.0.4")], state.metrics.render()).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AskBody {
    message: String,
    session_id: Option<String>,
    locale: Option<String>,
    #[serde(default)]
    stream: bool,
    order_proof: Option<String>,
}

async fn ask(State(state): State<ServerState>, headers: HeaderMap, ApiJson(body): ApiJson<AskBody>) -> Response {
    match ask_reply(&state, &headers, body).await {
        Ok((reply, false)) => Json(reply).into_response(),
        Ok((reply, true)) => sse_reply(reply).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn ask_reply(
    state: &ServerState,
    headers: &HeaderMap,
    body: AskBody,
) -> Result<(crate::domain::turn::Reply, bool), ApiError> {
    let customer_id = customer(state, headers)?;
    let locale = match body.locale.as_deref() {
        None => None,
        Some("zh") => Some(Lang::Zh),
        Some("en") => Some(Lang::En),
        Some(other) => return Err(ApiError::invalid(format!("locale must be \"zh\" or \"en\", not {other:?}"))),
    };
    let request = TurnRequest {
        message: body.message,
        session_id: body.session_id,
        locale,
        customer_id,
        order_proof: body.order_proof,
    };
    let assistant = Arc::clone(&state.assistant);
    let reply = run_blocking(state, move || assistant.turn(request)).await?;
    metrics::counter!("clerk_turns_total", "intent" => reply.intent.as_str(), "answered" => reply.answered.to_string())
        .increment(1);
    if let Some(handoff) = &reply.handoff {
        metrics::counter!("clerk_handoffs_total", "reason" => format!("{:?}", handoff.reason)).increment(1);
    }
    Ok((reply, body.stream))
}

/// `meta` (everything but the answer), `delta` pieces of the answer, then `done`.
fn sse_reply(reply: crate::domain::turn::Reply) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let mut meta = serde_json::to_value(&reply).unwrap_or_default();
    if let Some(object) = meta.as_object_mut() {
        object.remove("answer");
    }
    let mut events = vec![Event::default().event("meta").data(meta.to_string())];
    for piece in answer_pieces(&reply.answer) {
        events.push(Event::default().event("delta").data(json!({"text": piece}).to_string()));
    }
    let done = serde_json::to_string(&reply).unwrap_or_default();
    events.push(Event::default().event("done").data(done));
    Sse::new(tokio_stream::iter(events.into_iter().map(Ok)))
}

/// The answer cut after sentence ends and line breaks, so a widget can render as it arrives.
fn answer_pieces(answer: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for c in answer.chars() {
        current.push(c);
        if matches!(c, '\n' | '。' | '！' | '？' | '.' | '!' | '?') && current.chars().count() >= 8 {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchBody {
    query: String,
    k: Option<usize>,
    mode: Option<SearchMode>,
    filters: Option<Filters>,
}

async fn search(State(state): State<ServerState>, ApiJson(body): ApiJson<SearchBody>) -> Result<Response, ApiError> {
    let k = body.k.unwrap_or(10);
    if !(1..=100).contains(&k) {
        return Err(ApiError::invalid("k must be 1 to 100"));
    }
    if body.query.chars().count() > crate::ask::MAX_MESSAGE_CHARS {
        return Err(ApiError::too_large("query is over 4,000 characters"));
    }
    let request = crate::ask::retrieve::SearchRequest {
        query: body.query,
        k,
        mode: body.mode.unwrap_or_default(),
        filters: body.filters.unwrap_or_default(),
    };
    let assistant = Arc::clone(&state.assistant);
    let result = run_blocking(&state, move || assistant.search(&request)).await?;
    Ok(Json(result).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    session_id: String,
    turn_id: String,
    rating: Rating,
    csat: Option<u8>,
    comment: Option<String>,
}

async fn feedback(
    State(state): State<ServerState>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<Response, ApiError> {
    if body.comment.as_ref().is_some_and(|c| c.chars().count() > crate::ask::MAX_MESSAGE_CHARS) {
        return Err(ApiError::too_large("comment is over 4,000 characters"));
    }
    let feedback = Feedback {
        session_id: body.session_id,
        turn_id: body.turn_id,
        rating: body.rating,
        csat: body.csat,
        comment: body.comment,
        at: chrono::Utc::now(),
    };
    let assistant = Arc::clone(&state.assistant);
    run_blocking(&state, move || assistant.feedback(&feedback)).await?;
    Ok(Json(json!({"status": "recorded"})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GapsQuery {
    #[serde(default)]
    include_resolved: bool,
}

async fn gaps(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Query(query): Query<GapsQuery>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let assistant = Arc::clone(&state.assistant);
    let groups = run_blocking(&state, move || assistant.gap_groups(query.include_resolved)).await?;
    Ok(Json(json!({"groups": groups})).into_response())
}

async fn resolve_gap(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let assistant = Arc::clone(&state.assistant);
    let group = id.clone();
    if run_blocking(&state, move || assistant.resolve_gap_group(&group)).await? {
        Ok(Json(json!({"id": id, "resolved": true})).into_response())
    } else {
        Err(ApiError::not_found(format!("no open gap group {id}")))
    }
}

async fn ingest(State(state): State<ServerState>, headers: HeaderMap) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let reindex = Arc::clone(&state.reindex);
    let summary = tokio::task::spawn_blocking(move || reindex())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(summary).into_response())
}

async fn stats(State(state): State<ServerState>, headers: HeaderMap) -> Result<Response, ApiError> {
    require_admin(&state, &headers)?;
    let assistant = Arc::clone(&state.assistant);
    let stats = run_blocking(&state, move || assistant.stats()).await?;
    Ok(Json(stats).into_response())
}
