//! One `clerk eval` run: finds the suites a path names, runs each, gathers every figure under
//! one flat name ("shopper/zh/answer_correctness", "beir-scifact/hybrid/ndcg@10") and checks
//! the baseline's gates.
//!
//! A folder such as `evals/` contributes its `*.jsonl` question suites, the public benchmarks
//! its `public.toml` lists, and its `baseline.json`. A `.jsonl` file is one question suite; a
//! BEIR folder one retrieval suite.

use super::beir::{BeirSuite, EvalError, ModeFigures, QueryScore, is_beir_dir, score_mode, score_query};
use super::cases::{Case, read_suite};
use super::gates::{Baseline, GateResult};
use super::intents::{IntentReport, read_bitext, read_bitext_mapping, score};
use super::turns::{CaseOutcome, TurnFigures, check_gaps, figures, run_cases};
use crate::app::{App, AppError};
use crate::ask::assistant::Clock;
use crate::ask::understand::Understander;
use crate::domain::{Lang, SearchMode};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("a turn failed: {0}")]
    Turn(#[from] crate::ask::assistant::TurnError),
    #[error("{0}")]
    Target(String),
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub split: String,
    pub modes: Vec<SearchMode>,
    /// Gates to check instead of the suites folder's `baseline.json`.
    pub baseline: Option<PathBuf>,
    pub progress: bool,
}

/// Public benchmarks a suites folder runs too (`public.toml`, paths relative to it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicSuites {
    #[serde(default)]
    retrieval: Vec<PublicRetrieval>,
    #[serde(default)]
    intents: Vec<PublicIntents>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicRetrieval {
    path: PathBuf,
}

/// An intent benchmark scored the standard way: trained on our exemplars plus its train split,
/// tested on its test split, its labels mapped onto our intents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicIntents {
    name: String,
    path: PathBuf,
    mapping: PathBuf,
    #[serde(default = "train_split")]
    train: String,
    #[serde(default = "test_split")]
    test: String,
}

fn train_split() -> String {
    "train".into()
}
fn test_split() -> String {
    "test".into()
}

#[derive(Debug, Default)]
struct Targets {
    questions: Vec<PathBuf>,
    retrieval: Vec<PathBuf>,
    intents: Vec<PublicIntents>,
    baseline: Option<PathBuf>,
    skipped: Vec<String>,
}

fn find_targets(paths: &[PathBuf]) -> Result<Targets, RunError> {
    let mut targets = Targets::default();
    for path in paths {
        if path.is_file() && path.extension().is_some_and(|e| e == "jsonl") {
            targets.questions.push(path.clone());
        } else if is_beir_dir(path) {
            targets.retrieval.push(path.clone());
        } else if path.is_dir() {
            let mut suites: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|source| EvalError::Io { path: path.clone(), source })?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            suites.sort();
            targets.questions.extend(suites);
            let public = path.join("public.toml");
            if public.exists() {
                add_public(&mut targets, &public, path)?;
            }
            if path.join("baseline.json").exists() && targets.baseline.is_none() {
                targets.baseline = Some(path.join("baseline.json"));
            }
        } else {
            return Err(RunError::Target(format!(
                "{} is neither a .jsonl suite, a BEIR folder nor a folder of suites",
                path.display()
            )));
        }
    }
    Ok(targets)
}

fn add_public(targets: &mut Targets, file: &Path, dir: &Path) -> Result<(), RunError> {
    let text = std::fs::read_to_string(file).map_err(|source| EvalError::Io { path: file.into(), source })?;
    let public: PublicSuites =
        toml::from_str(&text).map_err(|e| EvalError::Format { path: file.into(), line: 0, message: e.to_string() })?;
    for suite in public.retrieval {
        let path = dir.join(&suite.path);
        if is_beir_dir(&path) {
            targets.retrieval.push(path);
        } else {
            targets.skipped.push(format!("{} (not found)", path.display()));
        }
    }
    for suite in public.intents {
        let path = dir.join(&suite.path);
        let mapping = dir.join(&suite.mapping);
        if path.join(format!("{}.jsonl", suite.test)).exists() {
            targets.intents.push(PublicIntents { path, mapping, ..suite });
        } else {
            targets.skipped.push(format!("{} (not found)", path.display()));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionSuiteReport {
    pub suite: String,
    pub all: TurnFigures,
    pub by_lang: BTreeMap<String, TurnFigures>,
    /// Retrieval over the cases that name relevant documents, per mode.
    pub retrieval: Vec<ModeFigures>,
    pub retrieval_by_lang: BTreeMap<String, Vec<ModeFigures>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetrievalSuiteReport {
    pub suite: String,
    pub documents: usize,
    pub modes: Vec<ModeFigures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub embedder: String,
    pub now: chrono::DateTime<chrono::Utc>,
    pub questions: Vec<QuestionSuiteReport>,
    /// Every question suite together.
    pub all: Option<QuestionSuiteReport>,
    pub retrieval: Vec<RetrievalSuiteReport>,
    pub intents: Vec<IntentReport>,
    /// Every figure by name, as the gates read them.
    pub figures: BTreeMap<String, f64>,
    pub gates: Vec<GateResult>,
    pub failed_cases: Vec<CaseOutcome>,
    pub skipped: Vec<String>,
}

impl EvalReport {
    pub fn gate_failures(&self) -> Vec<&GateResult> {
        self.gates.iter().filter(|g| g.failure.is_some()).collect()
    }
}

pub fn run(app: &App, paths: &[PathBuf], options: &RunOptions) -> Result<EvalReport, RunError> {
    let targets = find_targets(paths)?;
    let baseline_path = options.baseline.clone().or(targets.baseline.clone());
    let baseline = baseline_path.as_deref().map(Baseline::load).transpose()?;
    let now = baseline.as_ref().and_then(|b| b.now).or(app.settings.server.fixed_now).unwrap_or_else(chrono::Utc::now);
    for skipped in &targets.skipped {
        tracing::warn!("skipping a public suite: {skipped}");
    }

    let mut report = EvalReport {
        embedder: app.embedder.id().to_string(),
        now,
        questions: Vec::new(),
        all: None,
        retrieval: Vec::new(),
        intents: Vec::new(),
        figures: BTreeMap::new(),
        gates: Vec::new(),
        failed_cases: Vec::new(),
        skipped: targets.skipped.clone(),
    };
    if !targets.questions.is_empty() {
        run_questions(app, &targets.questions, now, options, &mut report)?;
    }
    for suite in &targets.intents {
        let report_of = bitext(app, suite)?;
        insert_intents(&mut report.figures, &suite.name, &report_of);
        report.intents.push(report_of);
    }
    for dir in &targets.retrieval {
        let suite = BeirSuite::load(dir, &options.split)?;
        let store = app.suite_store(&suite.name);
        let (snapshot, embedded) =
            suite.index(app.embedder.as_ref(), store.as_ref(), &app.tuning()?, options.progress)?;
        if embedded > 0 {
            tracing::info!("{}: embedded {embedded} passages", suite.name);
        }
        let mut modes = Vec::new();
        for &mode in &options.modes {
            let f = score_mode(&suite, &snapshot, &app.retriever, mode)?;
            insert_mode(&mut report.figures, &suite.name, &f);
            modes.push(f);
        }
        report.retrieval.push(RetrievalSuiteReport { suite: suite.name.clone(), documents: suite.corpus.len(), modes });
    }
    if let Some(baseline) = &baseline {
        report.gates = super::gates::check(baseline, &report.figures);
    }
    Ok(report)
}

fn run_questions(
    app: &App,
    paths: &[PathBuf],
    now: chrono::DateTime<chrono::Utc>,
    options: &RunOptions,
    report: &mut EvalReport,
) -> Result<(), RunError> {
    let mut suites: Vec<(String, Vec<Case>)> = Vec::new();
    for path in paths {
        let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        // Figures are named by suite: two suites of one name would mix, and "all" is taken.
        if name == "all" || suites.iter().any(|(n, _)| *n == name) {
            return Err(RunError::Target(format!("{}: another suite is already named {name:?}", path.display())));
        }
        suites.push((name, read_suite(path)?));
    }
    // Scratch stores: the run may create returns and work orders, and logs its own gaps.
    let scratch = app.settings.data_dir.join("eval-run");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|source| EvalError::Io { path: scratch.clone(), source })?;
    // Understanding-only suites need no index; the others get one built if there is none.
    let needs_index = suites.iter().flat_map(|(_, c)| c).any(|c| !c.understanding_only());
    let snapshot = match app.snapshot() {
        Ok(snapshot) => Some(snapshot),
        Err(AppError::NoIndex(_)) if needs_index => {
            app.ingest(None, options.progress)?;
            Some(app.snapshot()?)
        }
        Err(AppError::NoIndex(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let commerce = app.scratch_commerce(&scratch)?;
    let assistant = app.assistant_with(commerce, &scratch.join("conversations.sqlite"), Clock::Fixed(now))?;

    let total: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let bar =
        if options.progress { indicatif::ProgressBar::new(total as u64) } else { indicatif::ProgressBar::hidden() };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} cases ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut outcomes: Vec<CaseOutcome> = Vec::new();
    for (name, cases) in &suites {
        bar.set_prefix(name.clone());
        outcomes.extend(run_cases(name, cases, &assistant, || bar.inc(1))?);
    }
    bar.finish_and_clear();
    let logged: HashSet<String> =
        assistant.gap_groups(true)?.into_iter().flat_map(|g| g.questions.into_iter().map(|q| q.gap.turn_id)).collect();
    check_gaps(&mut outcomes, &logged);

    let case_index: HashMap<(String, String), &Case> =
        suites.iter().flat_map(|(name, cases)| cases.iter().map(move |c| ((name.clone(), c.id.clone()), c))).collect();
    let scores = retrieval_scores(&case_index, snapshot.as_ref(), app, options)?;
    let mut groups: Vec<(String, Vec<&CaseOutcome>)> =
        suites.iter().map(|(name, _)| (name.clone(), outcomes.iter().filter(|o| &o.suite == name).collect())).collect();
    groups.push(("all".into(), outcomes.iter().collect()));
    for (name, group) in groups {
        let suite_report = question_report(&name, &group, &case_index, &scores, options);
        insert_turns(&mut report.figures, &name, &suite_report.all);
        for (lang, f) in &suite_report.by_lang {
            insert_turns(&mut report.figures, &format!("{name}/{lang}"), f);
        }
        for f in &suite_report.retrieval {
            insert_mode(&mut report.figures, &name, f);
        }
        for (lang, modes) in &suite_report.retrieval_by_lang {
            for f in modes {
                insert_mode(&mut report.figures, &format!("{name}/{lang}"), f);
            }
        }
        if name == "all" {
            report.all = Some(suite_report);
        } else {
            report.questions.push(suite_report);
        }
    }
    report.failed_cases = outcomes.into_iter().filter(|o| !o.problems.is_empty()).collect();
    Ok(())
}

/// Every case that names relevant documents, searched once per mode (in `options.modes` order).
fn retrieval_scores(
    cases: &HashMap<(String, String), &Case>,
    snapshot: Option<&crate::ports::Snapshot>,
    app: &App,
    options: &RunOptions,
) -> Result<HashMap<(String, String), Vec<QueryScore>>, RunError> {
    let Some(snapshot) = snapshot else { return Ok(HashMap::new()) };
    let mut scores = HashMap::new();
    for (key, case) in cases.iter().filter(|(_, c)| !c.relevant.is_empty()) {
        let judged: HashMap<String, u32> = case.relevant.iter().map(|d| (d.clone(), 1)).collect();
        let per_mode = options
            .modes
            .iter()
            .map(|&mode| score_query(&case.question, &judged, snapshot, &app.retriever, mode))
            .collect::<Result<Vec<_>, _>>()?;
        scores.insert(key.clone(), per_mode);
    }
    Ok(scores)
}

fn question_report(
    name: &str,
    group: &[&CaseOutcome],
    case_index: &HashMap<(String, String), &Case>,
    scores: &HashMap<(String, String), Vec<QueryScore>>,
    options: &RunOptions,
) -> QuestionSuiteReport {
    // Retrieval figures per mode over the outcomes whose cases were searched (none without any).
    let retrieval_of = |outcomes: &[&CaseOutcome]| -> Vec<ModeFigures> {
        let searched: Vec<&Vec<QueryScore>> =
            outcomes.iter().filter_map(|o| scores.get(&(o.suite.clone(), o.id.clone()))).collect();
        if searched.is_empty() {
            return Vec::new();
        }
        let modes = options.modes.iter().enumerate();
        modes.map(|(i, &mode)| ModeFigures::average(mode, &searched.iter().map(|s| s[i]).collect::<Vec<_>>())).collect()
    };
    let mut by_lang = BTreeMap::new();
    let mut retrieval_by_lang = BTreeMap::new();
    for lang in [Lang::Zh, Lang::En] {
        let of_lang: Vec<&CaseOutcome> = group.iter().copied().filter(|o| o.lang == lang).collect();
        if of_lang.is_empty() {
            continue;
        }
        by_lang.insert(lang.as_str().to_string(), figures(&of_lang, case_index, &format!("{name}/{lang}")));
        let retrieval = retrieval_of(&of_lang);
        if !retrieval.is_empty() {
            retrieval_by_lang.insert(lang.as_str().to_string(), retrieval);
        }
    }
    QuestionSuiteReport {
        suite: name.to_string(),
        all: figures(group, case_index, name),
        by_lang,
        retrieval: retrieval_of(group),
        retrieval_by_lang,
    }
}

fn bitext(app: &App, suite: &PublicIntents) -> Result<IntentReport, RunError> {
    let mapping = read_bitext_mapping(&suite.mapping)?;
    let train = read_bitext(&suite.path, &suite.train, &mapping)?;
    let test = read_bitext(&suite.path, &suite.test, &mapping)?;
    let mut examples = Understander::read_exemplars(&app.settings.ingest_dir.join("intents"))
        .map_err(|e| RunError::Target(e.to_string()))?;
    examples.extend(super::intents::as_training(&train));
    let catalog = app.commerce()?.products().map_err(AppError::from)?;
    let understander = Understander::train(examples, &catalog).map_err(|e| RunError::Target(e.to_string()))?;
    Ok(score(&suite.name, &test, &understander))
}

/// A figure over no cases is left out, so a gate on it reports "not measured" rather than
/// holding or failing on a made-up value.
fn insert_turns(figures: &mut BTreeMap<String, f64>, prefix: &str, f: &TurnFigures) {
    let mut put = |name: &str, measured: bool, value: f64| {
        if measured {
            figures.insert(format!("{prefix}/{name}"), value);
        }
    };
    put("cases", true, f.cases as f64);
    put("intent_accuracy", f.intents.intent_cases > 0, f.intents.intent_accuracy);
    put("intent_macro_f1", f.intents.intent_cases > 0, f.intents.macro_f1);
    put("slot_accuracy", f.intents.slot_expected > 0, f.intents.slot_accuracy);
    put("answer_correctness", f.answer_cases > 0, f.answer_correctness);
    put("citation_correctness", f.citation_cases > 0, f.citation_correctness);
    put("self_resolution", f.answerable_cases > 0, f.self_resolution);
    put("handoff_precision", f.handoff_predicted > 0, f.handoff_precision);
    put("handoff_recall", f.handoff_expected > 0, f.handoff_recall);
    put("out_of_scope_answered", f.turns > 0, f.out_of_scope_answered as f64);
    put("gap_logging", f.out_of_scope_cases > 0, f.gap_logging);
    put("leaks", f.turns > 0, f.leaks as f64);
    for (stage, [p50, p95, p99]) in &f.latency {
        put(&format!("latency/{stage}/p50_ms"), f.turns > 0, *p50);
        put(&format!("latency/{stage}/p95_ms"), f.turns > 0, *p95);
        put(&format!("latency/{stage}/p99_ms"), f.turns > 0, *p99);
    }
}

fn insert_intents(figures: &mut BTreeMap<String, f64>, prefix: &str, r: &IntentReport) {
    figures.insert(format!("{prefix}/intent_accuracy"), r.intent_accuracy);
    figures.insert(format!("{prefix}/intent_macro_f1"), r.macro_f1);
}

fn insert_mode(figures: &mut BTreeMap<String, f64>, prefix: &str, f: &ModeFigures) {
    for (metric, value) in [
        ("ndcg@10", f.ndcg_10),
        ("recall@1", f.recall_1),
        ("recall@5", f.recall_5),
        ("recall@10", f.recall_10),
        ("recall@100", f.recall_100),
        ("mrr@10", f.mrr_10),
    ] {
        figures.insert(format!("{prefix}/{}/{metric}", f.mode), value);
    }
}
