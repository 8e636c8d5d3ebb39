//! Composition root: the only place that names concrete adapters. Settings in, services out.

use crate::ask::assistant::{Assistant, Clock};
use crate::ask::retrieve::Retriever;
use crate::ask::understand::Understander;
use crate::commerce::{HttpBackend, HttpBackendConfig, SqliteStore};
use crate::config::CommerceSettings;
use crate::config::Settings;
use crate::infer::bert::{BertEmbedder, resolve_model_dir};
use crate::infer::worker::EmbedWorker;
use crate::ingest::{self, IngestError, IngestReport, Tuning};
use crate::ports::CommerceBackend;
use crate::ports::{EmbedError, Embedder, GenerationStore, Snapshot, StoreError};
use crate::store::analysis::{Analysis, AnalysisError};
use crate::store::conversation::SqliteConversations;
use crate::store::generation::FsGenerationStore;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("no index yet in {0}: run `clerk ingest` first")]
    NoIndex(String),
    #[error(transparent)]
    Commerce(#[from] crate::ports::CommerceError),
    #[error(transparent)]
    Conversation(#[from] crate::ports::ConversationError),
    #[error(transparent)]
    Understand(#[from] crate::ask::understand::UnderstandError),
    #[error("commerce.http: {0}")]
    CommerceConfig(String),
}

/// The services the commands and the server use.
pub struct App {
    pub settings: Settings,
    pub embedder: Arc<dyn Embedder>,
    pub analysis: Arc<Analysis>,
    pub store: Arc<dyn GenerationStore>,
    pub retriever: Retriever,
}

impl App {
    pub fn open(settings: Settings) -> Result<App, AppError> {
        Self::open_with_cache(settings, QUERY_CACHE)
    }

    /// As [`App::open`], with the query cache sized (0 turns it off, for benchmarks).
    pub fn open_with_cache(settings: Settings, cache_entries: usize) -> Result<App, AppError> {
        let embedder = load_embedder(&settings, cache_entries)?;
        let analysis = Arc::new(Analysis::load(&settings.ingest_dir)?);
        let store: Arc<dyn GenerationStore> =
            Arc::new(FsGenerationStore::new(&settings.data_dir, Arc::clone(&analysis)));
        let retriever = Retriever::new(Arc::clone(&embedder), settings.retrieval);
        Ok(App { settings, embedder, analysis, store, retriever })
    }

    pub fn ingest(&self, dir: Option<&Path>, show_progress: bool) -> Result<IngestReport, AppError> {
        let tuning = self.tuning()?;
        let dir = dir.unwrap_or(&self.settings.knowledge_dir);
        Ok(ingest::run(dir, &tuning, self.embedder.as_ref(), self.store.as_ref(), show_progress)?)
    }

    /// How ingest cuts and embeds documents (`ingest/pipeline.toml`).
    pub fn tuning(&self) -> Result<Tuning, AppError> {
        Ok(Tuning::load(&self.settings.ingest_dir)?)
    }

    /// A generation store of its own for an eval suite's corpus.
    pub fn suite_store(&self, suite: &str) -> Arc<dyn GenerationStore> {
        let dir = self.settings.data_dir.join("eval").join(suite.replace(['/', '\\'], "__"));
        Arc::new(FsGenerationStore::new(&dir, Arc::clone(&self.analysis)))
    }

    /// The published generation, refused if another embedder or text analysis built it.
    pub fn snapshot(&self) -> Result<Snapshot, AppError> {
        let snapshot = self
            .store
            .open_current()?
            .ok_or_else(|| AppError::NoIndex(self.settings.data_dir.display().to_string()))?;
        if snapshot.manifest.embedder != self.embedder.id() {
            return Err(StoreError::EmbedderMismatch {
                built_with: snapshot.manifest.embedder.clone(),
                configured: self.embedder.id().to_string(),
            }
            .into());
        }
        if snapshot.manifest.analyzer != self.analysis.fingerprint() {
            return Err(StoreError::AnalyzerMismatch {
                built_with: snapshot.manifest.analyzer.clone(),
                configured: self.analysis.fingerprint().to_string(),
            }
            .into());
        }
        Ok(snapshot)
    }
}

impl App {
    /// The commerce backend the settings name.
    pub fn commerce(&self) -> Result<Arc<dyn CommerceBackend>, AppError> {
        Ok(match &self.settings.commerce {
            CommerceSettings::Embedded => Arc::new(SqliteStore::open(
                &self.settings.data_dir.join("commerce.sqlite"),
                &self.settings.knowledge_dir.join("store"),
            )?),
            CommerceSettings::Http(table) => {
                let config: HttpBackendConfig =
                    table.clone().try_into().map_err(|e: toml::de::Error| AppError::CommerceConfig(e.to_string()))?;
                Arc::new(HttpBackend::new(&config)?)
            }
        })
    }

    /// Everything one turn needs; the index is loaded when one is published.
    pub fn assistant(&self) -> Result<Assistant, AppError> {
        let clock = self.settings.server.fixed_now.map(Clock::Fixed).unwrap_or(Clock::System);
        self.assistant_with(self.commerce()?, &self.settings.data_dir.join("conversations.sqlite"), clock)
    }

    /// For runs that must leave the shop's data alone (evals, benchmarks): the embedded store
    /// as a fresh copy of the seed in `dir`. A live HTTP backend is refused: a run creates
    /// returns and work orders.
    pub fn scratch_commerce(&self, dir: &Path) -> Result<Arc<dyn CommerceBackend>, AppError> {
        match &self.settings.commerce {
            CommerceSettings::Embedded => {
                let store =
                    SqliteStore::open(&dir.join("commerce.sqlite"), &self.settings.knowledge_dir.join("store"))?;
                Ok(Arc::new(store))
            }
            CommerceSettings::Http(_) => Err(AppError::CommerceConfig(
                "evals and benchmarks run on the embedded store, never on a live order system: \
                 unset [commerce] backend = \"http\" for this run"
                    .into(),
            )),
        }
    }

    /// An assistant over `commerce`, keeping sessions, turns and gaps in the database at
    /// `conversations`, on `clock`.
    pub fn assistant_with(
        &self,
        commerce: Arc<dyn CommerceBackend>,
        conversations: &Path,
        clock: Clock,
    ) -> Result<Assistant, AppError> {
        let catalog = commerce.products()?;
        let coupons: Vec<String> = commerce.coupons(None)?.into_iter().map(|c| c.code).collect();
        let understander =
            Understander::load(&self.settings.ingest_dir.join("intents"), &catalog)?.with_coupon_codes(coupons);
        let conversations = Arc::new(SqliteConversations::open(
            conversations,
            chrono::Duration::seconds(i64::try_from(self.settings.server.session_ttl_secs).unwrap_or(i64::MAX)),
        )?);
        let snapshot = match self.snapshot() {
            Ok(snapshot) => Some(snapshot),
            Err(AppError::NoIndex(_)) => None,
            Err(e) => return Err(e),
        };
        let retriever = Retriever::new(Arc::clone(&self.embedder), self.settings.retrieval);
        let synonyms = self.analysis.synonyms().to_vec();
        Ok(Assistant::new(retriever, snapshot, understander, commerce, conversations, synonyms, clock))
    }
}

/// Query embeddings kept for repeated questions.
const QUERY_CACHE: usize = 2048;

/// The configured model on its worker thread, with a query cache of `cache_entries`.
pub fn load_embedder(settings: &Settings, cache_entries: usize) -> Result<Arc<dyn Embedder>, AppError> {
    let dir = resolve_model_dir(&settings.models_dir, &settings.embedder.model)?;
    if settings.embedder.threads > 0 {
        // The model's thread pool (and candle's, used while loading) sizes itself from this variable.
        // SAFETY: set once at start-up, before any other thread reads the environment.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", settings.embedder.threads.to_string()) };
    }
    let model = BertEmbedder::load(&dir, settings.embedder.languages.clone())?;
    Ok(Arc::new(EmbedWorker::spawn(model, settings.embedder.batch_size, cache_entries)))
}
