//! `clerk bench`: performance figures on this machine, printed (never asserted in tests).

use crate::app::{App, AppError};
use crate::ask::retrieve::SearchRequest;
use crate::domain::SearchMode;
use crate::eval::beir::{BeirSuite, EvalError, percentile};
use crate::ports::{EmbedKind, Embedder};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

pub mod ask;
pub mod st;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    Embed(#[from] crate::ports::EmbedError),
    #[error(transparent)]
    Retrieve(#[from] crate::ask::retrieve::RetrieveError),
    #[error("no benchmark text found: {0}")]
    NoText(String),
    #[error("{0}")]
    Io(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub runs: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl Latency {
    fn from(mut samples: Vec<f64>) -> Latency {
        samples.sort_by(f64::total_cmp);
        Latency {
            runs: samples.len(),
            p50_ms: percentile(&samples, 50.0),
            p95_ms: percentile(&samples, 95.0),
            p99_ms: percentile(&samples, 99.0),
        }
    }
}

/// Peak resident memory of this process (Linux), in MiB.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Deterministic English texts of 10-60 words cut from the knowledge base's prose.
pub fn sample_texts(
    knowledge: &Path,
    count: usize,
    min_words: usize,
    max_words: usize,
) -> Result<Vec<String>, BenchError> {
    let mut words: Vec<String> = Vec::new();
    for entry in walkdir::WalkDir::new(knowledge).sort_by_file_name().into_iter().flatten() {
        let name = entry.file_name().to_string_lossy();
        if name.ends_with(".en.md") {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                words.extend(
                    text.split_whitespace()
                        .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || ".,;:'()-%/".contains(c)))
                        .map(str::to_string),
                );
            }
        }
    }
    if words.len() < max_words * 2 {
        return Err(BenchError::NoText(format!("too few English words under {}", knowledge.display())));
    }
    let span = max_words - min_words + 1;
    let mut start = 0usize;
    Ok((0..count)
        .map(|i| {
            // A fixed pseudo-random walk: the same texts on every run and machine.
            let len = min_words + (i * 7919) % span;
            start = (start + 104_729) % (words.len() - len);
            words[start..start + len].join(" ")
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct EmbedFigures {
    pub model: String,
    pub query_latency: Latency,
    pub batch1_texts_per_s: f64,
    pub batch32_texts_per_s: f64,
    pub batch64_texts_per_s: f64,
    pub peak_memory_mib: Option<f64>,
}

/// The texts one `clerk bench embed` run measures, shared with the sentence-transformers run.
#[derive(Debug, Clone, Serialize)]
pub struct EmbedTexts {
    /// Short questions (4-12 words); the first 20 warm the model up.
    pub queries: Vec<String>,
    /// Passages of 10-60 words for the throughput figures.
    pub passages: Vec<String>,
}

impl EmbedTexts {
    pub fn sample(knowledge: &Path, passages: usize) -> Result<Self, BenchError> {
        Ok(Self {
            queries: sample_texts(knowledge, 300, 4, 12)?,
            passages: sample_texts(knowledge, passages.max(64), 10, 60)?,
        })
    }
}

fn throughput(embedder: &dyn Embedder, texts: &[String], batch: usize) -> Result<f64, BenchError> {
    let started = Instant::now();
    for group in texts.chunks(batch) {
        embedder.embed(group, EmbedKind::Passage)?;
    }
    Ok(texts.len() as f64 / started.elapsed().as_secs_f64())
}

pub fn embed(app: &App, texts: &EmbedTexts) -> Result<EmbedFigures, BenchError> {
    let embedder = app.embedder.as_ref();
    let (queries, passages) = (&texts.queries, &texts.passages);
    // Warm-up: first calls page in weights and size buffers.
    for q in queries.iter().take(20) {
        embedder.embed(std::slice::from_ref(q), EmbedKind::Query)?;
    }
    let mut samples = Vec::with_capacity(queries.len());
    for q in &queries[20..] {
        let started = Instant::now();
        embedder.embed(std::slice::from_ref(q), EmbedKind::Query)?;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let batch1 = throughput(embedder, &passages[..passages.len().min(64)], 1)?;
    let batch32 = throughput(embedder, passages, 32)?;
    let batch64 = throughput(embedder, passages, 64)?;
    Ok(EmbedFigures {
        model: embedder.id().to_string(),
        query_latency: Latency::from(samples),
        batch1_texts_per_s: batch1,
        batch32_texts_per_s: batch32,
        batch64_texts_per_s: batch64,
        peak_memory_mib: peak_memory_mib(),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchFigures {
    pub corpus: String,
    pub passages: usize,
    /// Sample knowledge base ingested from scratch into a scratch data dir.
    pub ingest_docs_per_s: f64,
    pub ingest_chunks_per_s: f64,
    pub ingest_seconds: f64,
    pub modes: Vec<(String, Latency)>,
    pub peak_memory_mib: Option<f64>,
}

pub fn search(app: &App, corpus: &Path, queries: usize) -> Result<SearchFigures, BenchError> {
    // Ingest throughput: a cold ingest of the knowledge base into a scratch generation store.
    let scratch = app.settings.data_dir.join("bench-scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    let store = crate::store::generation::FsGenerationStore::new(&scratch, std::sync::Arc::clone(&app.analysis));
    let tuning = app.tuning()?;
    let report = crate::ingest::run(&app.settings.knowledge_dir, &tuning, app.embedder.as_ref(), &store, false)
        .map_err(AppError::from)?;
    let _ = std::fs::remove_dir_all(&scratch);

    let suite = BeirSuite::load(corpus, "test")?;
    let suite_store = app.suite_store(&suite.name);
    let (snapshot, _) = suite.index(app.embedder.as_ref(), suite_store.as_ref(), &tuning, true)?;
    let mut modes = Vec::new();
    for mode in [SearchMode::Bm25, SearchMode::Dense, SearchMode::Hybrid] {
        let mut samples = Vec::new();
        for (_, text) in suite.queries.iter().take(queries) {
            let request = SearchRequest { query: text.clone(), k: 10, mode, filters: Default::default() };
            let started = Instant::now();
            app.retriever.search(&snapshot, &request)?;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        modes.push((mode.as_str().to_string(), Latency::from(samples)));
    }
    Ok(SearchFigures {
        corpus: suite.name.clone(),
        passages: suite.corpus.len(),
        ingest_docs_per_s: report.documents as f64 / report.seconds,
        ingest_chunks_per_s: report.chunks as f64 / report.seconds,
        ingest_seconds: report.seconds,
        modes,
        peak_memory_mib: peak_memory_mib(),
    })
}
