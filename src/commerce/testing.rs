//! Test fixtures: a copy of the shipped seed in a tempdir, a store on it, and a mock order
//! system that serves any backend over the REST shape of [`super::http`].

use super::SqliteStore;
use crate::ports::{CommerceBackend, CommerceError};
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("knowledge/store")
}

/// Copies the shipped seed into `to`, replacing what is there.
pub(crate) fn copy_seed(to: &std::path::Path) {
    for name in super::seed::FILES {
        std::fs::copy(seed_dir().join(name), to.join(name)).unwrap();
    }
}

/// Rewrites one seed file (a JSON array) through `edit`.
pub(crate) fn edit_seed(dir: &std::path::Path, file: &str, edit: impl FnOnce(&mut Vec<serde_json::Value>)) {
    let path = dir.join(file);
    let mut records: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut records);
    std::fs::write(&path, serde_json::to_vec_pretty(&records).unwrap()).unwrap();
}

/// A store on its own copy of the seed, in a tempdir.
pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("seed")).unwrap();
        copy_seed(&dir.path().join("seed"));
        let store = SqliteStore::open(&dir.path().join("data/commerce.sqlite"), &dir.path().join("seed")).unwrap();
        Self { dir, store }
    }

    pub fn seed(&self) -> PathBuf {
        self.dir.path().join("seed")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("data/commerce.sqlite")
    }
}

type Shared = Arc<dyn CommerceBackend>;

/// A running mock order system; it stops when dropped.
pub(crate) struct MockServer {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize)]
struct ErrorDetail {
    code: &'static str,
    message: String,
}

fn refuse(status: StatusCode, code: &'static str, message: String) -> Response {
    (status, Json(ErrorBody { error: ErrorDetail { code, message } })).into_response()
}

fn answer<T: Serialize>(result: Result<T, CommerceError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(CommerceError::NotFound(m)) => refuse(StatusCode::NOT_FOUND, "not_found", m),
        Err(CommerceError::NotAllowed(m)) => refuse(StatusCode::CONFLICT, "not_allowed", m),
        Err(CommerceError::Invalid(m)) => refuse(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
        Err(CommerceError::Unavailable(m)) => refuse(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
        Err(CommerceError::Corrupt(m)) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "corrupt", m),
    }
}

fn found<T: Serialize>(result: Result<Option<T>, CommerceError>, what: String) -> Response {
    answer(result.and_then(|found| found.ok_or(CommerceError::NotFound(what))))
}

#[derive(Deserialize)]
struct StockQuery {
    size: Option<String>,
    color: Option<String>,
}

#[derive(Deserialize)]
struct CustomerQuery {
    customer_id: Option<String>,
}

fn routes(backend: Shared) -> Router {
    Router::new()
        .route("/products", get(|State(b): State<Shared>| async move { answer(b.products()) }))
        .route(
            "/products/{sku}",
            get(|State(b): State<Shared>, Path(sku): Path<String>| async move {
                found(b.product(&sku), format!("product {sku}"))
            }),
        )
        .route(
            "/stock/{sku}",
            get(|State(b): State<Shared>, Path(sku): Path<String>, Query(q): Query<StockQuery>| async move {
                answer(b.stock(&sku, q.size.as_deref(), q.color.as_deref()))
            }),
        )
        .route(
            "/customers/{id}",
            get(|State(b): State<Shared>, Path(id): Path<String>| async move {
                found(b.customer(&id), format!("customer {id}"))
            }),
        )
        .route(
            "/orders",
            get(|State(b): State<Shared>, Query(q): Query<CustomerQuery>| async move {
                answer(b.orders_of(q.customer_id.as_deref().unwrap_or_default()))
            }),
        )
        .route(
            "/orders/{id}",
            get(|State(b): State<Shared>, Path(id): Path<String>| async move {
                found(b.order(&id), format!("order {id}"))
            }),
        )
        .route(
            "/orders/{id}/shipment",
            get(|State(b): State<Shared>, Path(id): Path<String>| async move {
                found(b.shipment(&id), format!("shipment of {id}"))
            }),
        )
        .route(
            "/orders/{id}/changes",
            post(|State(b): State<Shared>, Path(id): Path<String>, Json(change)| async move {
                answer(b.change_order(&id, &change))
            }),
        )
        .route("/promotions", get(|State(b): State<Shared>| async move { answer(b.promotions()) }))
        .route(
            "/coupons",
            get(|State(b): State<Shared>, Query(q): Query<CustomerQuery>| async move {
                answer(b.coupons(q.customer_id.as_deref()))
            }),
        )
        .route("/returns", post(|State(b): State<Shared>, Json(r)| async move { answer(b.create_return(&r)) }))
        .route(
            "/restock-subscriptions",
            post(|State(b): State<Shared>, Json(r)| async move { answer(b.subscribe_restock(&r)) }),
        )
        .route("/work-orders", post(|State(b): State<Shared>, Json(r)| async move { answer(b.create_work_order(&r)) }))
        .with_state(backend)
}

async fn require_key(State(expected): State<Arc<String>>, request: Request, next: Next) -> Response {
    let given = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if given == Some(expected.as_str()) {
        next.run(request).await
    } else {
        refuse(StatusCode::UNAUTHORIZED, "unauthorized", "missing or wrong API key".into())
    }
}

/// Serves `backend` under `/api/v1` on 127.0.0.1, requiring `Authorization: Bearer <api_key>`.
pub(crate) fn serve(backend: Shared, api_key: &str) -> MockServer {
    let app = Router::new()
        .nest("/api/v1", routes(backend))
        .layer(middleware::from_fn_with_state(Arc::new(format!("Bearer {api_key}")), require_key));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
    });
    let addr = addr_rx.recv().unwrap();
    MockServer { base: format!("http://{addr}/api/v1"), stop: Some(stop) }
}

/// A server that answers every request with `response` after `delay`: the failures a real
/// order system has (slow, down, garbled). Returns its base URL.
pub(crate) fn canned(response: &'static str, delay: Duration) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                std::thread::sleep(delay);
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    format!("http://{addr}")
}
