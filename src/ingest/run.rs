//! One ingest run, top to bottom:
//! walk -> hash and diff with the published manifest (unchanged files cost nothing) ->
//! parse + chunk changed files -> embed only chunks whose content hash has no vector yet ->
//! publish a new generation. A bad document is reported and skipped; the run goes on.

use super::chunk::{CHUNKER_VERSION, chunk_document, embedding_windows};
use super::markdown::sections;
use super::source::parse_document;
use crate::domain::Chunk;
use crate::ports::{
    EmbedError, EmbedKind, Embedder, FileEntry, GenerationBuild, GenerationStore, Manifest, Snapshot, StoreError,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("knowledge directory {0} does not exist")]
    MissingDir(PathBuf),
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("tuning file {path}: {message}")]
    Tuning { path: PathBuf, message: String },
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `ingest/pipeline.toml`: how documents are cut.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tuning {
    /// Upper bound on chunk size in model tokens: what full text indexes and answers quote.
    pub max_tokens: usize,
    /// Size of the overlapping windows a longer chunk is embedded as (capped by the model).
    pub window_tokens: usize,
    /// Folders under the knowledge root that hold no documents (the store's seed data).
    pub skip_dirs: Vec<String>,
    /// Part of every file's fingerprint: changing the tuning re-chunks everything (vectors
    /// of unchanged chunks are still reused).
    #[serde(skip)]
    pub fingerprint: String,
}

impl Default for Tuning {
    fn default() -> Self {
        Self { max_tokens: 512, window_tokens: 64, skip_dirs: vec!["store".into()], fingerprint: String::new() }
    }
}

impl Tuning {
    /// The embedding window within what the model can read.
    pub fn window(&self, embedder: &dyn Embedder) -> usize {
        self.window_tokens.min(embedder.max_tokens())
    }

    /// Reads `pipeline.toml` from the ingest directory (defaults when absent) and
    /// fingerprints it.
    pub fn load(ingest_dir: &Path) -> Result<Tuning, IngestError> {
        let path = ingest_dir.join("pipeline.toml");
        let mut hasher = blake3::Hasher::new();
        hasher.update(&CHUNKER_VERSION.to_le_bytes());
        let mut tuning = match std::fs::read_to_string(&path) {
            Ok(text) => {
                hasher.update(text.as_bytes());
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct File {
                    #[serde(default)]
                    chunking: Tuning,
                }
                toml::from_str::<File>(&text)
                    .map_err(|e| IngestError::Tuning { path: path.clone(), message: e.to_string() })?
                    .chunking
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Tuning::default(),
            Err(source) => return Err(IngestError::Io { path, source }),
        };
        if tuning.max_tokens < 32 {
            return Err(IngestError::Tuning { path, message: "chunking.max_tokens must be at least 32".into() });
        }
        if tuning.window_tokens < 16 {
            return Err(IngestError::Tuning { path, message: "chunking.window_tokens must be at least 16".into() });
        }
        tuning.fingerprint = hasher.finalize().to_hex()[..16].to_string();
        Ok(tuning)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestReport {
    pub generation: u64,
    pub published: bool,
    pub documents: usize,
    pub chunks: usize,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub embedded: usize,
    /// Files reported and left out: (path, reason).
    pub skipped: Vec<(String, String)>,
    pub seconds: f64,
}

impl std::fmt::Display for IngestReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ingested {} docs, {} chunks (added {}, changed {}, removed {}, unchanged {}, skipped {}); embedded {} chunks in {:.1} s; generation {}{}",
            self.documents,
            self.chunks,
            self.added,
            self.changed,
            self.removed,
            self.unchanged,
            self.skipped.len(),
            self.embedded,
            self.seconds,
            self.generation,
            if self.published { "" } else { " (unchanged, not republished)" }
        )
    }
}

/// Markdown files under the root, sorted, minus the skipped folders.
fn knowledge_files(root: &Path, tuning: &Tuning) -> Result<Vec<(String, PathBuf)>, IngestError> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name().into_iter();
    for entry in walker.filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        let skipped_dir = e.depth() == 1 && e.file_type().is_dir() && tuning.skip_dirs.iter().any(|d| *d == name);
        !(name.starts_with('.') && e.depth() > 0) && !skipped_dir
    }) {
        let entry = entry.map_err(|e| IngestError::Io {
            path: e.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf()),
            source: e.into(),
        })?;
        let is_markdown = entry.path().extension().is_some_and(|x| x.eq_ignore_ascii_case("md"));
        if entry.file_type().is_file() && is_markdown {
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            files.push((rel, entry.path().to_path_buf()));
        }
    }
    Ok(files)
}

pub fn progress_bar(show: bool, len: u64, message: &'static str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

pub fn run(
    knowledge_dir: &Path,
    tuning: &Tuning,
    embedder: &dyn Embedder,
    store: &dyn GenerationStore,
    show_progress: bool,
) -> Result<IngestReport, IngestError> {
    let started = Instant::now();
    if !knowledge_dir.is_dir() {
        return Err(IngestError::MissingDir(knowledge_dir.to_path_buf()));
    }
    let previous = store.open_current()?;
    let reusable = previous.as_ref().filter(|p| p.manifest.embedder == embedder.id());
    if previous.is_some() && reusable.is_none() {
        tracing::info!("the embedder changed since the last generation: every chunk is embedded again");
    }
    let root_name = knowledge_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "knowledge".into());

    let mut report = IngestReport::default();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut files: BTreeMap<String, FileEntry> = BTreeMap::new();
    let mut doc_owner: HashMap<String, String> = HashMap::new();
    let count = |text: &str| model_tokens(embedder, text);

    let listed = knowledge_files(knowledge_dir, tuning)?;
    let parse_bar = progress_bar(show_progress, listed.len() as u64, "parsing");
    for (rel, path) in &listed {
        parse_bar.inc(1);
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                report.skipped.push((rel.clone(), e.to_string()));
                continue;
            }
        };
        let hash = {
            let mut h = blake3::Hasher::new();
            h.update(&bytes);
            h.update(tuning.fingerprint.as_bytes());
            h.update(store.fingerprint().as_bytes());
            h.finalize().to_hex()[..16].to_string()
        };
        let prior = previous.as_ref().and_then(|p| p.manifest.files.get(rel));
        if let (Some(entry), Some(prev)) = (prior.filter(|e| e.hash == hash), previous.as_ref()) {
            if let Some(owner) = doc_owner.insert(entry.doc_id.clone(), rel.clone()) {
                report.skipped.push((rel.clone(), format!("duplicate id {:?} (also in {owner})", entry.doc_id)));
                continue;
            }
            chunks.extend(prev.chunks.iter().filter(|c| c.doc_id == entry.doc_id).cloned());
            files.insert(rel.clone(), entry.clone());
            report.unchanged += 1;
            continue;
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                report.skipped.push((rel.clone(), "not valid UTF-8 text".into()));
                continue;
            }
        };
        let doc = match parse_document(&text) {
            Ok(d) => d,
            Err(e) => {
                report.skipped.push((rel.clone(), e.to_string()));
                continue;
            }
        };
        if let Some(owner) = doc_owner.get(&doc.meta.id) {
            report.skipped.push((rel.clone(), format!("duplicate id {:?} (also in {owner})", doc.meta.id)));
            continue;
        }
        let doc_chunks =
            chunk_document(&doc, &sections(&doc.body), &format!("{root_name}/{rel}"), tuning.max_tokens, &count);
        if doc_chunks.is_empty() {
            report.skipped.push((rel.clone(), "no text to index after the front matter".into()));
            continue;
        }
        doc_owner.insert(doc.meta.id.clone(), rel.clone());
        if prior.is_some() {
            report.changed += 1
        } else {
            report.added += 1
        }
        files.insert(rel.clone(), FileEntry { hash, doc_id: doc.meta.id.clone(), chunks: doc_chunks.len() });
        chunks.extend(doc_chunks);
    }
    parse_bar.finish_and_clear();
    for (rel, reason) in &report.skipped {
        tracing::warn!(file = %rel, "skipped: {reason}");
    }
    if let Some(prev) = &previous {
        report.removed = prev.manifest.files.keys().filter(|k| !files.contains_key(*k)).count();
    }
    report.documents = files.len();
    report.chunks = chunks.len();

    let nothing_changed = report.added == 0 && report.changed == 0 && report.removed == 0;
    // A manifest from before the analyzer was recorded must be republished to be searchable.
    let same_analysis = |p: &&Snapshot| p.manifest.analyzer == store.fingerprint();
    if let Some(prev) = reusable.filter(|_| nothing_changed).filter(same_analysis) {
        report.generation = prev.manifest.generation;
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }

    let (manifest, embedded) =
        publish_chunks(&chunks, files, previous.as_ref(), embedder, store, tuning.window(embedder), show_progress)?;
    report.embedded = embedded;
    report.generation = manifest.generation;
    report.published = true;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Tokens the embedder sees for a text; a rough estimate if its tokenizer fails, since
/// sizing a chunk is no reason to drop it.
pub fn model_tokens(embedder: &dyn Embedder, text: &str) -> usize {
    embedder.count_tokens(text).unwrap_or_else(|_| text.len() / 3 + 1)
}

/// Embeds the chunks that have no vectors in `previous` yet (same content hash, same
/// embedder and window size) and publishes all of them as a new generation. Returns the
/// manifest and how many chunks were embedded.
pub fn publish_chunks(
    chunks: &[Chunk],
    files: BTreeMap<String, FileEntry>,
    previous: Option<&Snapshot>,
    embedder: &dyn Embedder,
    store: &dyn GenerationStore,
    window_tokens: usize,
    show_progress: bool,
) -> Result<(Manifest, usize), IngestError> {
    let dims = embedder.dims();
    let mut known: HashMap<&str, &[f32]> = HashMap::new();
    let reusable = |p: &&Snapshot| p.manifest.embedder == embedder.id() && p.manifest.window_tokens == window_tokens;
    if let Some(prev) = previous.filter(reusable) {
        for (i, c) in prev.chunks.iter().enumerate() {
            if let Some(v) = prev.vectors.vectors(i as u32) {
                known.insert(c.id.as_str(), v);
            }
        }
    }
    let missing: Vec<usize> = (0..chunks.len()).filter(|&i| !known.contains_key(chunks[i].id.as_str())).collect();
    let count = |text: &str| model_tokens(embedder, text);
    let embed_bar = progress_bar(show_progress, missing.len() as u64, "embedding");
    let mut fresh: HashMap<usize, Vec<f32>> = HashMap::with_capacity(missing.len());
    for batch in missing.chunks(64) {
        let mut texts = Vec::new();
        let mut owners = Vec::new();
        for &i in batch {
            for window in embedding_windows(&chunks[i], window_tokens, &count) {
                texts.push(window);
                owners.push(i);
            }
        }
        for (i, v) in owners.into_iter().zip(embedder.embed(&texts, EmbedKind::Passage)?) {
            fresh.entry(i).or_default().extend_from_slice(&v);
        }
        embed_bar.inc(batch.len() as u64);
    }
    embed_bar.finish_and_clear();

    let mut vectors = Vec::with_capacity(chunks.len() * dims);
    let mut rows = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let v = fresh.get(&i).map(Vec::as_slice).or_else(|| known.get(chunk.id.as_str()).copied());
        match v {
            Some(v) if !v.is_empty() && v.len() % dims == 0 => {
                vectors.extend_from_slice(v);
                rows.push((v.len() / dims) as u32);
            }
            _ => return Err(StoreError::Corrupt(format!("no vector of {dims} dims for chunk {}", chunk.id)).into()),
        }
    }
    let build =
        GenerationBuild { embedder: embedder.id(), dims, window_tokens, chunks, vectors: &vectors, rows: &rows, files };
    let manifest = store.publish(build)?;
    Ok((manifest, missing.len()))
}
