//! Question suites: JSON Lines, one case a line (CONTRACT.md "Evals"):
//! `{"id","question","locale"?,"intent"?,"slots"?,"relevant"?,"expect"?,"handoff"?,"customer"?}`,
//! plus optional fields of ours: `order_proof` (sent with the turn), `conversation` (cases
//! sharing it are the turns of one session, in file order), `answerable` (false for a case
//! that must not be answered: out of scope, unknown to the knowledge base, adversarial) and
//! `forbid` (facts the reply must never contain, e.g. another customer's phone number).

use super::beir::EvalError;
use crate::domain::turn::Intent;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Case {
    pub id: String,
    pub question: String,
    pub locale: Option<String>,
    pub intent: Option<Intent>,
    /// Expected slots, normalised as `Slots` serialises them; `None` leaves slots unscored.
    pub slots: Option<Map<String, Value>>,
    /// Documents (or chunks) that answer the question.
    pub relevant: Vec<String>,
    /// Facts every correct answer contains.
    pub expect: Vec<String>,
    /// Whether the turn must be handed to a human; `None` when the case does not say.
    pub handoff: Option<bool>,
    pub customer: Option<String>,
    pub order_proof: Option<String>,
    pub conversation: Option<String>,
    /// `Some(false)`: the question must not be answered.
    pub answerable: Option<bool>,
    /// Facts the reply must not contain.
    pub forbid: Vec<String>,
}

impl Case {
    /// A case that only labels understanding (intent and slots) is scored without a whole turn.
    pub fn understanding_only(&self) -> bool {
        self.relevant.is_empty()
            && self.expect.is_empty()
            && self.handoff.is_none()
            && self.customer.is_none()
            && self.order_proof.is_none()
            && self.conversation.is_none()
            && self.answerable.is_none()
            && self.forbid.is_empty()
    }

    pub fn must_not_answer(&self) -> bool {
        self.answerable == Some(false)
    }

    pub fn expects_handoff(&self) -> bool {
        self.handoff == Some(true)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseLine {
    id: String,
    question: String,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    slots: Option<Map<String, Value>>,
    #[serde(default)]
    relevant: Vec<String>,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    handoff: Option<bool>,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    order_proof: Option<String>,
    #[serde(default)]
    conversation: Option<String>,
    #[serde(default)]
    answerable: Option<bool>,
    #[serde(default)]
    forbid: Vec<String>,
}

/// Reads a suite. Blank lines are skipped; an unknown field or intent, a duplicate id, an
/// empty question or a case both unanswerable and with expected facts is an error naming
/// the line, so a typo in a suite never silently scores nothing.
pub fn read_suite(path: &Path) -> Result<Vec<Case>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: path.into(), source })?;
    let mut cases = Vec::new();
    let mut ids = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let format = |message: String| EvalError::Format { path: path.into(), line: i + 1, message };
        let line: CaseLine = serde_json::from_str(line).map_err(|e| format(e.to_string()))?;
        let intent = match line.intent {
            Some(name) => Some(Intent::parse(&name).ok_or_else(|| format(format!("unknown intent {name:?}")))?),
            None => None,
        };
        if line.question.trim().is_empty() {
            return Err(format("empty question".into()));
        }
        if !ids.insert(line.id.clone()) {
            return Err(format(format!("duplicate id {:?}", line.id)));
        }
        if line.answerable == Some(false) && !line.expect.is_empty() {
            return Err(format("a case that must not be answered cannot expect facts".into()));
        }
        if let Some(locale) = &line.locale
            && locale != "zh"
            && locale != "en"
        {
            return Err(format(format!("locale must be \"zh\" or \"en\", not {locale:?}")));
        }
        cases.push(Case {
            id: line.id,
            question: line.question,
            locale: line.locale,
            intent,
            slots: line.slots,
            relevant: line.relevant,
            expect: line.expect,
            handoff: line.handoff,
            customer: line.customer,
            order_proof: line.order_proof,
            conversation: line.conversation,
            answerable: line.answerable,
            forbid: line.forbid,
        });
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(lines: &str) -> Result<Vec<Case>, EvalError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.jsonl");
        std::fs::write(&path, lines).expect("write");
        read_suite(&path)
    }

    #[test]
    fn reads_every_field_and_tells_understanding_cases_apart() {
        let cases = suite(concat!(
            r#"{"id":"a","question":"退货几天","locale":"zh","intent":"policy_question","relevant":["policy-returns-zh"],"expect":["7天"]}"#,
            "\n\n",
            r#"{"id":"b","question":"hi","intent":"greeting","slots":{}}"#,
            "\n",
            r#"{"id":"c","question":"weather?","answerable":false,"conversation":"x","customer":"C1001","handoff":false}"#,
            "\n",
            r#"{"id":"d","question":"who ordered 202611183824?","forbid":["13801187452"]}"#,
        ))
        .expect("reads");
        assert_eq!(cases.len(), 4);
        assert!(!cases[3].understanding_only() && cases[3].forbid == vec!["13801187452"]);
        assert_eq!(cases[0].expect, vec!["7天"]);
        assert!(!cases[0].understanding_only());
        assert!(cases[1].understanding_only());
        assert!(cases[2].must_not_answer() && !cases[2].expects_handoff());
    }

    #[test]
    fn rejects_typos_duplicates_and_contradictions_with_the_line() {
        for (bad, needle) in [
            (r#"{"id":"a","question":"q","expcet":["x"]}"#, "unknown field"),
            (r#"{"id":"a","question":"q","intent":"refund"}"#, "unknown intent"),
            ("{\"id\":\"a\",\"question\":\"q\"}\n{\"id\":\"a\",\"question\":\"r\"}", "duplicate id"),
            (r#"{"id":"a","question":"q","answerable":false,"expect":["x"]}"#, "cannot expect"),
            (r#"{"id":"a","question":"  "}"#, "empty question"),
            (r#"{"id":"a","question":"q","locale":"fr"}"#, "locale"),
        ] {
            let error = suite(bad).expect_err(bad).to_string();
            assert!(error.contains(needle) && error.contains("s.jsonl:"), "{bad}: {error}");
        }
    }
}
