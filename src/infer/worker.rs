//! The model runs on one dedicated thread behind a bounded queue, so callers never block
//! an async runtime on inference and requests that arrive together share a forward pass.
//! Repeated query texts are answered from a small LRU cache without touching the model.

use crate::domain::Lang;
use crate::ports::{EmbedError, EmbedKind, Embedder};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

struct Job {
    texts: Vec<String>,
    kind: EmbedKind,
    reply: SyncSender<Result<Vec<Vec<f32>>, EmbedError>>,
}

/// An [`Embedder`] that forwards work to the model thread.
pub struct EmbedWorker {
    jobs: SyncSender<Job>,
    info: super::bert::ModelInfo,
    /// None when caching is off (benchmarks measure the model, not the cache).
    cache: Option<Mutex<LruCache<(EmbedKind, String), Vec<f32>>>>,
}

/// Jobs waiting for the model before new ones are refused as overloaded.
const QUEUE: usize = 256;

impl EmbedWorker {
    /// Moves the model onto its own thread. `max_batch` caps how many texts of queued jobs
    /// are merged into one call; `cache_entries` (0 = off) sizes the query cache.
    pub fn spawn(model: super::bert::BertEmbedder, max_batch: usize, cache_entries: usize) -> Self {
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let worker = Self {
            jobs,
            info: model.info().clone(),
            cache: NonZeroUsize::new(cache_entries).map(|n| Mutex::new(LruCache::new(n))),
        };
        std::thread::Builder::new()
            .name("clerk-embed".into())
            .spawn(move || run(model, queue, max_batch.max(1)))
            .expect("spawning the model thread");
        worker
    }

    fn submit(&self, texts: Vec<String>, kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError> {
        let (reply, answer) = sync_channel(1);
        match self.jobs.try_send(Job { texts, kind, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(EmbedError::Overloaded),
            Err(TrySendError::Disconnected(_)) => return Err(EmbedError::WorkerGone),
        }
        answer.recv().map_err(|_| EmbedError::WorkerGone)?
    }
}

fn run(model: super::bert::BertEmbedder, queue: Receiver<Job>, max_batch: usize) {
    while let Ok(first) = queue.recv() {
        // Merge jobs of the same kind that are already waiting into one model call.
        let mut jobs = vec![first];
        let mut total = jobs[0].texts.len();
        let mut held_back = None;
        while total < max_batch {
            match queue.try_recv() {
                Ok(job) if job.kind == jobs[0].kind => {
                    total += job.texts.len();
                    jobs.push(job);
                }
                Ok(job) => {
                    held_back = Some(job);
                    break;
                }
                Err(_) => break,
            }
        }
        answer(&model, jobs);
        if let Some(job) = held_back {
            answer(&model, vec![job]);
        }
    }
}

fn answer(model: &super::bert::BertEmbedder, jobs: Vec<Job>) {
    let kind = jobs[0].kind;
    let texts: Vec<String> = jobs.iter().flat_map(|j| j.texts.iter().cloned()).collect();
    match model.embed(&texts, kind) {
        Ok(mut vectors) => {
            for job in jobs.into_iter().rev() {
                let part = vectors.split_off(vectors.len() - job.texts.len());
                let _ = job.reply.send(Ok(part));
            }
        }
        Err(e) => {
            let message = e.to_string();
            for job in jobs {
                let _ = job.reply.send(Err(EmbedError::Inference(message.clone())));
            }
        }
    }
}

impl Embedder for EmbedWorker {
    fn id(&self) -> &str {
        &self.info.id
    }

    fn dims(&self) -> usize {
        self.info.dims
    }

    fn languages(&self) -> &[Lang] {
        &self.info.languages
    }

    fn max_tokens(&self) -> usize {
        self.info.max_tokens
    }

    fn count_tokens(&self, text: &str) -> Result<usize, EmbedError> {
        self.info.count_tokens(text)
    }

    fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError> {
        let Some(cache) = self.cache.as_ref().filter(|_| texts.len() == 1) else {
            return self.submit(texts.to_vec(), kind);
        };
        let key = (kind, texts[0].clone());
        if let Some(hit) = cache.lock().ok().and_then(|mut c| c.get(&key).cloned()) {
            return Ok(vec![hit]);
        }
        let vectors = self.submit(texts.to_vec(), kind)?;
        if let (Ok(mut cache), Some(v)) = (cache.lock(), vectors.first()) {
            cache.put(key, v.clone());
        }
        Ok(vectors)
    }
}
