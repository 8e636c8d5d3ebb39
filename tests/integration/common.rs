//! Shared helpers: paths, a scratch workspace, and running the real `clerk` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn models_dir() -> PathBuf {
    let dir = repo().join("models");
    assert!(
        dir.join("all-MiniLM-L6-v2/model.safetensors").is_file(),
        "the embedding model is missing: run scripts/fetch-model.sh first"
    );
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A scratch knowledge base and data dir, driven through the real binary.
pub struct Workspace {
    pub root: tempfile::TempDir,
}

impl Workspace {
    /// A workspace whose knowledge dir is a copy of `tests/fixtures/kb`.
    pub fn with_fixture_kb() -> Workspace {
        let root = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("tests/fixtures/kb"), &root.path().join("knowledge"));
        Workspace { root }
    }

    pub fn knowledge(&self) -> PathBuf {
        self.root.path().join("knowledge")
    }

    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_clerk"));
        cmd.current_dir(self.root.path())
            .env_remove("CLERK_CONFIG")
            .env("CLERK_LOG", "warn")
            .arg("--data-dir")
            .arg(self.data())
            .arg("--knowledge")
            .arg(self.knowledge())
            .arg("--models-dir")
            .arg(models_dir())
            .arg("--ingest-dir")
            .arg(repo().join("ingest"))
            .args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and requires success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "clerk {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// The number next to `label` in an ingest summary: after it ("embedded 12", "added 3"),
/// or else before it ("52 docs").
pub fn figure(summary: &str, label: &str) -> usize {
    let words: Vec<&str> = summary
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | ';'))
        .filter(|w| !w.is_empty())
        .collect();
    let after = words.windows(2).find(|p| p[0] == label).and_then(|p| p[1].parse().ok());
    let before = || words.windows(2).find(|p| p[1] == label).and_then(|p| p[0].parse().ok());
    after.or_else(before).unwrap_or_else(|| panic!("no figure for {label:?} in {summary:?}"))
}
