//! A model named by hub id (`owner/name`) is downloaded into the local hub cache where a
//! model hub is reachable. Only in builds with the `hub` feature: most installs run offline
//! from `models/`, and the HTTP and TLS stack is not worth building for them.

use crate::ports::EmbedError;
use std::path::PathBuf;

/// What a BERT-family sentence model needs, then what refines it when present.
#[cfg(feature = "hub")]
const REQUIRED: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
#[cfg(feature = "hub")]
const OPTIONAL: [&str; 5] =
    ["modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "README.md", "clerk-model.toml"];

/// Whether a model spec reads as a hub id rather than a local name.
pub fn is_hub_id(spec: &str) -> bool {
    let mut parts = spec.split('/');
    matches!((parts.next(), parts.next(), parts.next()), (Some(owner), Some(name), None) if !owner.is_empty() && !name.is_empty() && !owner.starts_with('.'))
}

/// Downloads the model (or finds it in the hub cache) and returns its directory.
#[cfg(feature = "hub")]
pub fn fetch(id: &str) -> Result<PathBuf, EmbedError> {
    let failed =
        |e: &dyn std::fmt::Display| EmbedError::ModelNotFound(format!("cannot fetch {id:?} from the model hub: {e}"));
    let api = hf_hub::api::sync::ApiBuilder::from_env().build().map_err(|e| failed(&e))?;
    let repo = api.model(id.to_string());
    let mut dir = None;
    for file in REQUIRED {
        let path = repo.get(file).map_err(|e| failed(&e))?;
        dir.get_or_insert(path.parent().map(PathBuf::from).unwrap_or_default());
    }
    for file in OPTIONAL {
        // Absent in many repositories; the loader falls back to defaults.
        if let Err(e) = repo.get(file) {
            tracing::debug!(model = id, file, error = %e, "optional model file not fetched");
        }
    }
    dir.ok_or_else(|| failed(&"no files"))
}

#[cfg(not(feature = "hub"))]
pub fn fetch(id: &str) -> Result<PathBuf, EmbedError> {
    Err(EmbedError::ModelNotFound(format!(
        "{id:?} is not a model directory here, and this build does not download from a model hub \
         (build with `cargo build --release --features hub`, or put the model under models/)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids_are_owner_slash_name() {
        assert!(is_hub_id("sentence-transformers/all-MiniLM-L6-v2"));
        assert!(is_hub_id("BAAI/bge-small-zh-v1.5"));
        for local in ["all-MiniLM-L6-v2", "./models/x", "/abs/path", "a/b/c", "/x", "x/"] {
            assert!(!is_hub_id(local), "{local}");
        }
    }
}
