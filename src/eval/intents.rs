//! Intent and slot scoring of suite cases (`eval::cases`), through an [`Understander`] or from
//! whole turns: intent accuracy, macro-F1, a
//! confusion table, slot accuracy with spurious slots counted, calibration by confidence
//! bucket, and the failures. Also the Bitext customer-support benchmark, its 27 intents
//! mapped onto ours by `evals/bitext-intents.toml`.

use super::beir::EvalError;
use super::cases::Case;
use crate::ask::understand::{Bucket, Understander, calibration_buckets};
use crate::domain::turn::Intent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentScore {
    pub intent: Intent,
    pub support: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confusion {
    pub expected: Intent,
    pub predicted: Intent,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub id: String,
    pub question: String,
    pub expected: Option<Intent>,
    pub predicted: Intent,
    pub confidence: f32,
    /// "size: expected \"9\", got \"9.5\"", "spurious color: \"black\"".
    pub slot_errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentReport {
    pub suite: String,
    pub cases: usize,
    pub intent_cases: usize,
    pub intent_accuracy: f64,
    pub macro_f1: f64,
    pub per_intent: Vec<IntentScore>,
    /// Off-diagonal cells only, largest first.
    pub confusion: Vec<Confusion>,
    pub slot_expected: usize,
    pub slot_correct: usize,
    pub slot_accuracy: f64,
    pub spurious_slots: usize,
    pub calibration: Vec<Bucket>,
    pub failures: Vec<Failure>,
}

/// Labelled cases as training examples (e.g. a benchmark's train split).
pub fn as_training(cases: &[Case]) -> Vec<(String, Intent)> {
    cases.iter().filter_map(|c| c.intent.map(|i| (c.question.clone(), i))).collect()
}

pub fn score(suite: &str, cases: &[Case], understander: &Understander) -> IntentReport {
    let mut tally = IntentTally::default();
    for case in cases {
        let got = understander.understand(&case.question);
        tally.add(case, got.intent, got.confidence, &got.slots);
    }
    tally.report(suite)
}

/// Intent and slot outcomes, case by case, for one report.
#[derive(Debug, Default, Clone)]
pub struct IntentTally {
    cases: usize,
    cells: BTreeMap<(Intent, Intent), usize>,
    outcomes: Vec<(f32, bool)>,
    slot_expected: usize,
    slot_correct: usize,
    spurious_slots: usize,
    failures: Vec<Failure>,
}

impl IntentTally {
    /// Scores what the system understood of one case.
    pub fn add(&mut self, case: &Case, intent: Intent, confidence: f32, slots: &crate::domain::turn::Slots) {
        self.cases += 1;
        let mut slot_errors = Vec::new();
        if let Some(expected) = &case.slots {
            let predicted = slot_map(slots);
            for (key, want) in expected {
                self.slot_expected += 1;
                match predicted.get(key) {
                    Some(have) if same_value(have, want) => self.slot_correct += 1,
                    Some(have) => slot_errors.push(format!("{key}: expected {want}, got {have}")),
                    None => slot_errors.push(format!("{key}: expected {want}, got nothing")),
                }
            }
            for (key, have) in predicted.iter().filter(|(k, _)| !expected.contains_key(*k)) {
                self.spurious_slots += 1;
                slot_errors.push(format!("spurious {key}: {have}"));
            }
        }
        let intent_right = case.intent.is_none_or(|want| want == intent);
        if let Some(want) = case.intent {
            *self.cells.entry((want, intent)).or_default() += 1;
            self.outcomes.push((confidence, intent_right));
        }
        if !intent_right || !slot_errors.is_empty() {
            self.failures.push(Failure {
                id: case.id.clone(),
                question: case.question.clone(),
                expected: case.intent,
                predicted: intent,
                confidence,
                slot_errors,
            });
        }
    }

    pub fn report(self, suite: &str) -> IntentReport {
        let intent_cases = self.outcomes.len();
        let right = self.outcomes.iter().filter(|o| o.1).count();
        let per_intent = per_intent_scores(&self.cells);
        let mut confusion: Vec<Confusion> = self
            .cells
            .iter()
            .filter(|((e, p), _)| e != p)
            .map(|(&(expected, predicted), &count)| Confusion { expected, predicted, count })
            .collect();
        confusion.sort_by_key(|c| std::cmp::Reverse(c.count));
        IntentReport {
            suite: suite.to_string(),
            cases: self.cases,
            intent_cases,
            intent_accuracy: share(right, intent_cases),
            macro_f1: if per_intent.is_empty() {
                0.0
            } else {
                per_intent.iter().map(|s| s.f1).sum::<f64>() / per_intent.len() as f64
            },
            per_intent,
            confusion,
            slot_expected: self.slot_expected,
            slot_correct: self.slot_correct,
            slot_accuracy: share(self.slot_correct, self.slot_expected),
            spurious_slots: self.spurious_slots,
            calibration: calibration_buckets(self.outcomes.into_iter()),
            failures: self.failures,
        }
    }
}

/// Precision, recall and F1 for every intent expected or predicted at least once.
fn per_intent_scores(cells: &BTreeMap<(Intent, Intent), usize>) -> Vec<IntentScore> {
    Intent::ALL
        .into_iter()
        .filter_map(|intent| {
            let tp = cells.get(&(intent, intent)).copied().unwrap_or(0);
            let support: usize = cells.iter().filter(|((e, _), _)| *e == intent).map(|(_, n)| n).sum();
            let predicted: usize = cells.iter().filter(|((_, p), _)| *p == intent).map(|(_, n)| n).sum();
            if support == 0 && predicted == 0 {
                return None;
            }
            let (precision, recall) = (share(tp, predicted), share(tp, support));
            let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
            Some(IntentScore { intent, support, precision, recall, f1 })
        })
        .collect()
}

fn slot_map(slots: &crate::domain::turn::Slots) -> Map<String, Value> {
    match serde_json::to_value(slots) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Equal as JSON, or equal as text when one side writes a number as a string ("2" vs 2).
fn same_value(have: &Value, want: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    have == want || text(have) == text(want)
}

pub fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Bitext intent name -> ours, from `evals/bitext-intents.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct BitextMapping {
    pub intents: BTreeMap<String, Intent>,
}

#[derive(Deserialize)]
struct MappingFile {
    bitext: BTreeMap<String, MappingEntry>,
}

#[derive(Deserialize)]
struct MappingEntry {
    intent: String,
    reason: String,
}

pub fn read_bitext_mapping(path: &Path) -> Result<BitextMapping, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: path.into(), source })?;
    let format = |message: String| EvalError::Format { path: path.into(), line: 0, message };
    let file: MappingFile = toml::from_str(&text).map_err(|e| format(e.to_string()))?;
    let mut intents = BTreeMap::new();
    for (bitext, entry) in file.bitext {
        let ours = Intent::parse(&entry.intent)
            .ok_or_else(|| format(format!("{bitext}: unknown intent {:?}", entry.intent)))?;
        if entry.reason.trim().is_empty() {
            return Err(format(format!("{bitext}: give a reason for the mapping")));
        }
        intents.insert(bitext, ours);
    }
    Ok(BitextMapping { intents })
}

#[derive(Deserialize)]
struct BitextLine {
    id: String,
    text: String,
    intent: String,
}

/// `<dir>/<split>.jsonl` as cases labelled with our intents; an unmapped label is an error.
pub fn read_bitext(dir: &Path, split: &str, mapping: &BitextMapping) -> Result<Vec<Case>, EvalError> {
    let path: PathBuf = dir.join(format!("{split}.jsonl"));
    let text = std::fs::read_to_string(&path).map_err(|source| EvalError::Io { path: path.clone(), source })?;
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let format = |message: String| EvalError::Format { path: path.clone(), line: i + 1, message };
        let row: BitextLine = serde_json::from_str(line).map_err(|e| format(e.to_string()))?;
        let intent = *mapping
            .intents
            .get(&row.intent)
            .ok_or_else(|| format(format!("Bitext intent {:?} is not in the mapping", row.intent)))?;
        cases.push(Case {
            id: row.id,
            question: row.text,
            locale: Some("en".into()),
            intent: Some(intent),
            slots: None,
            ..Default::default()
        });
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::commerce::Product;

    fn repo(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    fn catalog() -> Vec<Product> {
        serde_json::from_str(&std::fs::read_to_string(repo("knowledge/store/catalog.json")).expect("catalog"))
            .expect("catalog parses")
    }

    /// The 27 intents of the Bitext customer-support release (its labels.tsv).
    const BITEXT_LABELS: [&str; 27] = [
        "cancel_order",
        "change_order",
        "change_shipping_address",
        "check_cancellation_fee",
        "check_invoice",
        "check_payment_methods",
        "check_refund_policy",
        "complaint",
        "contact_customer_service",
        "contact_human_agent",
        "create_account",
        "delete_account",
        "delivery_options",
        "delivery_period",
        "edit_account",
        "get_invoice",
        "get_refund",
        "newsletter_subscription",
        "payment_issue",
        "place_order",
        "recover_password",
        "registration_problems",
        "review",
        "set_up_shipping_address",
        "switch_account",
        "track_order",
        "track_refund",
    ];

    #[test]
    fn bitext_mapping_covers_all_27_labels() {
        let mapping = read_bitext_mapping(&repo("evals/bitext-intents.toml")).expect("mapping reads");
        let mapped: Vec<&str> = mapping.intents.keys().map(String::as_str).collect();
        assert_eq!(mapped, BITEXT_LABELS);
        assert_eq!(mapping.intents["track_order"], Intent::OrderStatus);
        assert_eq!(mapping.intents["contact_human_agent"], Intent::HumanHandoff);
    }

    #[test]
    fn scores_intents_slots_and_spurious_slots() {
        let mut examples: Vec<(String, Intent)> = Vec::new();
        for i in 0..6 {
            examples.push((format!("where is my parcel {i}"), Intent::OrderStatus));
            examples.push((format!("hello there friend {i}"), Intent::Greeting));
            examples.push((format!("how much does it cost {i}"), Intent::PriceQuote));
        }
        let u = Understander::train(examples, &catalog()).expect("trains");
        let slots = |v: Value| v.as_object().cloned();
        let cases = vec![
            Case {
                id: "1".into(),
                question: "where is my parcel 202611150123".into(),
                locale: None,
                intent: Some(Intent::OrderStatus),
                slots: slots(serde_json::json!({"order_id": "202611150123"})),
                ..Default::default()
            },
            Case {
                id: "2".into(),
                question: "how much does the black kettle cost".into(),
                locale: None,
                intent: Some(Intent::PriceQuote),
                slots: slots(serde_json::json!({"product": "HH-KT100"})),
                ..Default::default()
            },
            Case {
                id: "3".into(),
                question: "hello there".into(),
                locale: None,
                intent: Some(Intent::OrderStatus),
                slots: None,
                ..Default::default()
            },
        ];
        let report = score("toy", &cases, &u);
        assert_eq!((report.intent_cases, report.intent_accuracy), (3, 2.0 / 3.0));
        assert_eq!((report.slot_expected, report.slot_correct, report.spurious_slots), (2, 2, 1));
        assert_eq!(report.failures.len(), 2, "{report:#?}");
        assert!(report.failures.iter().any(|f| f.slot_errors.iter().any(|e| e.contains("spurious color"))));
        assert_eq!(
            report.confusion,
            vec![Confusion { expected: Intent::OrderStatus, predicted: Intent::Greeting, count: 1 }]
        );
        // Order status: 1 of 2 found, 1 of 1 predicted right; greeting: predicted once, wrongly.
        let order = report.per_intent.iter().find(|s| s.intent == Intent::OrderStatus).expect("scored");
        assert_eq!((order.precision, order.recall), (1.0, 0.5));
        assert!((report.macro_f1 - (2.0 / 3.0 + 0.0 + 1.0) / 3.0).abs() < 1e-9, "{}", report.macro_f1);
    }
}
