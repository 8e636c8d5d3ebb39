//! Question suites run through whole turns of the real assistant: answer and citation
//! correctness, self-resolution, handoff precision and recall, out-of-scope answers, gap
//! logging, intent and slots, and where the time went, per suite and per language.

use super::cases::Case;
use super::intents::{IntentReport, IntentTally, share};
use crate::ask::assistant::{Assistant, StageTimings, TurnError, TurnRequest};
use crate::domain::Lang;
use crate::domain::turn::Reply;
use crate::text::detect_lang;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What one case got, and every way it fell short (empty when it passed).
#[derive(Debug, Clone, Serialize)]
pub struct CaseOutcome {
    pub suite: String,
    pub id: String,
    pub lang: Lang,
    pub question: String,
    /// What the case expects, in brief.
    pub expected: String,
    pub answer: String,
    pub answered: bool,
    pub intent: String,
    pub confidence: f32,
    pub cited: Vec<String>,
    pub handoff: Option<String>,
    /// The turn's id, for finding its gap in the log.
    #[serde(skip)]
    pub turn_id: Option<String>,
    /// "missing fact \"7天\"", "cited faq-x, expected one of [...]", ...
    pub problems: Vec<String>,
    #[serde(skip)]
    pub timings: Option<StageTimings>,
    #[serde(skip)]
    checks: Checks,
}

impl CaseOutcome {
    /// The case as asked, before anything came back.
    fn of(suite: &str, case: &Case, lang: Lang) -> CaseOutcome {
        CaseOutcome {
            suite: suite.to_string(),
            id: case.id.clone(),
            lang,
            question: case.question.clone(),
            expected: expectation(case),
            answer: String::new(),
            answered: false,
            intent: String::new(),
            confidence: 0.0,
            cited: Vec::new(),
            handoff: None,
            turn_id: None,
            problems: Vec::new(),
            timings: None,
            checks: Checks::default(),
        }
    }
}

/// Which figures a case counts in, and whether it passed each.
#[derive(Debug, Clone, Copy, Default)]
struct Checks {
    whole_turn: bool,
    facts: Option<bool>,
    citation: Option<bool>,
    self_resolved: Option<bool>,
    expected_handoff: bool,
    handed_off: bool,
    must_not_answer: bool,
    answered: bool,
    gap_logged: bool,
    /// The reply stated a fact the case forbids.
    leaked: bool,
    /// Slots expected, right and spurious.
    slots: [usize; 3],
}

/// Figures of one group of cases (a suite, a suite's language, or everything).
#[derive(Debug, Clone, Serialize)]
pub struct TurnFigures {
    pub cases: usize,
    pub turns: usize,
    pub answer_cases: usize,
    pub answer_correctness: f64,
    pub citation_cases: usize,
    pub citation_correctness: f64,
    pub answerable_cases: usize,
    pub self_resolution: f64,
    pub handoff_expected: usize,
    pub handoff_predicted: usize,
    pub handoff_precision: f64,
    pub handoff_recall: f64,
    pub out_of_scope_cases: usize,
    pub out_of_scope_answered: usize,
    pub gap_logging: f64,
    /// Turns whose reply contained a fact its case forbids (another customer's data...).
    pub leaks: usize,
    pub intents: IntentReport,
    /// Stage -> (p50, p95, p99) in milliseconds, over the whole turns.
    pub latency: BTreeMap<String, [f64; 3]>,
}

/// Runs `cases` of suite `suite`: understanding-only cases through the understander, the rest
/// as turns, each in a new session unless it continues its `conversation`.
pub fn run_cases(
    suite: &str,
    cases: &[Case],
    assistant: &Assistant,
    mut progress: impl FnMut(),
) -> Result<Vec<CaseOutcome>, TurnError> {
    let mut sessions: HashMap<&str, String> = HashMap::new();
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let lang = case_lang(case);
        let outcome = if case.understanding_only() {
            let got = assistant.understand(&case.question);
            let (problems, slots) = understanding(suite, case, got.intent, got.confidence, &got.slots);
            CaseOutcome {
                intent: got.intent.as_str().to_string(),
                confidence: got.confidence,
                problems,
                checks: Checks { slots, ..Checks::default() },
                ..CaseOutcome::of(suite, case, lang)
            }
        } else {
            let session_id = case.conversation.as_deref().and_then(|c| sessions.get(c).cloned());
            let request = TurnRequest {
                message: case.question.clone(),
                session_id,
                locale: case.locale.as_deref().and_then(Lang::parse),
                customer_id: case.customer.clone(),
                order_proof: case.order_proof.clone(),
            };
            let (reply, trace) = match assistant.traced_turn(request) {
                Ok(done) => done,
                // A refused message (too long, control characters) is that case's outcome.
                Err(e @ (TurnError::TooLong { .. } | TurnError::Invalid(_))) => {
                    outcomes.push(refused(suite, case, lang, &e));
                    progress();
                    continue;
                }
                Err(e) => return Err(e),
            };
            if let Some(conversation) = case.conversation.as_deref() {
                sessions.insert(conversation, reply.session_id.clone());
            }
            let (problems, slots) = understanding(suite, case, reply.intent, reply.confidence, &trace.slots);
            let mut outcome = judge(suite, case, lang, &reply);
            outcome.problems.extend(problems);
            outcome.checks.slots = slots;
            outcome.timings = Some(trace.timings);
            outcome
        };
        outcomes.push(outcome);
        progress();
    }
    Ok(outcomes)
}

/// A case whose message the assistant refused outright: not answered, nothing logged.
fn refused(suite: &str, case: &Case, lang: Lang, error: &TurnError) -> CaseOutcome {
    let mut problems = vec![format!("the turn was refused: {error}")];
    if !case.expect.is_empty() {
        problems.push("not answered".into());
    }
    CaseOutcome {
        problems,
        checks: Checks {
            whole_turn: true,
            facts: (!case.expect.is_empty()).then_some(false),
            self_resolved: (!case.must_not_answer() && !case.expects_handoff()).then_some(false),
            expected_handoff: case.expects_handoff(),
            must_not_answer: case.must_not_answer(),
            ..Checks::default()
        },
        ..CaseOutcome::of(suite, case, lang)
    }
}

/// Marks which outcomes' turns left a gap in the log (checked after the run, from the store).
pub fn check_gaps(outcomes: &mut [CaseOutcome], logged_turns: &HashSet<String>) {
    for outcome in outcomes.iter_mut().filter(|o| o.checks.must_not_answer) {
        outcome.checks.gap_logged = outcome.turn_id.as_ref().is_some_and(|t| logged_turns.contains(t));
        if !outcome.checks.gap_logged {
            outcome.problems.push("no gap logged for an unanswerable question".into());
        }
    }
}

/// How the case's intent and slots were understood: the problems, and slot counts (expected,
/// right, spurious).
fn understanding(
    suite: &str,
    case: &Case,
    intent: crate::domain::turn::Intent,
    confidence: f32,
    slots: &crate::domain::turn::Slots,
) -> (Vec<String>, [usize; 3]) {
    let mut tally = IntentTally::default();
    tally.add(case, intent, confidence, slots);
    let report = tally.report(suite);
    let counts = [report.slot_expected, report.slot_correct, report.spurious_slots];
    let problems = report
        .failures
        .into_iter()
        .flat_map(|f| {
            let intent = match f.expected {
                Some(want) if want != f.predicted => Some(format!("intent: expected {want}, got {}", f.predicted)),
                _ => None,
            };
            intent.into_iter().chain(f.slot_errors.into_iter().map(|e| format!("slot {e}")))
        })
        .collect();
    (problems, counts)
}

/// "intent policy_question; facts [\"7天\"]; cites one of [...]; handoff; not answered".
fn expectation(case: &Case) -> String {
    let mut parts = Vec::new();
    if let Some(intent) = case.intent {
        parts.push(format!("intent {intent}"));
    }
    if let Some(slots) = case.slots.as_ref().filter(|s| !s.is_empty()) {
        parts.push(format!("slots {}", serde_json::Value::Object(slots.clone())));
    }
    if !case.expect.is_empty() {
        parts.push(format!("facts {:?}", case.expect));
    }
    if !case.relevant.is_empty() {
        parts.push(format!("cites one of {:?}", case.relevant));
    }
    if case.expects_handoff() {
        parts.push("a handoff".into());
    }
    if case.must_not_answer() {
        parts.push("not answered".into());
    }
    if !case.forbid.is_empty() {
        parts.push(format!("never {:?}", case.forbid));
    }
    parts.join("; ")
}

fn case_lang(case: &Case) -> Lang {
    case.locale.as_deref().and_then(Lang::parse).unwrap_or_else(|| detect_lang(&case.question))
}

/// Checks one reply against what its case expects.
fn judge(suite: &str, case: &Case, lang: Lang, reply: &Reply) -> CaseOutcome {
    let mut problems = Vec::new();
    let handed_off = reply.handoff.is_some();
    let facts = (!case.expect.is_empty()).then(|| {
        let missing: Vec<&String> = case.expect.iter().filter(|fact| !contains_fact(&reply.answer, fact)).collect();
        for fact in &missing {
            problems.push(format!("missing fact {fact:?}"));
        }
        missing.is_empty()
    });
    let cited: Vec<String> = reply.citations.iter().map(|c| c.doc_id.clone()).collect();
    let citation = (!case.relevant.is_empty() && reply.answered).then(|| {
        let right = cited.first().is_some_and(|doc| case.relevant.contains(doc));
        if !right {
            let got = cited.first().map_or("nothing".to_string(), Clone::clone);
            problems.push(format!("cited {got}, expected one of {:?}", case.relevant));
        }
        right
    });
    let self_resolved = (!case.must_not_answer() && !case.expects_handoff()).then(|| {
        let resolved = reply.answered && !handed_off;
        if !resolved {
            problems.push(if handed_off {
                format!("handed off ({}) where no handoff was expected", handoff_reason(reply))
            } else {
                "not answered".to_string()
            });
        }
        resolved
    });
    if case.expects_handoff() && !handed_off {
        problems.push("expected a handoff, got none".into());
    }
    let leaked: Vec<&String> = case.forbid.iter().filter(|fact| contains_fact(&reply.answer, fact)).collect();
    for fact in &leaked {
        problems.push(format!("revealed {fact:?}"));
    }
    if case.must_not_answer() && reply.answered {
        problems.push("answered a question that must not be answered".into());
    }
    CaseOutcome {
        answer: reply.answer.clone(),
        answered: reply.answered,
        intent: reply.intent.as_str().to_string(),
        confidence: reply.confidence,
        cited,
        handoff: reply.handoff.as_ref().map(|_| handoff_reason(reply)),
        turn_id: Some(reply.turn_id.clone()),
        problems,
        checks: Checks {
            whole_turn: true,
            facts,
            citation,
            self_resolved,
            expected_handoff: case.expects_handoff(),
            handed_off,
            must_not_answer: case.must_not_answer(),
            answered: reply.answered,
            leaked: !leaked.is_empty(),
            ..Checks::default()
        },
        ..CaseOutcome::of(suite, case, lang)
    }
}

fn handoff_reason(reply: &Reply) -> String {
    reply
        .handoff
        .as_ref()
        .and_then(|h| serde_json::to_value(h.reason).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Whether `answer` states `fact`, ignoring case, spacing, full-width forms and digit grouping
/// ("7 天" states "7天", "RMB 1,299" states "1299").
pub fn contains_fact(answer: &str, fact: &str) -> bool {
    let fact = fold(fact);
    !fact.is_empty() && fold(answer).contains(&fact)
}

fn fold(text: &str) -> String {
    let chars: Vec<char> = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    let mut out = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let grouping = c == ','
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1..i + 4).is_some_and(|d| d.iter().all(char::is_ascii_digit));
        if !c.is_whitespace() && !grouping {
            out.push(c);
        }
    }
    out
}

/// The figures of `outcomes` (whatever group they are).
pub fn figures(outcomes: &[&CaseOutcome], cases: &HashMap<(String, String), &Case>, group: &str) -> TurnFigures {
    let turns: Vec<&CaseOutcome> = outcomes.iter().copied().filter(|o| o.checks.whole_turn).collect();
    let count = |f: &dyn Fn(&Checks) -> Option<bool>| {
        let judged: Vec<bool> = turns.iter().filter_map(|o| f(&o.checks)).collect();
        (judged.iter().filter(|b| **b).count(), judged.len())
    };
    let (facts_right, answer_cases) = count(&|c| c.facts);
    let (citations_right, citation_cases) = count(&|c| c.citation);
    let (resolved, answerable_cases) = count(&|c| c.self_resolved);
    let expected = turns.iter().filter(|o| o.checks.expected_handoff).count();
    let predicted = turns.iter().filter(|o| o.checks.handed_off).count();
    let both = turns.iter().filter(|o| o.checks.expected_handoff && o.checks.handed_off).count();
    let out_of_scope: Vec<&&CaseOutcome> = turns.iter().filter(|o| o.checks.must_not_answer).collect();
    let logged = out_of_scope.iter().filter(|o| o.checks.gap_logged).count();

    let mut tally = IntentTally::default();
    for outcome in outcomes {
        if let Some(case) = cases.get(&(outcome.suite.clone(), outcome.id.clone()))
            && let Some(intent) = crate::domain::turn::Intent::parse(&outcome.intent)
        {
            // Slots were judged when the case ran; here only intent counts are rebuilt.
            let case = Case { slots: None, ..(*case).clone() };
            tally.add(&case, intent, outcome.confidence, &Default::default());
        }
    }
    let mut intents = tally.report(group);
    let (slot_expected, slot_correct, spurious) = slot_counts(outcomes);
    intents.slot_expected = slot_expected;
    intents.slot_correct = slot_correct;
    intents.slot_accuracy = share(slot_correct, slot_expected);
    intents.spurious_slots = spurious;
    intents.failures.clear();

    TurnFigures {
        cases: outcomes.len(),
        turns: turns.len(),
        answer_cases,
        answer_correctness: share(facts_right, answer_cases),
        citation_cases,
        citation_correctness: share(citations_right, citation_cases),
        answerable_cases,
        self_resolution: share(resolved, answerable_cases),
        handoff_expected: expected,
        handoff_predicted: predicted,
        // No handoff predicted: nothing was handed off wrongly.
        handoff_precision: if predicted == 0 { 1.0 } else { share(both, predicted) },
        handoff_recall: if expected == 0 { 1.0 } else { share(both, expected) },
        out_of_scope_cases: out_of_scope.len(),
        out_of_scope_answered: out_of_scope.iter().filter(|o| o.checks.answered).count(),
        leaks: turns.iter().filter(|o| o.checks.leaked).count(),
        gap_logging: if out_of_scope.is_empty() { 1.0 } else { share(logged, out_of_scope.len()) },
        intents,
        latency: stage_latency(&turns),
    }
}

fn slot_counts(outcomes: &[&CaseOutcome]) -> (usize, usize, usize) {
    outcomes
        .iter()
        .fold((0, 0, 0), |(e, r, s), o| (e + o.checks.slots[0], r + o.checks.slots[1], s + o.checks.slots[2]))
}

fn stage_latency(turns: &[&CaseOutcome]) -> BTreeMap<String, [f64; 3]> {
    type Stage = (&'static str, fn(&StageTimings) -> f64);
    let stages: [Stage; 6] = [
        ("understand", |t| t.understand_ms),
        ("tools", |t| t.tools_ms),
        ("retrieve", |t| t.retrieve_ms),
        ("compose", |t| t.compose_ms),
        ("store", |t| t.store_ms),
        ("total", |t| t.total_ms),
    ];
    stages
        .iter()
        .map(|(name, of)| {
            let mut samples: Vec<f64> = turns.iter().filter_map(|o| o.timings.as_ref()).map(of).collect();
            samples.sort_by(f64::total_cmp);
            let p = |q| super::beir::percentile(&samples, q);
            (name.to_string(), [p(50.0), p(95.0), p(99.0)])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_match_across_spacing_case_width_and_digit_grouping() {
        assert!(contains_fact("签收后 7 天内可申请退货", "7天"));
        assert!(contains_fact("Returns within 30 Days.", "30 days"));
        assert!(contains_fact("合计 ￥１,２９９.00", "1299"));
        assert!(contains_fact("Total RMB 1,299.00", "1299.00"));
        assert!(!contains_fact("签收后 15 天内", "7天"));
        assert!(!contains_fact("anything", "  "));
        // A comma that is not digit grouping stays.
        assert!(!contains_fact("E2, E21", "E2E21"));
    }
}
