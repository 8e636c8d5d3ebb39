//! Retrieval over the sample knowledge base in `knowledge/`, ingested once per test run.

use crate::common::{models_dir, repo};
use clerk::app::App;
use clerk::ask::retrieve::SearchRequest;
use clerk::config::{Overrides, Settings};
use clerk::domain::{DocType, Filters, Hit, Lang, SearchMode};
use clerk::ports::Snapshot;
use std::sync::OnceLock;

pub(crate) struct Sample {
    _dir: tempfile::TempDir,
    pub(crate) app: App,
    pub(crate) snapshot: Snapshot,
}

/// The sample knowledge base, ingested once per test run (other test modules share it).
pub(crate) fn sample() -> &'static Sample {
    static SAMPLE: OnceLock<Sample> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            config: Some(repo().join("tests/fixtures/empty.toml")),
            data_dir: Some(dir.path().join("data")),
            knowledge: Some(repo().join("knowledge")),
            ingest_dir: Some(repo().join("ingest")),
            models_dir: Some(models_dir()),
            ..Default::default()
        };
        let app = App::open(Settings::load(&overrides).unwrap()).unwrap();
        let report = app.ingest(None, false).unwrap();
        assert!(report.skipped.is_empty(), "the sample knowledge base is clean: {:?}", report.skipped);
        assert!(report.documents >= 40, "{report}");
        let snapshot = app.snapshot().unwrap();
        Sample { _dir: dir, app, snapshot }
    })
}

fn search(query: &str, k: usize, mode: SearchMode, filters: Filters) -> Vec<Hit> {
    let s = sample();
    let request = SearchRequest { query: query.into(), k, mode, filters };
    s.app.retriever.search(&s.snapshot, &request).unwrap().0
}

/// Every code in the fault-code tables, read straight from the Markdown: (file, code as written).
fn codes_in_guides() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(repo().join("knowledge/fault-codes")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            let first = cells.first().copied().unwrap_or("");
            let shaped = line.trim_start().starts_with('|')
                && first.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && first.chars().any(|c| c.is_ascii_digit())
                && first.len() <= 5;
            if shaped {
                out.push((path.file_name().unwrap().to_string_lossy().into_owned(), first.to_string()));
            }
        }
    }
    assert!(out.len() >= 120, "at least 60 codes in each language: {}", out.len());
    out
}

#[test]
fn every_fault_code_finds_its_row_first() {
    let mut failures = Vec::new();
    for (file, code) in codes_in_guides() {
        let hits = search(&code, 3, SearchMode::Hybrid, Filters::default());
        let first = hits.first();
        let ok = first.is_some_and(|h| h.path.contains("fault-codes/") && h.section.ends_with(&code));
        if !ok {
            failures.push(format!("{code} ({file}): got {:?}", first.map(|h| (&h.doc_id, &h.section))));
        }
    }
    assert!(failures.is_empty(), "{} codes not found first:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn code_spellings_meet_and_never_cross() {
    for spelling in ["E-21", "E21", "e21", "e-21"] {
        let hits = search(spelling, 1, SearchMode::Hybrid, Filters::default());
        assert!(hits[0].section.ends_with("E-21"), "{spelling}: {:?}", hits[0].section);
    }
    let hits = search("E12", 5, SearchMode::Hybrid, Filters::default());
    assert!(
        hits.iter()
            .take_while(|h| h.path.contains("fault-codes/"))
            .all(|h| !h.section.contains("E-21") && !h.section.ends_with("E21"))
    );
}

#[test]
fn appliance_words_pick_the_right_appliance_for_a_shared_code() {
    for (query, vacuum_guide) in [
        ("扫地机器人 E04", "rv500-faults-zh"),
        ("robot vacuum E04", "rv500-faults-en"),
        ("SweepBot E04 error", "rv500-faults-en"),
    ] {
        let hits = search(query, 10, SearchMode::Hybrid, Filters::default());
        let e04: Vec<&Hit> = hits.iter().filter(|h| h.section.ends_with("E04")).collect();
        assert!(e04.len() >= 3, "{query}: E04 rows of several appliances expected, got {}", e04.len());
        // The vacuum's row in the question's language comes first, and its row in the other
        // language next: both above every other appliance's E04.
        let order: Vec<&str> = e04.iter().map(|h| h.doc_id.as_str()).collect();
        assert_eq!(order[0], vacuum_guide, "{query}: {order:?}");
        assert!(order[1].starts_with("rv500-faults-"), "{query}: {order:?}");
        assert!(order[2..].iter().all(|d| !d.starts_with("rv500-")), "{query}: {order:?}");
        assert_eq!(hits[0].doc_id, vacuum_guide);
    }
}

#[test]
fn questions_find_their_passages_in_both_languages() {
    let cases = [
        ("how many days do I have to return shoes without a reason", "returns-policy-en"),
        ("七天无理由退货 拆封了还能退吗", "returns"),
        ("how do I connect the purifier to wifi", "ap300-"),
        ("洗碗机怎么加软水盐", "dw600-"),
        ("when do my points expire", "membership"),
        ("满减和店铺券可以叠加吗", "promotions"),
    ];
    for (query, doc_prefix) in cases {
        let hits = search(query, 5, SearchMode::Hybrid, Filters::default());
        assert!(
            hits.iter().any(|h| h.doc_id.contains(doc_prefix)),
            "{query}: {:?}",
            hits.iter().map(|h| &h.doc_id).collect::<Vec<_>>()
        );
    }
}

#[test]
fn filters_restrict_every_mode() {
    let zh_policies = Filters { doc_type: Some(DocType::Policy), lang: Some(Lang::Zh), product: None };
    for mode in [SearchMode::Bm25, SearchMode::Dense, SearchMode::Hybrid] {
        let hits = search("refund time", 10, mode, zh_policies.clone());
        assert!(!hits.is_empty(), "{mode:?}");
        assert!(hits.iter().all(|h| h.doc_id.ends_with("-zh") && h.doc_id.contains("policy")), "{mode:?}");
    }
    let kettle = Filters { product: Some("HH-KT100".into()), ..Default::default() };
    let hits = search("descaling", 10, SearchMode::Hybrid, kettle);
    assert!(hits.iter().any(|h| h.doc_id.starts_with("kt100-")));
    let other_appliances = ["rv500-", "dw600-", "ap300-"];
    assert!(
        hits.iter().all(|h| !other_appliances.iter().any(|p| h.doc_id.starts_with(p))),
        "{:?}",
        hits.iter().map(|h| &h.doc_id).collect::<Vec<_>>()
    );
}

#[test]
fn english_only_model_does_not_vote_on_chinese() {
    let s = sample();
    let request =
        SearchRequest {
            query: "滤芯多久换一次".into(), k: 5, mode: SearchMode::Hybrid, filters: Filters::default()
        };
    let (hits, trace) = s.app.retriever.search(&s.snapshot, &request).unwrap();
    assert!(trace.dense_skipped, "all-MiniLM-L6-v2 declares English only");
    assert!(!hits.is_empty());
    let request = SearchRequest { query: "how often should I replace the filter".into(), ..request };
    let (_, trace) = s.app.retriever.search(&s.snapshot, &request).unwrap();
    assert!(!trace.dense_skipped && trace.dense > 0);
}

#[test]
fn search_json_is_the_contract_shape() {
    let ws = crate::common::Workspace::with_fixture_kb();
    ws.ok(&["ingest"]);
    let out = ws.ok(&["search", "motor stalled", "--json", "--k", "2"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["took_ms"].as_f64().is_some());
    let hit = &v["hits"][0];
    for field in ["chunk_id", "doc_id", "title", "section", "path", "text"] {
        assert!(hit[field].is_string(), "{field} in {hit}");
    }
    assert!(hit["score"].is_number());
    assert_eq!(hit["path"], "knowledge/fault-codes/fan.en.md");
    let bad = ws.run(&["search", "x", "--mode", "fuzzy"]);
    assert!(!bad.status.success());
}
