//! The `clerk` binary: parse flags, set up logging, dispatch. Errors end here (anyhow).

use anyhow::{Context, Result};
use clap::Parser;
use clerk::app::App;
use clerk::ask::assistant::TurnRequest;
use clerk::ask::retrieve::SearchRequest;
use clerk::cli::{BenchCommand, Cli, Command};
use clerk::config::{Overrides, Settings};
use clerk::domain::{Filters, SearchMode};
use clerk::infer::bert::resolve_model_dir;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLERK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

/// Opens everything, ingests when no index exists yet or its text analysis is outdated, and
/// serves until a signal.
fn serve(settings: Settings) -> Result<()> {
    let addr = settings.addr;
    let app = std::sync::Arc::new(App::open(settings)?);
    use clerk::{app::AppError, ports::StoreError};
    if let Err(e @ (AppError::NoIndex(_) | AppError::Store(StoreError::AnalyzerMismatch { .. }))) = app.snapshot() {
        tracing::info!("{e}: ingesting the knowledge directory first");
        let report = app.ingest(None, false)?;
        tracing::info!("{report}");
    }
    let assistant = std::sync::Arc::new(app.assistant()?);
    let reindex = {
        let app = std::sync::Arc::clone(&app);
        let assistant = std::sync::Arc::clone(&assistant);
        // One ingest at a time; the server keeps answering from the old generation meanwhile.
        let running = std::sync::Mutex::new(());
        move || -> Result<serde_json::Value, String> {
            let _one = running.lock().map_err(|_| "a previous ingest panicked".to_string())?;
            let report = app.ingest(None, false).map_err(|e| e.to_string())?;
            let snapshot = app.snapshot().map_err(|e| e.to_string())?;
            assistant.swap_index(snapshot);
            Ok(serde_json::json!({"summary": report.to_string()}))
        }
    };
    let router = clerk::http::router(assistant, std::sync::Arc::new(reindex), app.settings.server.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(clerk::http::serve(router, addr))?;
    Ok(())
}

fn settings(cli: &Cli) -> Result<Settings> {
    let g = &cli.global;
    let overrides = Overrides {
        config: g.config.clone(),
        data_dir: g.data_dir.clone(),
        knowledge: g.knowledge.clone(),
        ingest_dir: g.ingest_dir.clone(),
        addr: g.addr.clone(),
        models_dir: g.models_dir.clone(),
        model: g.model.clone(),
        admin_key: std::env::var("CLERK_ADMIN_KEY").ok(),
        session_secret: std::env::var("CLERK_SESSION_SECRET").ok(),
    };
    Ok(Settings::load(&overrides)?)
}

/// Candle's figures, with sentence-transformers' beside them and candle/ST per figure when measured.
fn print_embed_figures(
    f: &clerk::bench::EmbedFigures,
    st: Option<&Result<clerk::bench::st::StFigures, clerk::bench::st::StError>>,
) {
    println!("model                   {}", f.model);
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "", "query p50", "query p95", "b1 text/s", "b32 text/s", "b64 text/s"
    );
    let candle = [
        f.query_latency.p50_ms,
        f.query_latency.p95_ms,
        f.batch1_texts_per_s,
        f.batch32_texts_per_s,
        f.batch64_texts_per_s,
    ];
    let row = |name: &str, v: [f64; 5]| {
        println!("{name:<22} {:>7.2} ms {:>7.2} ms {:>10.1} {:>10.1} {:>10.1}", v[0], v[1], v[2], v[3], v[4]);
    };
    row("candle", candle);
    match st {
        Some(Ok(s)) => {
            let st =
                [s.query_p50_ms, s.query_p95_ms, s.batch1_texts_per_s, s.batch32_texts_per_s, s.batch64_texts_per_s];
            row("sentence-transformers", st);
            let r: Vec<f64> = candle.iter().zip(st).map(|(c, s)| c / s).collect();
            println!(
                "{:<22} {:>9.2}x {:>9.2}x {:>9.2}x {:>9.2}x {:>9.2}x   (latency: lower is better)",
                "candle/ST", r[0], r[1], r[2], r[3], r[4]
            );
        }
        Some(Err(e)) => println!("sentence-transformers: {e}"),
        None => {}
    }
    println!("query p99 {:.2} ms over {} runs", f.query_latency.p99_ms, f.query_latency.runs);
    if let Some(m) = f.peak_memory_mib {
        println!("peak memory (candle)  {m:.0} MiB");
    }
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn run(cli: Cli) -> Result<ExitCode> {
    let settings = settings(&cli)?;
    let tty = std::io::stderr().is_terminal();
    match cli.command {
        Command::Ingest { dir } => {
            let app = App::open(settings)?;
            let report = app.ingest(dir.as_deref(), tty)?;
            for (path, reason) in &report.skipped {
                eprintln!("skipped {path}: {reason}");
            }
            println!("{report}");
        }
        Command::Search { query, k, mode, doc_type, product, lang, json } => {
            let app = App::open(settings)?;
            let snapshot = app.snapshot()?;
            let request = SearchRequest {
                query,
                k: k.clamp(1, 1000),
                mode: mode.into(),
                filters: Filters { doc_type, product, lang },
            };
            let started = std::time::Instant::now();
            let (hits, _) = app.retriever.search(&snapshot, &request)?;
            let took_ms = started.elapsed().as_secs_f64() * 1000.0;
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "hits": hits, "took_ms": took_ms }))?);
            } else if hits.is_empty() {
                println!("no results");
            } else {
                for (i, hit) in hits.iter().enumerate() {
                    let snippet: String = hit.text.chars().take(160).collect::<String>().replace('\n', " ");
                    println!(
                        "{:>2}. [{:.4}] {} — {}\n    {}\n    {}",
                        i + 1,
                        hit.score,
                        hit.title,
                        hit.section,
                        hit.path,
                        snippet
                    );
                }
            }
        }
        Command::Eval { suites, json, split, modes, baseline, report } => {
            let app = App::open(settings)?;
            let options = clerk::eval::run::RunOptions {
                split,
                modes: modes.into_iter().map(SearchMode::from).collect(),
                baseline,
                progress: tty,
            };
            let outcome = clerk::eval::run::run(&app, &suites, &options)?;
            print!("{}", clerk::eval::report::terminal(&outcome));
            if let Some(path) = json {
                write_json(&path, &outcome)?;
            }
            // By default a suites folder with a baseline keeps its reports beside it.
            let report_path = report.or_else(|| {
                let folder = suites.iter().find(|s| s.is_dir() && s.join("baseline.json").exists())?;
                Some(folder.join("reports").join(format!("eval-{}.md", chrono::Utc::now().format("%Y%m%d-%H%M%S"))))
            });
            if let Some(path) = report_path {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
                }
                std::fs::write(&path, clerk::eval::report::markdown(&outcome))
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("report: {}", path.display());
            }
            if !outcome.gate_failures().is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Serve => serve(settings)?,
        Command::Ask { question, customer, session, locale, order_proof, json } => {
            let app = App::open(settings)?;
            let assistant = app.assistant()?;
            let request =
                TurnRequest { message: question, session_id: session, locale, customer_id: customer, order_proof };
            let reply = assistant.turn(request)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&reply)?);
            } else {
                println!("{}", reply.answer);
                for c in &reply.citations {
                    println!("  [{}] {} > {} ({})", c.doc_id, c.title, c.section, c.path);
                }
                if let Some(h) = &reply.handoff {
                    println!("handoff: {:?}, ticket {}\n  {}", h.reason, h.ticket_id, h.summary);
                }
                println!(
                    "intent {} ({:.2}), answered {}, session {}",
                    reply.intent, reply.confidence, reply.answered, reply.session_id
                );
            }
        }
        Command::Gaps { all, json } => {
            let app = App::open(settings)?;
            let groups = app.assistant()?.gap_groups(all)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "groups": groups }))?);
            } else if groups.is_empty() {
                println!("no open gaps");
            } else {
                for g in &groups {
                    let state = if g.resolved { " (resolved)" } else { "" };
                    println!("{}  {} question(s){state}: {}", g.id, g.count, g.label);
                    for q in &g.questions {
                        println!(
                            "    - [{}] {} ({})",
                            q.gap.lang,
                            q.gap.question,
                            q.gap.at.format("%Y-%m-%d %H:%M UTC")
                        );
                    }
                }
            }
        }
        Command::Token { customer_id, ttl } => {
            let secret = settings
                .server
                .session_secret
                .as_deref()
                .context("CLERK_SESSION_SECRET is not set: customer tokens cannot be minted")?;
            if ttl <= 0 {
                anyhow::bail!("--ttl must be positive");
            }
            let expires = chrono::Utc::now().timestamp() + ttl;
            println!("{}", clerk::http::auth::mint(secret, &customer_id, expires)?);
        }
        Command::Bench { what } => match what {
            BenchCommand::Embed { texts, json, st_python, st_script, no_st } => {
                let app = App::open_with_cache(settings, 0)?;
                let texts = clerk::bench::EmbedTexts::sample(&app.settings.knowledge_dir, texts)?;
                let f = clerk::bench::embed(&app, &texts)?;
                // After candle, never alongside it: the two would compete for the same cores.
                let st = if no_st {
                    None
                } else {
                    let model_dir = resolve_model_dir(&app.settings.models_dir, &app.settings.embedder.model)?;
                    Some(clerk::bench::st::run(st_python.as_deref(), &st_script, &model_dir, &texts))
                };
                print_embed_figures(&f, st.as_ref());
                if let Some(path) = json {
                    let st = st.and_then(Result::ok);
                    write_json(&path, &serde_json::json!({ "candle": f, "sentence_transformers": st }))?;
                }
            }
            BenchCommand::Search { corpus, queries, json } => {
                let app = App::open_with_cache(settings, 0)?;
                let corpus = corpus.unwrap_or_else(|| PathBuf::from("../shared/benchmarks/beir-scifact"));
                let f = clerk::bench::search(&app, &corpus, queries)?;
                println!(
                    "ingest (sample knowledge base, cold)  {:.1} docs/s, {:.1} chunks/s, {:.1} s",
                    f.ingest_docs_per_s, f.ingest_chunks_per_s, f.ingest_seconds
                );
                println!("search on {} ({} passages)", f.corpus, f.passages);
                for (mode, l) in &f.modes {
                    println!(
                        "  {mode:<7} p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  ({} queries)",
                        l.p50_ms, l.p95_ms, l.p99_ms, l.runs
                    );
                }
                if let Some(m) = f.peak_memory_mib {
                    println!("peak memory  {m:.0} MiB");
                }
                if let Some(path) = json {
                    write_json(&path, &f)?;
                }
            }
            BenchCommand::Ask { suite, clients, requests, per_client, rate, json } => {
                if clients == 0 || requests == 0 || per_client == 0 {
                    anyhow::bail!("--clients, --requests and --per-client must be at least 1");
                }
                if !rate.is_finite() || rate < 0.0 {
                    anyhow::bail!("--rate must be a number of requests per second, 0 or more");
                }
                // No query cache: every knowledge question pays for its embedding, as a new one would.
                let app = App::open_with_cache(settings, 0)?;
                let options = clerk::bench::ask::AskBenchOptions {
                    clients,
                    sequential_requests: requests,
                    requests_per_client: per_client,
                    paced_rate: rate,
                };
                let f = clerk::bench::ask::ask(&app, &suite, &options)?;
                println!(
                    "/v1/ask over loopback HTTP ({} knowledge, {} tool questions)",
                    f.knowledge_questions, f.tool_questions
                );
                println!(
                    "{:<10} {:>7} {:>10} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9}",
                    "kind", "clients", "load", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s"
                );
                for r in &f.runs {
                    let load = r.paced_rate.map_or_else(|| "max".to_string(), |rate| format!("{rate:.0}/s"));
                    println!(
                        "{:<10} {:>7} {:>10} {:>8} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.1}",
                        r.kind,
                        r.clients,
                        load,
                        r.requests,
                        r.errors,
                        r.latency.p50_ms,
                        r.latency.p95_ms,
                        r.latency.p99_ms,
                        r.requests_per_s
                    );
                }
                if let Some(m) = f.peak_memory_mib {
                    println!("peak memory  {m:.0} MiB");
                }
                if let Some(path) = json {
                    write_json(&path, &f)?;
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
