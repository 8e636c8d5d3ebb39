//! sentence-transformers (PyTorch) on the same texts, run by `clerk bench embed` right after
//! candle so both figures come from the same machine under the same load. Python is
//! machine-local tooling, not a dependency: when no interpreter can import
//! sentence_transformers the comparison is reported as not available.

use super::EmbedTexts;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What `scripts/bench_st.py` prints, figure for figure the same as candle's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StFigures {
    pub query_p50_ms: f64,
    pub query_p95_ms: f64,
    pub batch1_texts_per_s: f64,
    pub batch32_texts_per_s: f64,
    pub batch64_texts_per_s: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum StError {
    #[error("not available (pip install sentence-transformers)")]
    NotAvailable,
    #[error("not available: no script at {0}")]
    NoScript(PathBuf),
    #[error("could not hand it the texts: {0}")]
    Texts(#[from] std::io::Error),
    #[error("{python} failed: {stderr}")]
    Failed { python: String, stderr: String },
    #[error("unreadable output ({error}): {stdout}")]
    Output { error: serde_json::Error, stdout: String },
}

/// The first interpreter that can import sentence_transformers: the one named (flag or
/// `CLERK_ST_PYTHON`), else `python3`, else `python`.
pub fn find_python(named: Option<&Path>) -> Option<PathBuf> {
    let candidates = match named {
        Some(p) => vec![p.to_path_buf()],
        None => vec![PathBuf::from("python3"), PathBuf::from("python")],
    };
    candidates.into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import sentence_transformers"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Runs `script` (scripts/bench_st.py) on `model_dir` with `texts`.
pub fn run(python: Option<&Path>, script: &Path, model_dir: &Path, texts: &EmbedTexts) -> Result<StFigures, StError> {
    if !script.is_file() {
        return Err(StError::NoScript(script.to_path_buf()));
    }
    let python = find_python(python).ok_or(StError::NotAvailable)?;
    let texts_path = std::env::temp_dir().join(format!("clerk-bench-texts-{}.json", std::process::id()));
    let body = serde_json::to_vec(texts).map_err(std::io::Error::other)?;
    std::fs::write(&texts_path, body)?;
    let output = Command::new(&python).arg(script).arg(model_dir).arg(&texts_path).stdin(Stdio::null()).output();
    // Removed before looking at the outcome so a failed run leaves nothing behind.
    let _ = std::fs::remove_file(&texts_path);
    let output = output?;
    if !output.status.success() {
        return Err(StError::Failed {
            python: python.display().to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    parse(&String::from_utf8_lossy(&output.stdout))
}

/// The script prints one JSON object last; libraries may chatter on stdout before it.
fn parse(stdout: &str) -> Result<StFigures, StError> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    serde_json::from_str(last).map_err(|error| StError::Output { error, stdout: stdout.trim().to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_is_the_figures() {
        let out = "Some library warning\n{\"query_p50_ms\": 9.5, \"query_p95_ms\": 12.0, \"batch1_texts_per_s\": 60, \"batch32_texts_per_s\": 120, \"batch64_texts_per_s\": 126}\n\n";
        let f = parse(out).unwrap();
        assert_eq!((f.query_p50_ms, f.batch64_texts_per_s), (9.5, 126.0));
        assert!(matches!(parse("Traceback ..."), Err(StError::Output { .. })));
    }

    #[test]
    fn a_missing_interpreter_or_script_is_reported_not_fatal() {
        assert!(find_python(Some(Path::new("/nonexistent/python3"))).is_none());
        let texts = EmbedTexts { queries: vec![], passages: vec![] };
        let missing = Path::new("/nonexistent/bench_st.py");
        assert!(matches!(run(None, missing, Path::new("."), &texts), Err(StError::NoScript(_))));
    }
}
