//! Command-line interface: flags (each with its `CLERK_*` variable) and subcommands.

use crate::domain::{DocType, Lang, SearchMode};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "clerk",
    version,
    about = "Self-hosted knowledge assistant: answers shoppers, engineers and dealers from your own documents"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file (default: ./clerk.toml when it exists).
    #[arg(long, global = true, env = "CLERK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where index generations and databases live.
    #[arg(long, global = true, env = "CLERK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The knowledge base directory.
    #[arg(long, global = true, env = "CLERK_KNOWLEDGE")]
    pub knowledge: Option<PathBuf>,
    /// Ingestion tuning: pipeline.toml, dict.txt, synonyms.toml.
    #[arg(long, global = true, env = "CLERK_INGEST_DIR")]
    pub ingest_dir: Option<PathBuf>,
    /// Address the server listens on.
    #[arg(long, global = true, env = "CLERK_ADDR")]
    pub addr: Option<String>,
    /// Directory holding model directories.
    #[arg(long, global = true, env = "CLERK_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// Embedding model: a folder under the models dir, a path, or a hub id.
    #[arg(long, global = true, env = "CLERK_MODEL")]
    pub model: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Hybrid,
    Bm25,
    Dense,
}

impl From<ModeArg> for SearchMode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Hybrid => SearchMode::Hybrid,
            ModeArg::Bm25 => SearchMode::Bm25,
            ModeArg::Dense => SearchMode::Dense,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Index a knowledge directory (default: the configured one) into the data dir.
    Ingest { dir: Option<PathBuf> },
    /// Retrieval only: the passages a question finds.
    Search {
        query: String,
        #[arg(long, default_value_t = 5)]
        k: usize,
        #[arg(long, value_enum, default_value = "hybrid")]
        mode: ModeArg,
        /// Only this document type (manual, policy, fault_codes, faq, product).
        #[arg(long, value_parser = parse_doc_type)]
        doc_type: Option<DocType>,
        /// Only documents about this product or SKU.
        #[arg(long)]
        product: Option<String>,
        /// Only documents in this language (en, zh).
        #[arg(long, value_parser = parse_lang)]
        lang: Option<Lang>,
        /// Print exactly the object `POST /v1/search` returns.
        #[arg(long)]
        json: bool,
    },
    /// Run eval suites: a folder of suites (evals/), .jsonl question suites, BEIR folders.
    Eval {
        #[arg(required = true)]
        suites: Vec<PathBuf>,
        /// Write every figure to this JSON file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Which qrels split to score (default: test).
        #[arg(long, default_value = "test")]
        split: String,
        /// Retrieval modes to measure.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "bm25,dense,hybrid")]
        modes: Vec<ModeArg>,
        /// Gates to check (default: baseline.json in a suites folder given).
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Markdown report (default: <suites folder>/reports/eval-<time>.md when it has a baseline).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Start the HTTP server (builds the index first if the data dir has none).
    Serve,
    /// One full turn, as the server would answer it.
    Ask {
        question: String,
        /// Answer as this signed-in customer (as a valid customer token would).
        #[arg(long)]
        customer: Option<String>,
        /// Continue this session.
        #[arg(long)]
        session: Option<String>,
        /// Reply language when the question does not show it (zh, en).
        #[arg(long, value_parser = parse_lang)]
        locale: Option<Lang>,
        /// Proof for an anonymous order lookup: last 4 phone digits or the email.
        #[arg(long)]
        order_proof: Option<String>,
        /// Print exactly the object `POST /v1/ask` returns.
        #[arg(long)]
        json: bool,
    },
    /// Logged unanswered questions, grouped by similarity.
    Gaps {
        /// Include resolved groups.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Mint a customer token (needs CLERK_SESSION_SECRET).
    Token {
        customer_id: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl: i64,
    },
    /// Performance figures on this machine.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Embedding latency and throughput.
    Embed {
        /// Texts per measurement.
        #[arg(long, default_value_t = 256)]
        texts: usize,
        #[arg(long)]
        json: Option<PathBuf>,
        /// Python that can import sentence_transformers, for the side-by-side figures
        /// (default: python3, then python).
        #[arg(long, env = "CLERK_ST_PYTHON")]
        st_python: Option<PathBuf>,
        /// The sentence-transformers benchmark script.
        #[arg(long, default_value = "scripts/bench_st.py")]
        st_script: PathBuf,
        /// Measure candle only.
        #[arg(long)]
        no_st: bool,
    },
    /// Ingest throughput and search latency per mode over a BEIR corpus.
    Search {
        /// BEIR folder (default: ../shared/benchmarks/beir-scifact).
        #[arg(long)]
        corpus: Option<PathBuf>,
        #[arg(long, default_value_t = 300)]
        queries: usize,
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// `/v1/ask` latency and throughput over loopback HTTP, knowledge and tool questions.
    Ask {
        /// Intent suite the questions come from.
        #[arg(long, default_value = "evals/intents.jsonl")]
        suite: PathBuf,
        /// Concurrent clients of the throughput run.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Requests per kind with one client.
        #[arg(long, default_value_t = 300)]
        requests: usize,
        /// Requests per client per kind in the concurrent runs.
        #[arg(long, default_value_t = 40)]
        per_client: usize,
        /// Offered load (requests/s, all clients together) of the paced run; 0 skips it.
        #[arg(long, default_value_t = 200.0)]
        rate: f64,
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn parse_doc_type(s: &str) -> Result<DocType, String> {
    DocType::parse(s).ok_or_else(|| format!("{s:?} is not one of manual, policy, fault_codes, faq, product"))
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("{s:?} is not en or zh"))
}
