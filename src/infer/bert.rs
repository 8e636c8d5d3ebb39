//! A BERT-family sentence embedder on candle, equivalent to sentence-transformers: tokenise
//! (truncating to the model's max sequence length), encode, pool over each text's tokens
//! (mean, or CLS where the model's pooling config says so), L2-normalise.
//!
//! Accepts any model directory with `config.json`, `tokenizer.json` and `model.safetensors`;
//! `1_Pooling/config.json`, `sentence_bert_config.json` and the model card's `language`
//! list are read when present. An optional `clerk-model.toml` sets query/passage prefixes
//! and languages for models that need them (e5, bge).

use super::bert_forward::{Config, Encoder, Packed};
use crate::domain::Lang;
use crate::ports::{EmbedError, EmbedKind, Embedder};
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use tokenizers::{Tokenizer, TruncationParams};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Pooling {
    Mean,
    Cls,
}

#[derive(Debug, Default, Deserialize)]
struct ModelOptions {
    query_prefix: Option<String>,
    passage_prefix: Option<String>,
    languages: Option<Vec<String>>,
    max_tokens: Option<usize>,
}

/// What callers need to know about a loaded model without running it; the worker keeps a
/// copy so these answers never wait for the model thread.
#[derive(Clone)]
pub struct ModelInfo {
    pub id: String,
    pub dims: usize,
    pub max_tokens: usize,
    pub languages: Vec<Lang>,
    pub tokenizer: Tokenizer,
}

impl ModelInfo {
    pub fn count_tokens(&self, text: &str) -> Result<usize, EmbedError> {
        self.tokenizer
            .encode_fast(text, true)
            .map(|e| e.get_ids().len())
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))
    }
}

pub struct BertEmbedder {
    info: ModelInfo,
    encoder: Encoder,
    /// The forward pass runs inside this pool, so its many short parallel steps are shared
    /// among pool threads directly instead of each being handed over from the caller's thread.
    threads: rayon::ThreadPool,
    pooling: Pooling,
    query_prefix: String,
    passage_prefix: String,
}

fn bad(path: &Path, e: impl std::fmt::Display) -> EmbedError {
    EmbedError::BadModel(format!("{}: {e}", path.display()))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, EmbedError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| bad(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(bad(path, e)),
    }
}

/// Languages named in a Hugging Face model card's front matter (`language: en` or a list).
fn card_languages(dir: &Path) -> Option<Vec<Lang>> {
    let text = std::fs::read_to_string(dir.join("README.md")).ok()?;
    let front = text.strip_prefix("---\n")?.split("\n---").next()?;
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(front).ok()?;
    let names: Vec<String> = match doc.get("language")? {
        serde_yaml_ng::Value::String(s) => vec![s.clone()],
        serde_yaml_ng::Value::Sequence(items) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => return None,
    };
    if names.iter().any(|n| n == "multilingual") {
        return Some(vec![Lang::En, Lang::Zh]);
    }
    let langs: Vec<Lang> = names.iter().filter_map(|n| Lang::parse(n)).collect();
    (!langs.is_empty()).then_some(langs)
}

impl BertEmbedder {
    /// Loads a model directory. `languages` overrides what the model declares.
    pub fn load(dir: &Path, languages: Option<Vec<Lang>>) -> Result<Self, EmbedError> {
        for required in ["config.json", "tokenizer.json", "model.safetensors"] {
            if !dir.join(required).is_file() {
                return Err(EmbedError::ModelNotFound(format!(
                    "{} has no {required} (a BERT-family model directory needs config.json, tokenizer.json and model.safetensors)",
                    dir.display()
                )));
            }
        }
        let config_path = dir.join("config.json");
        let config: Config = read_json(&config_path)?.ok_or_else(|| bad(&config_path, "missing"))?;
        let options: ModelOptions = match std::fs::read_to_string(dir.join("clerk-model.toml")) {
            Ok(text) => toml::from_str(&text).map_err(|e| bad(&dir.join("clerk-model.toml"), e))?,
            Err(_) => ModelOptions::default(),
        };
        let pooling = match read_json::<serde_json::Value>(&dir.join("1_Pooling/config.json"))? {
            Some(p) if p.get("pooling_mode_cls_token").and_then(|v| v.as_bool()) == Some(true) => Pooling::Cls,
            _ => Pooling::Mean,
        };
        let st_max = read_json::<serde_json::Value>(&dir.join("sentence_bert_config.json"))?
            .and_then(|v| v.get("max_seq_length").and_then(|m| m.as_u64()))
            .map(|m| m as usize);
        let max_tokens = options.max_tokens.or(st_max).unwrap_or(512).min(config.max_position_embeddings);

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| bad(&tokenizer_path, e))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_tokens, ..Default::default() }))
            .map_err(|e| bad(&tokenizer_path, e))?;
        // Batches are packed without padding (see bert_forward), whatever tokenizer.json asks for.
        tokenizer.with_padding(None);

        let weights = dir.join("model.safetensors");
        // SAFETY: the weights file is memory-mapped read-only and not modified while loaded.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &Device::Cpu) }
            .map_err(|e| bad(&weights, e))?;
        let encoder = Encoder::load(vb, &config).map_err(|e| bad(&weights, e))?;
        // Sized like rayon's global pool: RAYON_NUM_THREADS (the `embedder.threads` setting), else one per core.
        let threads = rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("clerk-embed-{i}"))
            .build()
            .map_err(|e| EmbedError::Inference(format!("starting the model's threads: {e}")))?;

        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("model").to_string();
        let fingerprint = fingerprint(&weights)?;
        let e5 = name.to_lowercase().contains("e5");
        let languages = match languages
            .or_else(|| options.languages.as_ref().map(|l| l.iter().filter_map(|s| Lang::parse(s)).collect()))
        {
            Some(l) => l,
            None => card_languages(dir).unwrap_or_else(|| vec![Lang::En]),
        };
        Ok(Self {
            info: ModelInfo {
                id: format!("{name}@{fingerprint}"),
                dims: config.hidden_size,
                max_tokens,
                languages,
                tokenizer,
            },
            encoder,
            threads,
            pooling,
            query_prefix: options.query_prefix.unwrap_or_else(|| if e5 { "query: ".into() } else { String::new() }),
            passage_prefix: options
                .passage_prefix
                .unwrap_or_else(|| if e5 { "passage: ".into() } else { String::new() }),
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// One forward pass over a batch of texts, packed without padding.
    fn embed_batch(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings =
            self.info.tokenizer.encode_batch(texts, true).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let lens: Vec<usize> = encodings.iter().map(|e| e.get_ids().len()).collect();
        let ids: Vec<u32> = encodings.iter().flat_map(|e| e.get_ids().iter().copied()).collect();
        let hidden = self.encoder.forward(&Packed { ids: &ids, lens: &lens })?;
        let dims = self.info.dims;
        let mut start = 0;
        Ok(lens
            .iter()
            .map(|&len| {
                let rows = &hidden[start * dims..(start + len) * dims];
                start += len;
                normalised(self.pool(rows, dims))
            })
            .collect())
    }

    /// One text's vector from its token rows; an empty text pools to zeros.
    fn pool(&self, rows: &[f32], dims: usize) -> Vec<f32> {
        let mut pooled = vec![0.0f32; dims];
        match self.pooling {
            Pooling::Cls => {
                if let Some(first) = rows.get(..dims) {
                    pooled.copy_from_slice(first);
                }
            }
            Pooling::Mean => {
                for row in rows.chunks_exact(dims) {
                    pooled.iter_mut().zip(row).for_each(|(p, x)| *p += x);
                }
                let count = (rows.len() / dims).max(1) as f32;
                pooled.iter_mut().for_each(|p| *p /= count);
            }
        }
        pooled
    }
}

/// Unit length, as sentence-transformers' Normalize module (norm clamped at 1e-12).
fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// Short content fingerprint of the weights, so a changed model never mixes its vectors
/// with an old generation's.
fn fingerprint(weights: &Path) -> Result<String, EmbedError> {
    let file = std::fs::File::open(weights).map_err(|e| bad(weights, e))?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(file).map_err(|e| bad(weights, e))?;
    Ok(hasher.finalize().to_hex()[..12].to_string())
}

impl Embedder for BertEmbedder {
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

    /// Texts are embedded in batches of at most `BATCH`, which bounds the activations' memory;
    /// packing means their lengths need not match.
    fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, EmbedError> {
        const BATCH: usize = 32;
        let prefix = match kind {
            EmbedKind::Query => &self.query_prefix,
            EmbedKind::Passage => &self.passage_prefix,
        };
        self.threads.install(|| {
            let mut out = Vec::with_capacity(texts.len());
            for group in texts.chunks(BATCH) {
                out.extend(self.embed_batch(group.iter().map(|t| format!("{prefix}{t}")).collect())?);
            }
            Ok(out)
        })
    }
}

/// Finds a model directory for a configured name: a path, a folder under `models_dir`
/// (also by the last part of a hub id such as `sentence-transformers/all-MiniLM-L6-v2`),
/// else a hub download.
pub fn resolve_model_dir(models_dir: &Path, spec: &str) -> Result<PathBuf, EmbedError> {
    let direct = PathBuf::from(spec);
    if direct.join("config.json").is_file() {
        return Ok(direct);
    }
    let mut candidates = vec![models_dir.join(spec)];
    if let Some(last) = spec.rsplit('/').next() {
        candidates.push(models_dir.join(last));
    }
    if let Some(found) = candidates.into_iter().find(|c| c.join("config.json").is_file()) {
        return Ok(found);
    }
    if super::hub::is_hub_id(spec) {
        return super::hub::fetch(spec);
    }
    Err(EmbedError::ModelNotFound(format!(
        "no model directory for {spec:?} (looked in {} and at the path itself); run scripts/setup.sh to fetch the default model, or put a BERT-family model directory there",
        models_dir.display()
    )))
}
