//! BEIR-style retrieval suites: `corpus.jsonl` ({_id,title,text}), `queries.jsonl`
//! ({_id,text}) and `qrels/<split>.tsv` (query-id, corpus-id, score, with a header).
//! Each corpus is indexed once into its own generation store (vectors are reused across
//! runs by content hash) and scored per retrieval mode.

use super::metrics::{mrr_at, ndcg_at, recall_at};
use crate::ask::retrieve::{RetrieveError, Retriever, SearchRequest};
use crate::domain::{Chunk, DocType, Filters, SearchMode};
use crate::ingest::chunk::{chunk_id, split_passage};
use crate::ingest::{IngestError, Tuning, model_tokens, publish_chunks};
use crate::ports::{Embedder, FileEntry, GenerationStore, Snapshot, StoreError};
use crate::text::detect_lang;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Format { path: PathBuf, line: usize, message: String },
    #[error("{0} is not a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)")]
    NotASuite(PathBuf),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Retrieve(#[from] RetrieveError),
}

/// One judged unit of the corpus; long ones are indexed as several passages.
#[derive(Deserialize)]
pub struct CorpusDoc {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    text: String,
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

pub struct BeirSuite {
    pub name: String,
    pub corpus_path: PathBuf,
    pub corpus: Vec<CorpusDoc>,
    /// Judged queries only, in file order: (id, text).
    pub queries: Vec<(String, String)>,
    pub qrels: HashMap<String, HashMap<String, u32>>,
}

pub fn is_beir_dir(dir: &Path) -> bool {
    dir.join("corpus.jsonl").is_file() && dir.join("queries.jsonl").is_file() && dir.join("qrels").is_dir()
}

fn read_lines(path: &Path) -> Result<Vec<String>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: path.into(), source })?;
    Ok(text.lines().map(str::to_string).collect())
}

fn parse_json<T: for<'de> Deserialize<'de>>(path: &Path, line_no: usize, line: &str) -> Result<T, EvalError> {
    serde_json::from_str(line).map_err(|e| EvalError::Format {
        path: path.into(),
        line: line_no + 1,
        message: e.to_string(),
    })
}

/// "beir-scifact", or "emanuals-samsung/smart_tv" for a suite inside a dataset folder.
fn suite_name(dir: &Path) -> String {
    let full = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let base = full.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
    match full.parent() {
        Some(parent) if !full.join("SOURCE.md").exists() && parent.join("SOURCE.md").exists() => {
            format!("{}/{base}", parent.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())
        }
        _ => base,
    }
}

impl BeirSuite {
    pub fn load(dir: &Path, split: &str) -> Result<BeirSuite, EvalError> {
        if !is_beir_dir(dir) {
            return Err(EvalError::NotASuite(dir.into()));
        }
        let name = suite_name(dir);
        let qrels_path = dir.join("qrels").join(format!("{split}.tsv"));
        let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
        for (i, line) in read_lines(&qrels_path)?.iter().enumerate() {
            let cols: Vec<&str> = line.split('\t').collect();
            if i == 0 && cols.first().is_some_and(|c| c.contains("query")) || line.trim().is_empty() {
                continue;
            }
            let [q, d, score] = cols[..] else {
                return Err(EvalError::Format {
                    path: qrels_path.clone(),
                    line: i + 1,
                    message: "expected 3 tab-separated columns".into(),
                });
            };
            let score: u32 = score.trim().parse().map_err(|_| EvalError::Format {
                path: qrels_path.clone(),
                line: i + 1,
                message: format!("score {score:?} is not a whole number"),
            })?;
            qrels.entry(q.to_string()).or_default().insert(d.to_string(), score);
        }

        let queries_path = dir.join("queries.jsonl");
        let mut queries = Vec::new();
        for (i, line) in read_lines(&queries_path)?.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let q: QueryLine = parse_json(&queries_path, i, line)?;
            if qrels.contains_key(&q.id) {
                queries.push((q.id, q.text));
            }
        }

        let corpus_path = dir.join("corpus.jsonl");
        let mut corpus = Vec::new();
        for (i, line) in read_lines(&corpus_path)?.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            corpus.push(parse_json(&corpus_path, i, line)?);
        }
        Ok(BeirSuite { name, corpus_path, corpus, queries, qrels })
    }

    /// The corpus as chunks of at most `max_tokens`, cut the way ingest cuts a section, so
    /// the suite measures retrieval as Clerk performs it on real documents.
    fn passages(&self, max_tokens: usize, embedder: &dyn Embedder) -> Vec<Chunk> {
        let count = |text: &str| model_tokens(embedder, text);
        let mut chunks = Vec::with_capacity(self.corpus.len());
        for doc in &self.corpus {
            let lang = detect_lang(&format!("{} {}", doc.title, doc.text));
            for text in split_passage(&doc.title, &doc.text, max_tokens, &count) {
                let mut chunk = Chunk {
                    id: String::new(),
                    lang,
                    doc_id: doc.id.clone(),
                    doc_type: DocType::Manual,
                    products: Vec::new(),
                    title: doc.title.clone(),
                    section: String::new(),
                    path: format!("{}/corpus.jsonl", self.name),
                    text,
                    code: None,
                };
                chunk.id = chunk_id(&chunk);
                chunks.push(chunk);
            }
        }
        chunks
    }

    /// Publishes the corpus into `store` unless it already holds this exact corpus, cut to
    /// this budget, for this embedder. Returns the snapshot and how many passages were embedded.
    pub fn index(
        &self,
        embedder: &dyn Embedder,
        store: &dyn GenerationStore,
        tuning: &Tuning,
        show_progress: bool,
    ) -> Result<(Snapshot, usize), EvalError> {
        let bytes = std::fs::read(&self.corpus_path)
            .map_err(|source| EvalError::Io { path: self.corpus_path.clone(), source })?;
        let mut hasher = blake3::Hasher::new();
        hasher.update(&bytes);
        hasher.update(tuning.fingerprint.as_bytes());
        hasher.update(store.fingerprint().as_bytes());
        let hash = hasher.finalize().to_hex()[..16].to_string();
        let previous = store.open_current()?;
        if let Some(prev) = &previous {
            let same = prev.manifest.embedder == embedder.id()
                && prev.manifest.files.get("corpus.jsonl").is_some_and(|f| f.hash == hash);
            if same {
                return Ok((prev.clone(), 0));
            }
        }
        let chunks = self.passages(tuning.max_tokens, embedder);
        let mut files = BTreeMap::new();
        files.insert("corpus.jsonl".to_string(), FileEntry { hash, doc_id: self.name.clone(), chunks: chunks.len() });
        let (_, embedded) =
            publish_chunks(&chunks, files, previous.as_ref(), embedder, store, tuning.window(embedder), show_progress)?;
        let snapshot =
            store.open_current()?.ok_or_else(|| StoreError::Corrupt("published generation vanished".into()))?;
        Ok((snapshot, embedded))
    }
}

/// Figures of one retrieval mode on one suite.
#[derive(Debug, Clone, Serialize)]
pub struct ModeFigures {
    pub mode: &'static str,
    pub queries: usize,
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    #[serde(rename = "recall@1")]
    pub recall_1: f64,
    #[serde(rename = "recall@5")]
    pub recall_5: f64,
    #[serde(rename = "recall@10")]
    pub recall_10: f64,
    #[serde(rename = "recall@100")]
    pub recall_100: f64,
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Runs every judged query through one mode and averages the metrics.
pub fn score_mode(
    suite: &BeirSuite,
    snapshot: &Snapshot,
    retriever: &Retriever,
    mode: SearchMode,
) -> Result<ModeFigures, EvalError> {
    score_queries(&suite.queries, &suite.qrels, snapshot, retriever, mode)
}

/// Scores `queries` (id, text) against their judgements.
pub fn score_queries(
    queries: &[(String, String)],
    qrels: &HashMap<String, HashMap<String, u32>>,
    snapshot: &Snapshot,
    retriever: &Retriever,
    mode: SearchMode,
) -> Result<ModeFigures, EvalError> {
    let no_judgements = HashMap::new();
    let scores = queries
        .iter()
        .map(|(qid, text)| score_query(text, qrels.get(qid).unwrap_or(&no_judgements), snapshot, retriever, mode))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ModeFigures::average(mode, &scores))
}

/// One query's metrics in one mode.
#[derive(Debug, Clone, Copy)]
pub struct QueryScore {
    ndcg_10: f64,
    recall_1: f64,
    recall_5: f64,
    recall_10: f64,
    recall_100: f64,
    mrr_10: f64,
    latency_ms: f64,
}

/// Searches once and scores the ranking. A judged id may name a document or a chunk: a hit
/// counts under its chunk id when that is judged, else under its document.
pub fn score_query(
    text: &str,
    judged: &HashMap<String, u32>,
    snapshot: &Snapshot,
    retriever: &Retriever,
    mode: SearchMode,
) -> Result<QueryScore, EvalError> {
    let request = SearchRequest { query: text.to_string(), k: 100, mode, filters: Filters::default() };
    let started = Instant::now();
    let hits = match retriever.search(snapshot, &request) {
        Ok((hits, _)) => hits,
        Err(RetrieveError::EmptyQuery) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut seen = HashSet::new();
    let ranked: Vec<String> = hits
        .into_iter()
        .map(|h| if judged.contains_key(&h.chunk_id) { h.chunk_id } else { h.doc_id })
        .filter(|d| seen.insert(d.clone()))
        .collect();
    Ok(QueryScore {
        ndcg_10: ndcg_at(&ranked, judged, 10),
        recall_1: recall_at(&ranked, judged, 1),
        recall_5: recall_at(&ranked, judged, 5),
        recall_10: recall_at(&ranked, judged, 10),
        recall_100: recall_at(&ranked, judged, 100),
        mrr_10: mrr_at(&ranked, judged, 10),
        latency_ms,
    })
}

impl ModeFigures {
    /// The mean of each metric over `scores`, and their latency percentiles.
    pub fn average(mode: SearchMode, scores: &[QueryScore]) -> ModeFigures {
        let n = scores.len().max(1) as f64;
        let mean = |of: fn(&QueryScore) -> f64| scores.iter().map(of).sum::<f64>() / n;
        let mut latencies: Vec<f64> = scores.iter().map(|s| s.latency_ms).collect();
        latencies.sort_by(f64::total_cmp);
        ModeFigures {
            mode: mode.as_str(),
            queries: scores.len(),
            ndcg_10: mean(|s| s.ndcg_10),
            recall_1: mean(|s| s.recall_1),
            recall_5: mean(|s| s.recall_5),
            recall_10: mean(|s| s.recall_10),
            recall_100: mean(|s| s.recall_100),
            mrr_10: mean(|s| s.mrr_10),
            latency_p50_ms: percentile(&latencies, 50.0),
            latency_p95_ms: percentile(&latencies, 95.0),
        }
    }
}
