//! Understanding one shopper message: language, one of the 14 intents with a calibrated
//! confidence, normalised slots and sentiment.
//!
//! Intent: strong patterns by rule first (an order number with a status word, a fault code
//! with an appliance or error word, a request for a human, a pure greeting), else a softmax
//! classifier over hashed word, character and slot-shape features trained at start-up from
//! `ingest/intents/<intent>.txt`. Its probabilities are calibrated on cross-validation folds
//! of the same exemplars, so a confidence of 0.8 is right about 80% of the time.

mod classifier;
mod features;
pub mod guard;
mod products;
mod rules;
pub mod sentiment;
pub mod slots;

use crate::domain::Lang;
use crate::domain::commerce::Product;
use crate::domain::turn::{Intent, Understanding};
use crate::text::detect_lang;
use classifier::{CLASSES, Model, Rows, TrainConfig};
use products::ProductNames;
use rules::Rule;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Longest exemplar line accepted; longer lines are pasted documents, not utterances.
const MAX_EXEMPLAR_CHARS: usize = 400;
const CV_FOLDS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum UnderstandError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Malformed { path: PathBuf, line: usize, message: String },
    #[error("{path}: the file name is not an intent (expected one of: {expected})")]
    UnknownIntent { path: PathBuf, expected: String },
    #[error("{path}: missing exemplar file for intent {intent}")]
    MissingIntent { path: PathBuf, intent: Intent },
    #[error("no training examples")]
    NoExamples,
}

/// One labelled utterance and where it came from (for error messages).
#[derive(Debug, Clone)]
struct Exemplar {
    text: String,
    intent: Intent,
    path: PathBuf,
    line: usize,
}

/// Share of held-out predictions in one confidence range, and how many were right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub low: f32,
    pub high: f32,
    pub count: usize,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LangAccuracy {
    pub lang: Lang,
    pub count: usize,
    pub accuracy: f64,
}

/// What start-up training measured: cross-validated accuracy of the whole intent step (rules
/// then classifier) and how well its confidence tracks accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingReport {
    pub examples: usize,
    pub features: usize,
    pub folds: usize,
    pub temperature: f32,
    /// How strongly unseen words pull the confidence toward uniform (0: not at all).
    pub coverage_power: f32,
    pub train_ms: f64,
    pub cv_accuracy: f64,
    pub cv_by_lang: Vec<LangAccuracy>,
    pub calibration: Vec<Bucket>,
    /// Expected calibration error over `calibration` (0 is perfect).
    pub ece: f64,
}

pub struct Understander {
    model: Model,
    /// Share of exemplars on which each rule agreed with the label (smoothed).
    rule_confidence: HashMap<Rule, f32>,
    products: ProductNames,
    coupons: Vec<String>,
    report: TrainingReport,
}

impl Understander {
    /// Reads `intents_dir/<intent>.txt` for all 14 intents and trains on them.
    pub fn load(intents_dir: &Path, catalog: &[Product]) -> Result<Understander, UnderstandError> {
        let exemplars = read_exemplar_files(intents_dir)?;
        Understander::fit(exemplars.into_iter().map(|e| (e.text, e.intent)).collect(), catalog)
    }

    /// Trains on the given examples (e.g. exemplars plus an eval's training split).
    pub fn train(examples: Vec<(String, Intent)>, catalog: &[Product]) -> Result<Understander, UnderstandError> {
        Understander::fit(examples, catalog)
    }

    /// The exemplars of `intents_dir`, validated as `load` validates them.
    pub fn read_exemplars(intents_dir: &Path) -> Result<Vec<(String, Intent)>, UnderstandError> {
        Ok(read_exemplar_files(intents_dir)?.into_iter().map(|e| (e.text, e.intent)).collect())
    }

    /// Coupon codes recognised without a "coupon" word next to them (e.g. from coupons.json).
    pub fn with_coupon_codes(mut self, codes: impl IntoIterator<Item = String>) -> Understander {
        self.coupons = codes.into_iter().map(|c| c.to_ascii_uppercase()).collect();
        self
    }

    pub fn report(&self) -> &TrainingReport {
        &self.report
    }

    pub fn understand(&self, message: &str) -> Understanding {
        let folded = fold(message);
        let lang = detect_lang(message);
        let slots = slots::extract(&folded, message, &self.products, &self.coupons);
        let sentiment = sentiment::assess(message);
        let probs = self.model.predict(&features::extract(&folded, &slots, lang));
        let (intent, confidence) = match rules::strong_intent(&folded, &slots) {
            Some(rule) => {
                let intent = rule.intent();
                let from_rule = self.rule_confidence.get(&rule).copied().unwrap_or(rules::PRIOR_CONFIDENCE);
                (intent, from_rule.max(probs[intent_index(intent)]))
            }
            None => {
                let (best, p) = argmax(&probs);
                (Intent::ALL[best], p)
            }
        };
        Understanding { lang, intent, confidence: confidence.clamp(0.0, 1.0), slots, sentiment }
    }

    /// The product of a family under discussion that the message picks by its words alone
    /// ("女款", "the men's"), if exactly one.
    pub fn narrow_family(&self, family: &str, message: &str) -> Option<String> {
        self.products.narrow_family(family, &fold(message))
    }

    /// The products a message names, each with the count stated for it.
    pub fn basket(&self, message: &str) -> Vec<slots::BasketItem> {
        slots::basket(&fold(message), message, &self.products)
    }

    fn fit(examples: Vec<(String, Intent)>, catalog: &[Product]) -> Result<Understander, UnderstandError> {
        if examples.is_empty() {
            return Err(UnderstandError::NoExamples);
        }
        let started = Instant::now();
        let products = ProductNames::new(catalog);
        let prepared = prepare(&examples, &products);
        let rows = Rows::build(prepared.iter().map(|p| p.hashed.as_slice()));
        let labels: Vec<usize> = prepared.iter().map(|p| p.label).collect();
        let config = TrainConfig::default();

        let heldout = classifier::cross_validate(&rows, &labels, CV_FOLDS, &config);
        let calibration = classifier::fit_calibration(&heldout, &labels);
        let rule_confidence = rule_agreement(&prepared);
        let model = Model::train(rows, &labels, calibration, &config);

        // The whole intent step on held-out folds: the rule when one fires, else the classifier.
        let outcomes: Vec<(Lang, f32, bool)> = prepared
            .iter()
            .zip(&heldout)
            .map(|(p, h)| {
                let probs = classifier::calibrated(h, calibration);
                let (predicted, confidence) = match p.rule {
                    Some(rule) => {
                        let i = intent_index(rule.intent());
                        let from_rule = rule_confidence.get(&rule).copied().unwrap_or(rules::PRIOR_CONFIDENCE);
                        (i, from_rule.max(probs[i]))
                    }
                    None => argmax(&probs),
                };
                (p.lang, confidence, predicted == p.label)
            })
            .collect();
        let buckets = calibration_buckets(outcomes.iter().map(|&(_, c, ok)| (c, ok)));
        let report = TrainingReport {
            examples: prepared.len(),
            features: model.features(),
            folds: CV_FOLDS,
            temperature: calibration.temperature,
            coverage_power: calibration.coverage_power,
            train_ms: started.elapsed().as_secs_f64() * 1000.0,
            cv_accuracy: share(outcomes.iter().filter(|o| o.2).count(), outcomes.len()),
            cv_by_lang: [Lang::Zh, Lang::En]
                .into_iter()
                .map(|lang| {
                    let of_lang: Vec<_> = outcomes.iter().filter(|o| o.0 == lang).collect();
                    LangAccuracy {
                        lang,
                        count: of_lang.len(),
                        accuracy: share(of_lang.iter().filter(|o| o.2).count(), of_lang.len()),
                    }
                })
                .collect(),
            ece: expected_calibration_error(&buckets, outcomes.len()),
            calibration: buckets,
        };
        Ok(Understander { model, rule_confidence, products, coupons: Vec::new(), report })
    }
}

fn prepare(examples: &[(String, Intent)], products: &ProductNames) -> Vec<Prepared> {
    examples
        .iter()
        .map(|(text, intent)| {
            let folded = fold(text);
            let lang = detect_lang(text);
            let slots = slots::extract(&folded, text, products, &[]);
            let rule = rules::strong_intent(&folded, &slots);
            let hashed = features::extract(&folded, &slots, lang);
            Prepared { lang, label: intent_index(*intent), rule, hashed }
        })
        .collect()
}

struct Prepared {
    lang: Lang,
    label: usize,
    rule: Option<Rule>,
    hashed: Vec<(u64, f32)>,
}

/// How often each rule's intent matched the label where the rule fired, with a prior worth a
/// few agreeing examples so that a rule seldom seen in the exemplars is not trusted blindly.
fn rule_agreement(prepared: &[Prepared]) -> HashMap<Rule, f32> {
    let mut counts: HashMap<Rule, (usize, usize)> = HashMap::new();
    for p in prepared {
        if let Some(rule) = p.rule {
            let entry = counts.entry(rule).or_default();
            entry.0 += 1;
            entry.1 += usize::from(intent_index(rule.intent()) == p.label);
        }
    }
    let prior_weight = 10.0;
    counts
        .into_iter()
        .map(|(rule, (fired, agreed))| {
            let smoothed = (agreed as f32 + rules::PRIOR_CONFIDENCE * prior_weight) / (fired as f32 + prior_weight);
            (rule, smoothed)
        })
        .collect()
}

/// Predictions (confidence, right?) grouped by confidence, for calibration tables.
pub fn calibration_buckets(outcomes: impl Iterator<Item = (f32, bool)>) -> Vec<Bucket> {
    let edges = [0.0f32, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0];
    let mut sums = vec![(0usize, 0f64, 0usize); edges.len() - 1];
    for (confidence, correct) in outcomes {
        let i = edges.windows(2).position(|w| confidence < w[1]).unwrap_or(edges.len() - 2);
        sums[i].0 += 1;
        sums[i].1 += f64::from(confidence);
        sums[i].2 += usize::from(correct);
    }
    edges
        .windows(2)
        .zip(sums)
        .filter(|(_, (count, _, _))| *count > 0)
        .map(|(w, (count, conf, right))| Bucket {
            low: w[0],
            high: w[1],
            count,
            mean_confidence: conf / count as f64,
            accuracy: right as f64 / count as f64,
        })
        .collect()
}

fn expected_calibration_error(buckets: &[Bucket], total: usize) -> f64 {
    buckets.iter().map(|b| share(b.count, total) * (b.mean_confidence - b.accuracy).abs()).sum()
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

fn intent_index(intent: Intent) -> usize {
    Intent::ALL.iter().position(|&i| i == intent).unwrap_or(CLASSES - 1)
}

fn argmax(probs: &[f32; CLASSES]) -> (usize, f32) {
    probs
        .iter()
        .copied()
        .enumerate()
        .fold((CLASSES - 1, f32::MIN), |best, (i, p)| if p > best.1 { (i, p) } else { best })
}

/// Lower-cases ASCII and turns full-width forms into ASCII, one char for one char, so that
/// offsets in the folded text are offsets in the original.
pub(crate) fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c).to_ascii_lowercase(),
            '\u{3000}' => ' ',
            _ => c.to_ascii_lowercase(),
        })
        .collect()
}

fn read_exemplar_files(dir: &Path) -> Result<Vec<Exemplar>, UnderstandError> {
    let entries = std::fs::read_dir(dir).map_err(|source| UnderstandError::Io { path: dir.into(), source })?;
    let mut files: Vec<(Intent, PathBuf)> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|source| UnderstandError::Io { path: dir.into(), source })?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let intent = Intent::parse(stem).ok_or_else(|| UnderstandError::UnknownIntent {
            path: path.clone(),
            expected: Intent::ALL.map(Intent::as_str).join(", "),
        })?;
        files.push((intent, path));
    }
    files.sort();
    for intent in Intent::ALL {
        if !files.iter().any(|(i, _)| *i == intent) {
            return Err(UnderstandError::MissingIntent { path: dir.join(format!("{intent}.txt")), intent });
        }
    }
    let mut exemplars = Vec::new();
    for (intent, path) in files {
        let bytes = std::fs::read(&path).map_err(|source| UnderstandError::Io { path: path.clone(), source })?;
        let before = exemplars.len();
        parse_exemplars(&path, &bytes, intent, &mut exemplars)?;
        if exemplars.len() == before {
            return Err(UnderstandError::Malformed { path, line: 1, message: "no utterances in the file".into() });
        }
    }
    reject_conflicts(&exemplars)?;
    Ok(exemplars)
}

/// One utterance per line; blank lines and `#` comments are skipped.
fn parse_exemplars(path: &Path, bytes: &[u8], intent: Intent, out: &mut Vec<Exemplar>) -> Result<(), UnderstandError> {
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let malformed =
            |message: &str| UnderstandError::Malformed { path: path.into(), line: i + 1, message: message.into() };
        let line = std::str::from_utf8(raw).map_err(|_| malformed("not valid UTF-8"))?.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.contains('\t') {
            return Err(malformed("a tab in an utterance: write one utterance per line, without labels"));
        }
        if line.chars().any(char::is_control) {
            return Err(malformed("a control character in an utterance"));
        }
        if line.chars().count() > MAX_EXEMPLAR_CHARS {
            return Err(malformed(&format!("longer than {MAX_EXEMPLAR_CHARS} characters")));
        }
        if !line.chars().any(char::is_alphanumeric) {
            return Err(malformed("no letters or digits"));
        }
        out.push(Exemplar { text: line.to_string(), intent, path: path.into(), line: i + 1 });
    }
    Ok(())
}

/// The same utterance under two intents would teach the classifier a coin toss.
fn reject_conflicts(exemplars: &[Exemplar]) -> Result<(), UnderstandError> {
    let mut first: HashMap<String, &Exemplar> = HashMap::new();
    for e in exemplars {
        let key: String = fold(&e.text).split_whitespace().collect::<Vec<_>>().join(" ");
        match first.get(&key) {
            Some(earlier) if earlier.intent != e.intent => {
                return Err(UnderstandError::Malformed {
                    path: e.path.clone(),
                    line: e.line,
                    message: format!(
                        "the same utterance is also an exemplar of {} ({}:{})",
                        earlier.intent,
                        earlier.path.display(),
                        earlier.line
                    ),
                });
            }
            Some(_) => {}
            None => {
                first.insert(key, e);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
