//! `clerk bench ask`: `/v1/ask` over loopback HTTP against an in-process server, for knowledge
//! questions and tool questions, with 1 client and with many concurrent clients.
//!
//! The server is the real router with the real assistant, except that the rate limit is off
//! and turns go to a scratch conversation database, so a run leaves no sessions or gaps behind.
//! Questions come from an intent suite (default `evals/intents.jsonl`); mutating intents
//! (order changes, returns) are left out so the shop's data is never touched.

use super::{BenchError, Latency};
use crate::app::{App, AppError};
use crate::ask::assistant::Clock;
use crate::domain::turn::Intent;
use crate::eval::cases::{Case, read_suite};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Answered from the knowledge base: retrieval and composition.
const KNOWLEDGE_INTENTS: [Intent; 4] =
    [Intent::PolicyQuestion, Intent::ProductInfo, Intent::HowTo, Intent::FaultDiagnosis];
/// Answered by read-only commerce tools (and pricing).
const TOOL_INTENTS: [Intent; 4] =
    [Intent::OrderStatus, Intent::InventoryCheck, Intent::PriceQuote, Intent::PointsBalance];

#[derive(Debug, Clone)]
pub struct AskBenchOptions {
    /// Concurrent clients of the second measurement (the first always has 1).
    pub clients: usize,
    /// Requests per kind in the 1-client measurement.
    pub sequential_requests: usize,
    /// Requests per client per kind in the concurrent measurements.
    pub requests_per_client: usize,
    /// Offered load of the paced run, all clients together; 0 skips it.
    pub paced_rate: f64,
}

/// One bench question: the body of a `/v1/ask` request and the bearer token to send with it.
#[derive(Debug, Clone)]
struct BenchQuestion {
    body: String,
    token: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AskRun {
    pub kind: String,
    pub clients: usize,
    /// Offered requests/s when the clients were paced; None when each sent as fast as it could.
    pub paced_rate: Option<f64>,
    pub requests: usize,
    pub errors: usize,
    pub latency: Latency,
    pub requests_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AskFigures {
    pub knowledge_questions: usize,
    pub tool_questions: usize,
    pub runs: Vec<AskRun>,
    pub peak_memory_mib: Option<f64>,
}

pub fn ask(app: &App, suite: &Path, options: &AskBenchOptions) -> Result<AskFigures, BenchError> {
    let cases = read_suite(suite)?;
    let secret = format!("bench-{}", uuid::Uuid::new_v4());
    let expires = chrono::Utc::now().timestamp() + 86_400;
    let shop = app.commerce()?;
    let knowledge = questions(shop.as_ref(), &cases, &KNOWLEDGE_INTENTS, &secret, expires)?;
    let tools = questions(shop.as_ref(), &cases, &TOOL_INTENTS, &secret, expires)?;
    if knowledge.is_empty() || tools.is_empty() {
        return Err(BenchError::NoText(format!("{} has no knowledge or no tool questions", suite.display())));
    }

    let scratch = app.settings.data_dir.join("bench-scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| BenchError::Io(format!("{}: {e}", scratch.display())))?;
    let clock = app.settings.server.fixed_now.map(Clock::Fixed).unwrap_or(Clock::System);
    // A scratch store too: a question the classifier takes for a cancellation must not cancel.
    let commerce = app.scratch_commerce(&scratch)?;
    let assistant = Arc::new(app.assistant_with(commerce, &scratch.join("conversations.sqlite"), clock)?);
    let mut server_settings = app.settings.server.clone();
    server_settings.rate_limit_per_sec = 0.0;
    server_settings.session_secret = Some(secret);
    server_settings.max_concurrent_turns = server_settings.max_concurrent_turns.max(options.clients * 2);
    let reindex: Arc<crate::http::Reindex> = Arc::new(|| Err("no ingest during a bench".to_string()));
    let router = crate::http::router(assistant, reindex, server_settings);
    let server = BenchServer::start(router)?;
    let url = format!("http://{}/v1/ask", server.addr);

    let mut runs = Vec::new();
    for (kind, set) in [("knowledge", &knowledge), ("tool", &tools)] {
        // Warm-up: page in the model, the index and SQLite's caches.
        run_clients(&url, set, 1, set.len().min(20), None);
        let mut plans =
            vec![(1, options.sequential_requests, None), (options.clients, options.requests_per_client, None)];
        if options.paced_rate > 0.0 {
            plans.push((options.clients, options.requests_per_client, Some(options.paced_rate)));
        }
        for (clients, per_client, paced_rate) in plans {
            let started = Instant::now();
            let pace = paced_rate.map(|rate| Duration::from_secs_f64(clients as f64 / rate));
            let results = run_clients(&url, set, clients, per_client, pace);
            let wall = started.elapsed().as_secs_f64();
            let errors = results.iter().filter(|r| r.is_none()).count();
            let samples: Vec<f64> = results.iter().flatten().copied().collect();
            runs.push(AskRun {
                kind: kind.to_string(),
                clients,
                paced_rate,
                requests: results.len(),
                errors,
                latency: Latency::from(samples),
                requests_per_s: results.len() as f64 / wall,
            });
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(AskFigures {
        knowledge_questions: knowledge.len(),
        tool_questions: tools.len(),
        runs,
        peak_memory_mib: super::peak_memory_mib(),
    })
}

/// The suite's questions of `intents`, each sent as its order's owner (or a known customer),
/// since order and points answers need a signed-in shopper to reach the tools at all.
fn questions(
    commerce: &dyn crate::ports::CommerceBackend,
    cases: &[Case],
    intents: &[Intent],
    secret: &str,
    expires: i64,
) -> Result<Vec<BenchQuestion>, BenchError> {
    let order_owner = |case: &Case| -> Result<Option<String>, BenchError> {
        let Some(order_id) = case.slots.as_ref().and_then(|s| s.get("order_id")).and_then(|v| v.as_str()) else {
            return Ok(None);
        };
        Ok(commerce.order(order_id).map_err(AppError::from)?.map(|o| o.customer_id))
    };
    let mut owners = Vec::new();
    for case in cases {
        owners.extend(order_owner(case)?);
    }
    owners.sort();
    owners.dedup();
    let mut out = Vec::new();
    for (i, case) in cases.iter().filter(|c| c.intent.is_some_and(|i| intents.contains(&i))).enumerate() {
        let needs_customer = matches!(case.intent, Some(Intent::PointsBalance | Intent::PriceQuote));
        let customer = match order_owner(case)? {
            Some(owner) => Some(owner),
            None => (needs_customer && !owners.is_empty()).then(|| owners[i % owners.len()].clone()),
        };
        let token = match customer {
            Some(id) => Some(crate::http::auth::mint(secret, &id, expires).map_err(|e| BenchError::Io(e.to_string()))?),
            None => None,
        };
        let mut body = serde_json::json!({ "message": case.question });
        if let Some(locale) = &case.locale {
            body["locale"] = serde_json::Value::String(locale.clone());
        }
        out.push(BenchQuestion { body: body.to_string(), token });
    }
    Ok(out)
}

/// `clients` threads, each with its own keep-alive connection, sending `per_client` questions
/// in turn, back to back or one every `pace`; one latency in milliseconds per request, `None`
/// for a failed one.
fn run_clients(
    url: &str,
    set: &[BenchQuestion],
    clients: usize,
    per_client: usize,
    pace: Option<Duration>,
) -> Vec<Option<f64>> {
    let start = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|client| {
                scope.spawn(move || {
                    let agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(30)))
                        .build()
                        .new_agent();
                    (0..per_client)
                        .map(|n| {
                            let question = &set[(client * 7 + n) % set.len()];
                            let Some(pace) = pace else { return send(&agent, url, question, Instant::now()) };
                            // Clients start staggered; latency counts from the planned send time,
                            // so a slow server cannot hide its queueing by delaying the next send.
                            let planned = start + pace.mul_f64(n as f64 + client as f64 / clients as f64);
                            std::thread::sleep(planned.saturating_duration_since(Instant::now()));
                            send(&agent, url, question, planned)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // A client that panicked counts all its requests as failed.
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|_| vec![None; per_client])).collect()
    })
}

fn send(agent: &ureq::Agent, url: &str, question: &BenchQuestion, started: Instant) -> Option<f64> {
    let mut request = agent.post(url).header("Content-Type", "application/json");
    if let Some(token) = &question.token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.send(question.body.as_bytes()).ok()?;
    let ok = response.status().is_success();
    // The latency a client sees includes reading the whole answer.
    response.body_mut().read_to_string().ok()?;
    ok.then(|| started.elapsed().as_secs_f64() * 1000.0)
}

/// The router served on a loopback port by its own runtime, stopped when dropped.
struct BenchServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BenchServer {
    fn start(router: axum::Router) -> Result<Self, BenchError> {
        let io = |e: std::io::Error| BenchError::Io(format!("bench server: {e}"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        let addr = listener.local_addr().map_err(io)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(io)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let result = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        crate::http::serve_until(router, listener, async {
                            let _ = stopped.await;
                        })
                        .await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    tracing::error!("bench server: {e}");
                }
            });
        });
        Ok(Self { addr, stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
