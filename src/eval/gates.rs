//! `evals/baseline.json`: the clock the suites are written for, and the gated figures.
//!
//! ```json
//! {"now": "2026-11-21T04:00:00Z",
//!  "gates": {"all/intent_accuracy": {"min": 0.95, "baseline": 0.965, "tolerance": 0.01},
//!            "all/out_of_scope_answered": {"max": 0}}}
//! ```
//! A gate fails when its figure is missing, below `min`, above `max`, or worse than
//! `baseline` by more than `tolerance` (worse is lower; higher for a gate with `max` or
//! `lower_is_better`). `target` records a goal not yet reached: reported, never failing.

use super::beir::EvalError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    #[serde(default)]
    pub tolerance: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lower_is_better: bool,
}

impl Gate {
    pub fn lower_is_better(&self) -> bool {
        self.lower_is_better || self.max.is_some()
    }

    /// Whether `value` reaches the target (true when there is none).
    pub fn target_met(&self, value: f64) -> bool {
        match self.target {
            None => true,
            Some(target) if self.lower_is_better() => value <= target,
            Some(target) => value >= target,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The time the suites' orders, deliveries and promotions are judged at.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    pub gates: BTreeMap<String, Gate>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: path.into(), source })?;
        let baseline: Baseline = serde_json::from_str(&text).map_err(|e| EvalError::Format {
            path: path.into(),
            line: e.line(),
            message: e.to_string(),
        })?;
        for (figure, gate) in &baseline.gates {
            if gate.min.is_some() && gate.max.is_some() || gate.tolerance < 0.0 || !gate.tolerance.is_finite() {
                return Err(EvalError::Format {
                    path: path.into(),
                    line: 0,
                    message: format!("gate {figure:?}: give min or max (not both) and a tolerance of 0 or more"),
                });
            }
        }
        Ok(baseline)
    }
}

/// One gate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    pub figure: String,
    pub value: Option<f64>,
    pub gate: Gate,
    /// Why it failed; None when it held.
    pub failure: Option<String>,
}

pub fn check(baseline: &Baseline, figures: &BTreeMap<String, f64>) -> Vec<GateResult> {
    baseline
        .gates
        .iter()
        .map(|(figure, gate)| {
            let value = figures.get(figure).copied();
            GateResult { figure: figure.clone(), value, gate: gate.clone(), failure: verdict(figure, value, gate) }
        })
        .collect()
}

fn verdict(figure: &str, value: Option<f64>, gate: &Gate) -> Option<String> {
    let Some(value) = value.filter(|v| v.is_finite()) else {
        return Some(format!("{figure} was not measured (is its suite missing?)"));
    };
    if let Some(min) = gate.min
        && value < min
    {
        return Some(format!("{figure} is {value:.4}, below the minimum {min}"));
    }
    if let Some(max) = gate.max
        && value > max
    {
        return Some(format!("{figure} is {value:.4}, above the maximum {max}"));
    }
    let lower_is_better = gate.lower_is_better();
    if let Some(baseline) = gate.baseline {
        let fell = if lower_is_better { value - baseline } else { baseline - value };
        // A hair of slack so a figure equal to baseline - tolerance in decimal still holds.
        if fell > gate.tolerance + 1e-9 {
            return Some(format!(
                "{figure} fell from {baseline:.4} to {value:.4}, more than its tolerance {}",
                gate.tolerance
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(min: Option<f64>, max: Option<f64>, baseline: Option<f64>, tolerance: f64) -> Gate {
        Gate { min, max, baseline, tolerance, target: None, lower_is_better: false }
    }

    #[test]
    fn a_count_that_should_shrink_fails_when_it_grows_and_targets_never_fail() {
        let counted =
            Gate { baseline: Some(12.0), lower_is_better: true, target: Some(0.0), ..gate(None, None, None, 0.0) };
        let baseline = Baseline { now: None, gates: BTreeMap::from([("oos".to_string(), counted.clone())]) };
        let at = |v: f64| check(&baseline, &BTreeMap::from([("oos".to_string(), v)]))[0].failure.clone();
        assert_eq!(at(12.0), None);
        assert_eq!(at(3.0), None);
        assert!(at(13.0).is_some_and(|f| f.contains("oos fell from 12.0000 to 13.0000")));
        assert!(!counted.target_met(3.0) && counted.target_met(0.0));
    }

    #[test]
    fn a_gate_fails_below_its_floor_or_beyond_its_tolerance_and_names_the_figure() {
        let baseline = Baseline {
            now: None,
            gates: BTreeMap::from([
                ("a/intent_accuracy".to_string(), gate(Some(0.95), None, Some(0.97), 0.01)),
                ("a/out_of_scope_answered".to_string(), gate(None, Some(0.0), None, 0.0)),
                ("a/latency".to_string(), gate(None, Some(50.0), Some(10.0), 5.0)),
                ("scifact/hybrid/ndcg@10".to_string(), gate(Some(0.7), None, None, 0.0)),
            ]),
        };
        let figures = |intent: f64, answered: f64, latency: f64| {
            BTreeMap::from([
                ("a/intent_accuracy".to_string(), intent),
                ("a/out_of_scope_answered".to_string(), answered),
                ("a/latency".to_string(), latency),
            ])
        };
        let failures = |f: &BTreeMap<String, f64>| -> Vec<String> {
            check(&baseline, f).into_iter().filter_map(|r| r.failure).collect()
        };
        let held = failures(&figures(0.96, 0.0, 14.0));
        assert_eq!(held.len(), 1, "{held:?}");
        assert!(held[0].contains("scifact/hybrid/ndcg@10") && held[0].contains("not measured"));

        let fell = failures(&figures(0.955, 1.0, 16.0));
        assert!(fell.iter().any(|f| f.contains("a/intent_accuracy fell from 0.9700 to 0.9550")), "{fell:?}");
        assert!(fell.iter().any(|f| f.contains("a/out_of_scope_answered is 1.0000, above the maximum 0")));
        assert!(fell.iter().any(|f| f.contains("a/latency fell from 10.0000 to 16.0000")));
        assert!(failures(&figures(0.94, 0.0, 10.0)).iter().any(|f| f.contains("below the minimum 0.95")));
    }

    #[test]
    fn a_baseline_file_with_contradictory_or_unknown_keys_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("baseline.json");
        for bad in [
            r#"{"gates":{"x":{"min":0.5,"max":0.9}}}"#,
            r#"{"gates":{"x":{"minimum":0.5}}}"#,
            r#"{"gates":{"x":{"min":0.5,"tolerance":-1}}}"#,
        ] {
            std::fs::write(&path, bad).expect("write");
            assert!(Baseline::load(&path).is_err(), "{bad}");
        }
        std::fs::write(&path, r#"{"now":"2026-11-21T04:00:00Z","gates":{"x":{"min":0.5}}}"#).expect("write");
        let baseline = Baseline::load(&path).expect("loads");
        assert_eq!(baseline.gates["x"].min, Some(0.5));
        assert!(baseline.now.is_some());
    }
}
