//! Settings, layered as CONTRACT.md fixes: defaults -> `clerk.toml` -> `CLERK_*` environment
//! -> flags. clap resolves flag-over-env; this module puts the file and the defaults below
//! them and validates the result once into [`Settings`].

use crate::ports::Bm25Params;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid setting {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

/// Values the command line (flags, or their `CLERK_*` variables) may set.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub knowledge: Option<PathBuf>,
    pub ingest_dir: Option<PathBuf>,
    pub addr: Option<String>,
    pub models_dir: Option<PathBuf>,
    pub model: Option<String>,
    /// From `CLERK_ADMIN_KEY` (environment only: a secret never goes on a command line).
    pub admin_key: Option<String>,
    /// From `CLERK_SESSION_SECRET`.
    pub session_secret: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    knowledge: Option<PathBuf>,
    ingest_dir: Option<PathBuf>,
    addr: Option<String>,
    models_dir: Option<PathBuf>,
    #[serde(default)]
    embedder: EmbedderFile,
    #[serde(default)]
    retrieval: RetrievalFile,
    #[serde(default)]
    server: ServerFile,
    #[serde(default)]
    commerce: CommerceFile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommerceFile {
    backend: Option<String>,
    http: Option<toml::Table>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    session_ttl_secs: Option<u64>,
    rate_limit_per_sec: Option<f64>,
    rate_limit_burst: Option<f64>,
    max_concurrent_turns: Option<usize>,
    /// A fixed "now" (RFC 3339) for demos and reproducible tests; unset: the system clock.
    fixed_now: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbedderFile {
    model: Option<String>,
    languages: Option<Vec<String>>,
    batch_size: Option<usize>,
    threads: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrievalFile {
    rrf_k: Option<f32>,
    candidates: Option<usize>,
    bm25_weight_en: Option<f32>,
    dense_weight_en: Option<f32>,
    bm25_weight_zh: Option<f32>,
    dense_weight_zh: Option<f32>,
    bm25_k1_en: Option<f32>,
    bm25_b_en: Option<f32>,
    bm25_k1_zh: Option<f32>,
    bm25_b_zh: Option<f32>,
}

/// How the embedding model is chosen and run.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedderSettings {
    /// A directory under `models_dir`, a path, or a model hub id.
    pub model: String,
    /// Overrides the languages the model declares ("en", "zh").
    pub languages: Option<Vec<crate::domain::Lang>>,
    pub batch_size: usize,
    /// Compute threads for the model; 0 lets the library decide.
    pub threads: usize,
}

/// Reciprocal-rank fusion knobs, with a weight per leg and language.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrievalSettings {
    pub rrf_k: f32,
    /// How many candidates each leg hands to fusion.
    pub candidates: usize,
    pub bm25_weight_en: f32,
    pub dense_weight_en: f32,
    pub bm25_weight_zh: f32,
    pub dense_weight_zh: f32,
    pub bm25_en: Bm25Params,
    pub bm25_zh: Bm25Params,
}

impl Default for RetrievalSettings {
    fn default() -> Self {
        Self {
            rrf_k: 60.0,
            candidates: 100,
            bm25_weight_en: 1.0,
            dense_weight_en: 1.0,
            bm25_weight_zh: 1.0,
            dense_weight_zh: 1.0,
            // Anserini's defaults for English; Chinese character n-grams keep Robertson's
            // (at 0.9 / 0.4 they lose 2.5 points of nDCG@10 on half of the TARA queries).
            bm25_en: Bm25Params { k1: 0.9, b: 0.4 },
            bm25_zh: Bm25Params { k1: 1.2, b: 0.75 },
        }
    }
}

/// The HTTP server's limits and secrets. Secrets come only from the environment.
#[derive(Clone, PartialEq)]
pub struct ServerSettings {
    /// `CLERK_ADMIN_KEY`; None: admin endpoints answer 401 to everyone.
    pub admin_key: Option<String>,
    /// `CLERK_SESSION_SECRET`; None: customer tokens are refused.
    pub session_secret: Option<String>,
    /// A session idle longer than this starts afresh.
    pub session_ttl_secs: u64,
    /// Requests per second per client (token bucket); 0 turns limiting off.
    pub rate_limit_per_sec: f64,
    pub rate_limit_burst: f64,
    /// Turns computed at once; more wait briefly, then get 429.
    pub max_concurrent_turns: usize,
    pub fixed_now: Option<chrono::DateTime<chrono::Utc>>,
}

impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets.
        f.debug_struct("ServerSettings")
            .field("admin_key", &self.admin_key.as_ref().map(|_| "<set>"))
            .field("session_secret", &self.session_secret.as_ref().map(|_| "<set>"))
            .field("session_ttl_secs", &self.session_ttl_secs)
            .field("rate_limit_per_sec", &self.rate_limit_per_sec)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("max_concurrent_turns", &self.max_concurrent_turns)
            .field("fixed_now", &self.fixed_now)
            .finish()
    }
}

/// Where live orders, stock and prices come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CommerceSettings {
    /// The embedded SQLite store, seeded from `knowledge/store/`.
    Embedded,
    /// An external order system; the table is `[commerce.http]`, parsed by the connector.
    Http(toml::Table),
}

/// Everything validated, ready for `app` to build adapters from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub knowledge_dir: PathBuf,
    pub ingest_dir: PathBuf,
    pub addr: SocketAddr,
    pub models_dir: PathBuf,
    pub embedder: EmbedderSettings,
    pub retrieval: RetrievalSettings,
    pub server: ServerSettings,
    pub commerce: CommerceSettings,
}

pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";

impl Settings {
    /// Builds settings from the config file (explicit path, or `./clerk.toml` when present)
    /// under the command-line overrides.
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let file = match &overrides.config {
            Some(path) => read_file(path)?,
            None if Path::new("clerk.toml").exists() => read_file(Path::new("clerk.toml"))?,
            None => FileConfig::default(),
        };
        Self::merge(file, overrides)
    }

    fn merge(file: FileConfig, o: &Overrides) -> Result<Settings, ConfigError> {
        let addr_text = o.addr.clone().or(file.addr).unwrap_or_else(|| "127.0.0.1:8080".into());
        let addr = addr_text.parse().map_err(|e| ConfigError::Invalid {
            key: "addr",
            message: format!("{addr_text:?} is not host:port ({e})"),
        })?;
        let languages = match file.embedder.languages {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|l| {
                        crate::domain::Lang::parse(l).ok_or_else(|| ConfigError::Invalid {
                            key: "embedder.languages",
                            message: format!("unknown language {l:?} (use \"en\" or \"zh\")"),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let batch_size = file.embedder.batch_size.unwrap_or(32);
        if batch_size == 0 || batch_size > 1024 {
            return Err(ConfigError::Invalid {
                key: "embedder.batch_size",
                message: format!("{batch_size} is outside 1..=1024"),
            });
        }
        let d = RetrievalSettings::default();
        let r = file.retrieval;
        let retrieval = RetrievalSettings {
            rrf_k: r.rrf_k.unwrap_or(d.rrf_k),
            candidates: r.candidates.unwrap_or(d.candidates),
            bm25_weight_en: r.bm25_weight_en.unwrap_or(d.bm25_weight_en),
            dense_weight_en: r.dense_weight_en.unwrap_or(d.dense_weight_en),
            bm25_weight_zh: r.bm25_weight_zh.unwrap_or(d.bm25_weight_zh),
            dense_weight_zh: r.dense_weight_zh.unwrap_or(d.dense_weight_zh),
            bm25_en: Bm25Params { k1: r.bm25_k1_en.unwrap_or(d.bm25_en.k1), b: r.bm25_b_en.unwrap_or(d.bm25_en.b) },
            bm25_zh: Bm25Params { k1: r.bm25_k1_zh.unwrap_or(d.bm25_zh.k1), b: r.bm25_b_zh.unwrap_or(d.bm25_zh.b) },
        };
        for p in [retrieval.bm25_en, retrieval.bm25_zh] {
            if !(p.k1.is_finite() && p.k1 >= 0.0 && (0.0..=1.0).contains(&p.b)) {
                return Err(ConfigError::Invalid {
                    key: "retrieval.bm25_*",
                    message: "k1 must be finite and >= 0, b within 0..=1".into(),
                });
            }
        }
        if !(retrieval.rrf_k > 0.0) {
            return Err(ConfigError::Invalid { key: "retrieval.rrf_k", message: "must be > 0".into() });
        }
        if retrieval.candidates == 0 {
            return Err(ConfigError::Invalid { key: "retrieval.candidates", message: "must be > 0".into() });
        }
        let weights =
            [retrieval.bm25_weight_en, retrieval.dense_weight_en, retrieval.bm25_weight_zh, retrieval.dense_weight_zh];
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(ConfigError::Invalid {
                key: "retrieval.*_weight_*",
                message: "weights must be finite and >= 0".into(),
            });
        }
        let server = Self::server(file.server, o)?;
        let commerce = match (file.commerce.backend.as_deref(), file.commerce.http) {
            (None | Some("sqlite"), _) => CommerceSettings::Embedded,
            (Some("http"), Some(table)) => CommerceSettings::Http(table),
            (Some("http"), None) => {
                return Err(ConfigError::Invalid {
                    key: "commerce.http",
                    message: "backend = \"http\" needs a [commerce.http] table with base_url".into(),
                });
            }
            (Some(other), _) => {
                return Err(ConfigError::Invalid {
                    key: "commerce.backend",
                    message: format!("{other:?} is not \"sqlite\" or \"http\""),
                });
            }
        };
        Ok(Settings {
            server,
            commerce,
            data_dir: o.data_dir.clone().or(file.data_dir).unwrap_or_else(|| "./data".into()),
            knowledge_dir: o.knowledge.clone().or(file.knowledge).unwrap_or_else(|| "./knowledge".into()),
            ingest_dir: o.ingest_dir.clone().or(file.ingest_dir).unwrap_or_else(|| "./ingest".into()),
            addr,
            models_dir: o.models_dir.clone().or(file.models_dir).unwrap_or_else(|| "./models".into()),
            embedder: EmbedderSettings {
                model: o.model.clone().or(file.embedder.model).unwrap_or_else(|| DEFAULT_MODEL.into()),
                languages,
                batch_size,
                threads: file.embedder.threads.unwrap_or(0),
            },
            retrieval,
        })
    }
}

impl Settings {
    fn server(file: ServerFile, o: &Overrides) -> Result<ServerSettings, ConfigError> {
        let secret = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let server = ServerSettings {
            admin_key: secret(&o.admin_key),
            session_secret: secret(&o.session_secret),
            session_ttl_secs: file.session_ttl_secs.unwrap_or(30 * 60),
            rate_limit_per_sec: file.rate_limit_per_sec.unwrap_or(20.0),
            rate_limit_burst: file.rate_limit_burst.unwrap_or(40.0),
            max_concurrent_turns: file.max_concurrent_turns.unwrap_or(64),
            fixed_now: match file.fixed_now {
                None => None,
                Some(text) => Some(
                    chrono::DateTime::parse_from_rfc3339(&text)
                        .map_err(|e| ConfigError::Invalid {
                            key: "server.fixed_now",
                            message: format!("{text:?} is not an RFC 3339 time ({e})"),
                        })?
                        .with_timezone(&chrono::Utc),
                ),
            },
        };
        if server.session_ttl_secs == 0 {
            return Err(ConfigError::Invalid { key: "server.session_ttl_secs", message: "must be > 0".into() });
        }
        if !(server.rate_limit_per_sec >= 0.0 && server.rate_limit_burst >= 1.0) {
            return Err(ConfigError::Invalid {
                key: "server.rate_limit_*",
                message: "rate_limit_per_sec must be >= 0 and rate_limit_burst >= 1".into(),
            });
        }
        if server.max_concurrent_turns == 0 {
            return Err(ConfigError::Invalid { key: "server.max_concurrent_turns", message: "must be > 0".into() });
        }
        Ok(server)
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> FileConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_then_file_then_overrides() {
        let s = Settings::merge(FileConfig::default(), &Overrides::default()).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.embedder.model, DEFAULT_MODEL);

        let file = parse("data_dir = \"/srv/clerk\"\naddr = \"0.0.0.0:9000\"\n[retrieval]\nrrf_k = 30\n");
        let s = Settings::merge(file.clone(), &Overrides::default()).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/srv/clerk"));
        assert_eq!(s.retrieval.rrf_k, 30.0);

        let o = Overrides { data_dir: Some("/tmp/x".into()), ..Default::default() };
        let s = Settings::merge(file, &o).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(s.addr.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn bad_values_are_named() {
        let err = Settings::merge(parse("addr = \"nowhere\""), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("addr"), "{err}");
        let err = Settings::merge(parse("[embedder]\nlanguages = [\"fr\"]"), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("fr"), "{err}");
        assert!(toml::from_str::<FileConfig>("colour = 1").is_err(), "unknown keys are refused");
    }
}
