//! `clerk ingest` through the real binary: counts, incremental runs, bad documents, and an
//! ingest killed midway.

use crate::common::{Workspace, figure};
use std::time::{Duration, Instant};

fn search_json(ws: &Workspace, query: &str, mode: &str) -> serde_json::Value {
    let out = ws.ok(&["search", query, "--json", "--k", "5", "--mode", mode]);
    serde_json::from_str(&out).unwrap()
}

fn doc_ids(result: &serde_json::Value) -> Vec<String> {
    result["hits"].as_array().unwrap().iter().map(|h| h["doc_id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn ingest_counts_then_embeds_only_what_changed() {
    let ws = Workspace::with_fixture_kb();
    let first = ws.ok(&["ingest"]);
    assert_eq!(figure(&first, "ingested"), 3, "{first}");
    let chunks = figure(&first, "chunks");
    assert!(chunks >= 8, "code rows, FAQ entries and manual sections each make chunks: {first}");
    assert_eq!(figure(&first, "embedded"), chunks, "{first}");
    assert_eq!(figure(&first, "added"), 3);

    let second = ws.ok(&["ingest"]);
    assert_eq!(figure(&second, "embedded"), 0, "{second}");
    assert_eq!(figure(&second, "unchanged"), 3, "{second}");

    // Editing one section of the manual re-embeds that section only.
    let manual = ws.knowledge().join("manuals/fan.en.md");
    let text = std::fs::read_to_string(&manual).unwrap();
    std::fs::write(&manual, text.replace("with a damp cloth", "with a soft damp cloth")).unwrap();
    let third = ws.ok(&["ingest"]);
    assert_eq!(figure(&third, "changed"), 1, "{third}");
    assert_eq!(figure(&third, "embedded"), 1, "{third}");
    assert_eq!(figure(&third, "generation"), 2, "{third}");

    // Deleting a file removes it from both indexes.
    assert!(doc_ids(&search_json(&ws, "定时关机", "bm25")).contains(&"fan-faq-zh".to_string()));
    std::fs::remove_file(ws.knowledge().join("faq/fan.zh.md")).unwrap();
    let fourth = ws.ok(&["ingest"]);
    assert_eq!(figure(&fourth, "removed"), 1, "{fourth}");
    assert_eq!(figure(&fourth, "ingested"), 2, "{fourth}");
    for mode in ["bm25", "dense", "hybrid"] {
        let ids = doc_ids(&search_json(&ws, "风扇可以定时关机吗", mode));
        assert!(!ids.contains(&"fan-faq-zh".to_string()), "{mode}: {ids:?}");
    }
}

#[test]
fn bad_documents_are_reported_and_skipped() {
    let ws = Workspace::with_fixture_kb();
    std::fs::write(ws.knowledge().join("faq/no-front-matter.md"), "# Just text\nno metadata\n").unwrap();
    std::fs::write(ws.knowledge().join("faq/bad-type.md"), "---\nid: x\ntitle: X\ntype: novel\nlang: en\n---\ntext\n")
        .unwrap();
    std::fs::write(
        ws.knowledge().join("manuals/zz-dup.md"),
        "---\nid: fan-manual-en\ntitle: Copy\ntype: faq\nlang: en\n---\n## Q?\nA.\n",
    )
    .unwrap();
    std::fs::write(ws.knowledge().join("faq/binary.md"), [0xff, 0xfe, 0x00, 0x81]).unwrap();
    std::fs::write(ws.knowledge().join("faq/empty.md"), "").unwrap();
    let out = ws.run(&["ingest"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(figure(&stdout, "skipped"), 5, "{stdout}");
    assert_eq!(figure(&stdout, "ingested"), 3, "the good documents are all indexed: {stdout}");
    assert!(stderr.contains("no-front-matter.md") && stderr.contains("front matter"), "{stderr}");
    assert!(stderr.contains("bad-type.md") && stderr.contains("novel"), "{stderr}");
    assert!(stderr.contains("duplicate id"), "{stderr}");
    assert!(stderr.contains("binary.md") && stderr.contains("UTF-8"), "{stderr}");
}

#[test]
fn missing_knowledge_dir_is_a_clear_error() {
    let ws = Workspace::with_fixture_kb();
    let out = ws.run(&["ingest", "does-not-exist"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    let out = ws.run(&["search", "anything"]);
    assert!(!out.status.success(), "searching before any ingest fails");
    assert!(String::from_utf8_lossy(&out.stderr).contains("clerk ingest"));
}

#[test]
fn killed_ingest_leaves_the_previous_generation_serving() {
    let ws = Workspace::with_fixture_kb();
    ws.ok(&["ingest"]);
    // Enough new text that embedding takes seconds, so the kill lands mid-run.
    let bulk = ws.knowledge().join("bulk");
    std::fs::create_dir_all(&bulk).unwrap();
    for i in 0..120 {
        let body: String = (0..6)
            .map(|p| {
                format!(
                    "## Part {p}\nParagraph {p} of bulk note {i} about widget maintenance, number {}.\n\n",
                    i * 31 + p
                )
            })
            .collect();
        std::fs::write(
            bulk.join(format!("note-{i}.md")),
            format!("---\nid: bulk-{i}\ntitle: Bulk {i}\ntype: faq\nlang: en\n---\n{body}"),
        )
        .unwrap();
    }
    let mut child = ws.command(&["ingest"]).spawn().unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "ingest finished too early for the test to mean anything");
    child.kill().unwrap(); // SIGKILL: no clean-up runs
    child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(60));

    let result = search_json(&ws, "E-12 oscillation", "hybrid");
    let ids = doc_ids(&result);
    assert_eq!(ids.first().map(String::as_str), Some("fan-faults-en"), "old generation still serves: {result}");
    assert!(!ids.iter().any(|d| d.starts_with("bulk-")));
    let current = std::fs::read_to_string(ws.data().join("index/CURRENT")).unwrap();
    assert_eq!(current.trim(), "1");

    // The next run completes and publishes past the abandoned directory.
    let rerun = ws.ok(&["ingest"]);
    assert_eq!(figure(&rerun, "ingested"), 123, "{rerun}");
    assert!(figure(&rerun, "generation") >= 2);
}
