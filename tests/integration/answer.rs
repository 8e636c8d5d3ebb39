//! Answerability on the sample knowledge base: `tests/fixtures/answerability.jsonl` holds
//! questions the knowledge base answers (with the documents that do) and plausible ones it
//! does not. Thresholds were tuned on the "tune" half; the "test" half is held out.

use crate::common::repo;
use crate::search::sample;
use clerk::ask::compose::{Thresholds, compose};
use clerk::ask::retrieve::SearchRequest;
use clerk::domain::{Filters, Lang, SearchMode};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    id: String,
    question: String,
    locale: String,
    answerable: bool,
    #[serde(default)]
    relevant: Vec<String>,
    split: String,
}

#[derive(Default, Debug)]
struct Tally {
    answered_right: usize,
    answered_wrongly: usize,
    missed: usize,
    declined: usize,
    wrong_doc: Vec<String>,
}

impl Tally {
    fn precision(&self) -> f64 {
        self.answered_right as f64 / (self.answered_right + self.answered_wrongly).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.answered_right as f64 / (self.answered_right + self.missed).max(1) as f64
    }
}

#[test]
fn answers_what_the_knowledge_base_covers_and_declines_the_rest() {
    let s = sample();
    let text = std::fs::read_to_string(repo().join("tests/fixtures/answerability.jsonl")).unwrap();
    let (mut tune, mut held_out) = (Tally::default(), Tally::default());
    let mut micros = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Case = serde_json::from_str(line).unwrap();
        let lang = Lang::parse(&case.locale).unwrap();
        let request = SearchRequest {
            query: case.question.clone(),
            k: 20,
            mode: SearchMode::Hybrid,
            filters: Filters::default(),
        };
        let (evidence, _) = s.app.retriever.evidence(&s.snapshot, &request).unwrap();
        let started = std::time::Instant::now();
        let composed =
            compose(&case.question, &[], lang, &evidence, None, &Thresholds::default(), s.app.analysis.synonyms());
        micros.push(started.elapsed().as_micros());

        let tally = if case.split == "tune" { &mut tune } else { &mut held_out };
        match (case.answerable, composed.answered) {
            (true, true) => {
                tally.answered_right += 1;
                let doc = &composed.citations[0].doc_id;
                if !case.relevant.contains(doc) {
                    tally.wrong_doc.push(format!("{}: {doc}", case.id));
                }
            }
            (false, true) => tally.answered_wrongly += 1,
            (true, false) => tally.missed += 1,
            (false, false) => tally.declined += 1,
        }
        if composed.answered {
            assert!(!composed.citations.is_empty() && composed.citations.len() <= 3, "{}", case.id);
            assert!(!composed.answer.contains(" | ") && !composed.answer.contains("**"), "{}", composed.answer);
        } else {
            assert!(composed.citations.is_empty(), "{}", case.id);
        }
    }
    micros.sort_unstable();
    let p95 = micros[micros.len() * 95 / 100];
    eprintln!("tune: {tune:?} precision {:.3} recall {:.3}", tune.precision(), tune.recall());
    eprintln!("held out: {held_out:?} precision {:.3} recall {:.3}", held_out.precision(), held_out.recall());
    eprintln!("compose p50 {} us, p95 {p95} us", micros[micros.len() / 2]);
    assert!(held_out.precision() >= 0.9, "{held_out:?}");
    assert!(held_out.recall() >= 0.85, "{held_out:?}");
    assert!(held_out.wrong_doc.len() <= 1, "{held_out:?}");
}
