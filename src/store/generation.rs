//! Index generations on disk. Each ingest writes a complete new generation directory
//! (chunk table, vectors, tantivy index, manifest) and only then points `CURRENT` at it by
//! an atomic rename, so a run killed at any moment leaves the previous generation whole.
//!
//! ```text
//! <data>/index/CURRENT              "7"
//! <data>/index/gen-000007/manifest.json chunks.jsonl vectors.bin vector_rows.bin text/
//! ```

use super::analysis::Analysis;
use super::text_index::{self, TantivyTextIndex};
use super::vectors::{FlatIndex, row_starts};
use crate::domain::Chunk;
use crate::ports::{GenerationBuild, GenerationStore, Manifest, Snapshot, StoreError};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct FsGenerationStore {
    root: PathBuf,
    analysis: Arc<Analysis>,
}

fn gen_dir_name(n: u64) -> String {
    format!("gen-{n:06}")
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut file = std::fs::File::create(path).map_err(|e| StoreError::io(path, e))?;
    file.write_all(bytes).map_err(|e| StoreError::io(path, e))?;
    file.sync_all().map_err(|e| StoreError::io(path, e))
}

impl FsGenerationStore {
    pub fn new(data_dir: &Path, analysis: Arc<Analysis>) -> Self {
        Self { root: data_dir.join("index"), analysis }
    }

    fn current_number(&self) -> Result<Option<u64>, StoreError> {
        let path = self.root.join("CURRENT");
        match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| StoreError::Corrupt(format!("{} does not hold a generation number", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(path, e)),
        }
    }

    /// Generation numbers present on disk, published or not.
    fn on_disk(&self) -> Vec<u64> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Vec::new() };
        entries.filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("gen-")?.parse().ok()).collect()
    }

    fn open(&self, n: u64) -> Result<Snapshot, StoreError> {
        let dir = self.root.join(gen_dir_name(n));
        let manifest_path = dir.join("manifest.json");
        let manifest_text = std::fs::read_to_string(&manifest_path).map_err(|e| StoreError::io(&manifest_path, e))?;
        let manifest: Manifest = serde_json::from_str(&manifest_text)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", manifest_path.display())))?;
        let chunks_path = dir.join("chunks.jsonl");
        let file = std::fs::File::open(&chunks_path).map_err(|e| StoreError::io(&chunks_path, e))?;
        let mut chunks = Vec::with_capacity(manifest.chunks);
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| StoreError::io(&chunks_path, e))?;
            let chunk: Chunk = serde_json::from_str(&line)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", chunks_path.display())))?;
            chunks.push(chunk);
        }
        let vectors = FlatIndex::load(&dir, manifest.dims)?;
        use crate::ports::VectorIndex as _;
        if chunks.len() != manifest.chunks || vectors.len() != manifest.chunks {
            return Err(StoreError::Corrupt(format!(
                "generation {n}: manifest says {} chunks, found {} chunks and {} vectors",
                manifest.chunks,
                chunks.len(),
                vectors.len()
            )));
        }
        let text = TantivyTextIndex::open(&dir.join("text"), &self.analysis)?;
        Ok(Snapshot {
            manifest: Arc::new(manifest),
            chunks: Arc::new(chunks),
            text: Arc::new(text),
            vectors: Arc::new(vectors),
        })
    }

    /// Removes generations that are neither current nor the one before it (readers that
    /// opened that one keep working until they reload).
    fn collect_garbage(&self, current: u64, previous: Option<u64>) {
        for n in self.on_disk() {
            if n != current && Some(n) != previous {
                let dir = self.root.join(gen_dir_name(n));
                if let Err(e) = std::fs::remove_dir_all(&dir) {
                    tracing::warn!(dir = %dir.display(), error = %e, "could not remove old generation");
                }
            }
        }
    }
}

impl GenerationStore for FsGenerationStore {
    fn fingerprint(&self) -> &str {
        self.analysis.fingerprint()
    }

    fn open_current(&self) -> Result<Option<Snapshot>, StoreError> {
        match self.current_number()? {
            None => Ok(None),
            Some(n) => self.open(n).map(Some),
        }
    }

    fn publish(&self, build: GenerationBuild<'_>) -> Result<Manifest, StoreError> {
        if build.rows.len() != build.chunks.len() {
            return Err(StoreError::Corrupt(format!(
                "vector counts for {} chunks, but {} chunks",
                build.rows.len(),
                build.chunks.len()
            )));
        }
        row_starts(build.dims, build.vectors.len(), build.rows)?;
        std::fs::create_dir_all(&self.root).map_err(|e| StoreError::io(&self.root, e))?;
        let previous = self.current_number()?;
        let n = self.on_disk().into_iter().chain(previous).max().unwrap_or(0) + 1;
        let dir = self.root.join(gen_dir_name(n));
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;

        let mut lines = Vec::new();
        for chunk in build.chunks {
            serde_json::to_writer(&mut lines, chunk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            lines.push(b'\n');
        }
        write_synced(&dir.join("chunks.jsonl"), &lines)?;
        FlatIndex::save(&dir, build.vectors, build.rows)?;
        text_index::build(&dir.join("text"), &self.analysis, build.chunks)?;
        let documents = build.files.len();
        let manifest = Manifest {
            generation: n,
            embedder: build.embedder.to_string(),
            dims: build.dims,
            window_tokens: build.window_tokens,
            analyzer: self.analysis.fingerprint().to_string(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            documents,
            chunks: build.chunks.len(),
            files: build.files,
        };
        let manifest_json = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        write_synced(&dir.join("manifest.json"), &manifest_json)?;

        // The publish point: everything above is invisible until this rename.
        let tmp = self.root.join("CURRENT.tmp");
        write_synced(&tmp, n.to_string().as_bytes())?;
        let current = self.root.join("CURRENT");
        std::fs::rename(&tmp, &current).map_err(|e| StoreError::io(&current, e))?;
        if let Ok(d) = std::fs::File::open(&self.root) {
            let _ = d.sync_all();
        }
        self.collect_garbage(n, previous);
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DocType, Lang};
    use crate::ports::FileEntry;
    use std::collections::BTreeMap;

    fn chunk(id: &str, text: &str) -> Chunk {
        Chunk {
            id: id.into(),
            doc_id: "d".into(),
            doc_type: DocType::Faq,
            lang: Lang::En,
            products: vec![],
            title: "T".into(),
            section: "S".into(),
            path: "knowledge/d.md".into(),
            text: text.into(),
            code: None,
        }
    }

    const ONE_ROW_EACH: [u32; 2] = [1, 1];

    fn build<'a>(chunks: &'a [Chunk], vectors: &'a [f32]) -> GenerationBuild<'a> {
        let mut files = BTreeMap::new();
        files.insert("d.md".into(), FileEntry { hash: "h".into(), doc_id: "d".into(), chunks: chunks.len() });
        let rows = &ONE_ROW_EACH[..chunks.len()];
        GenerationBuild { embedder: "test", dims: 2, window_tokens: 64, chunks, vectors, rows, files }
    }

    #[test]
    fn publish_then_open_and_unfinished_generations_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsGenerationStore::new(dir.path(), Arc::new(Analysis::with_synonyms("").unwrap()));
        assert!(store.open_current().unwrap().is_none());
        let chunks = vec![chunk("a", "first text"), chunk("b", "second text")];
        let m = store.publish(build(&chunks, &[1.0, 0.0, 0.0, 1.0])).unwrap();
        assert_eq!(m.generation, 1);
        assert_eq!(m.analyzer, store.fingerprint(), "the manifest names the analysis it was built with");

        // A crashed run leaves a half-written directory behind: it is not served...
        let half = dir.path().join("index").join(gen_dir_name(2));
        std::fs::create_dir_all(half.join("text")).unwrap();
        std::fs::write(half.join("chunks.jsonl"), b"{not json").unwrap();
        let snap = store.open_current().unwrap().unwrap();
        assert_eq!(snap.manifest.generation, 1);
        assert_eq!(snap.chunks.len(), 2);

        // ...and the next publish neither reuses nor trips over it.
        let m = store.publish(build(&chunks[..1], &[1.0, 0.0])).unwrap();
        assert_eq!(m.generation, 3);
        assert!(!half.exists(), "stale generation removed");
        let snap = store.open_current().unwrap().unwrap();
        assert_eq!(snap.chunks.len(), 1);
        let hits = snap.text.search("first", 5, &Default::default(), Default::default()).unwrap();
        assert_eq!(hits.len(), 1);
    }

    #[test]
    fn mismatched_vectors_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsGenerationStore::new(dir.path(), Arc::new(Analysis::with_synonyms("").unwrap()));
        let chunks = vec![chunk("a", "x")];
        assert!(store.publish(build(&chunks, &[1.0])).is_err());
        assert!(store.open_current().unwrap().is_none());
    }
}
