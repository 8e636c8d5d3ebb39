//! `clerk eval` gates bite: breaking the intent classifier or turning off the dense leg makes
//! the run fail and name the figure that fell, while the same run unbroken keeps that gate.

use crate::common::{copy_dir, models_dir, repo};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A baseline holding only `figure`'s gate from `evals/baseline.json`, so a run of some suites
/// passes or fails on that gate alone.
fn one_gate(dir: &Path, figure: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("evals/baseline.json")).unwrap();
    let baseline: serde_json::Value = serde_json::from_str(&text).unwrap();
    let gate = baseline["gates"][figure].clone();
    assert!(gate.is_object(), "evals/baseline.json has no gate on {figure}");
    let path = dir.join(format!("{}.json", figure.replace('/', "_")));
    let only = serde_json::json!({"now": baseline["now"], "gates": {figure: gate}});
    std::fs::write(&path, only.to_string()).unwrap();
    path
}

/// `clerk eval` on the repository's knowledge base, with a scratch data dir and the given
/// ingest dir, config and baseline; (exit success, stdout).
fn eval(data: &Path, ingest: &Path, config: &Path, baseline: &Path, suites: &[PathBuf]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_clerk"))
        .current_dir(repo())
        .env_remove("CLERK_CONFIG")
        .env("CLERK_LOG", "warn")
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .arg("--knowledge")
        .arg(repo().join("knowledge"))
        .arg("--models-dir")
        .arg(models_dir())
        .arg("--ingest-dir")
        .arg(ingest)
        .arg("eval")
        .args(suites)
        .arg("--baseline")
        .arg(baseline)
        .arg("--report")
        .arg(data.join("report.md"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.contains("gates:"), "no gate verdicts:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), stdout)
}

fn failed(stdout: &str, figure: &str) -> bool {
    stdout.lines().any(|l| l.trim_start().starts_with(&format!("FAILED {figure} ")))
}

#[test]
fn a_broken_intent_classifier_fails_the_intent_gate_by_name() {
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("clerk.toml");
    std::fs::write(&config, "").unwrap();
    let suites = [repo().join("evals/intents.jsonl")];
    let baseline = one_gate(scratch.path(), "intents/intent_accuracy");

    let (ok, healthy) = eval(&scratch.path().join("data-ok"), &repo().join("ingest"), &config, &baseline, &suites);
    assert!(ok && !failed(&healthy, "intents/intent_accuracy"), "{healthy}");

    // Every intent's exemplars filed under the next intent: the classifier learns wrong labels.
    let broken = scratch.path().join("ingest");
    copy_dir(&repo().join("ingest"), &broken);
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(broken.join("intents")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let texts: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    for (i, file) in files.iter().enumerate() {
        std::fs::write(file, &texts[(i + 1) % texts.len()]).unwrap();
    }
    let (ok, stdout) = eval(&scratch.path().join("data-broken"), &broken, &config, &baseline, &suites);
    assert!(!ok, "a broken classifier passed:\n{stdout}");
    assert!(failed(&stdout, "intents/intent_accuracy"), "{stdout}");
}

#[test]
fn turning_off_the_dense_leg_fails_the_hybrid_retrieval_gate_by_name() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let mut suites: Vec<PathBuf> = std::fs::read_dir(repo().join("evals"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    suites.sort();
    let healthy_config = scratch.path().join("healthy.toml");
    std::fs::write(&healthy_config, "").unwrap();
    let baseline = one_gate(scratch.path(), "all/hybrid/ndcg@10");
    let (ok, healthy) = eval(&data, &repo().join("ingest"), &healthy_config, &baseline, &suites);
    assert!(ok && !failed(&healthy, "all/hybrid/ndcg@10"), "{healthy}");

    let no_dense = scratch.path().join("no-dense.toml");
    std::fs::write(&no_dense, "[retrieval]\ndense_weight_en = 0.0\ndense_weight_zh = 0.0\n").unwrap();
    let (ok, stdout) = eval(&data, &repo().join("ingest"), &no_dense, &baseline, &suites);
    assert!(!ok, "hybrid without its dense leg passed:\n{stdout}");
    assert!(failed(&stdout, "all/hybrid/ndcg@10"), "{stdout}");
}
