//! How a run reads: the terminal table and the Markdown report an editor acts on.

use super::run::EvalReport;
use super::turns::TurnFigures;
use std::fmt::Write as _;

fn pct(value: f64) -> String {
    format!("{:.1}", value * 100.0)
}

fn question_row(name: &str, f: &TurnFigures, hybrid_ndcg: Option<f64>) -> [String; 11] {
    let turns = f.turns > 0;
    let or_dash = |present: bool, value: String| if present { value } else { "-".to_string() };
    [
        name.to_string(),
        f.cases.to_string(),
        or_dash(f.intents.intent_cases > 0, pct(f.intents.intent_accuracy)),
        or_dash(f.intents.slot_expected > 0, pct(f.intents.slot_accuracy)),
        or_dash(f.answer_cases > 0, pct(f.answer_correctness)),
        or_dash(f.citation_cases > 0, pct(f.citation_correctness)),
        or_dash(f.answerable_cases > 0, pct(f.self_resolution)),
        or_dash(
            turns && f.handoff_expected + f.handoff_predicted > 0,
            format!("{}/{}", pct(f.handoff_precision), pct(f.handoff_recall)),
        ),
        or_dash(f.out_of_scope_cases > 0, format!("{}/{}", f.out_of_scope_answered, f.out_of_scope_cases)),
        hybrid_ndcg.map_or_else(|| "-".to_string(), |v| format!("{v:.3}")),
        or_dash(turns, format!("{:.1}", f.latency.get("total").map_or(0.0, |l| l[1]))),
    ]
}

const QUESTION_HEADER: [&str; 11] = [
    "suite",
    "cases",
    "intent%",
    "slots%",
    "answer%",
    "cite%",
    "self-res%",
    "handoff P/R",
    "OOS ans",
    "nDCG@10",
    "p95 ms",
];

fn hybrid_ndcg(modes: &[super::beir::ModeFigures]) -> Option<f64> {
    modes.iter().find(|m| m.mode == "hybrid").map(|m| m.ndcg_10)
}

fn question_rows(report: &EvalReport) -> Vec<[String; 11]> {
    let mut rows = Vec::new();
    let suites = report.questions.iter().chain(report.all.iter().filter(|_| report.questions.len() > 1));
    for suite in suites {
        rows.push(question_row(&suite.suite, &suite.all, hybrid_ndcg(&suite.retrieval)));
        for (lang, f) in &suite.by_lang {
            let ndcg = suite.retrieval_by_lang.get(lang).and_then(|m| hybrid_ndcg(m));
            rows.push(question_row(&format!("  {lang}"), f, ndcg));
        }
    }
    rows
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| if i == 0 { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let _ = writeln!(out, "{}", line(header.iter().map(|h| h.to_string()).collect()));
    for row in rows {
        let _ = writeln!(out, "{}", line(row.clone()));
    }
    out
}

/// The summary printed on the terminal.
pub fn terminal(report: &EvalReport) -> String {
    let mut out = String::new();
    let rows = question_rows(report);
    if !rows.is_empty() {
        out.push_str(&table(&QUESTION_HEADER, &rows.into_iter().map(Vec::from).collect::<Vec<_>>()));
        out.push('\n');
    }
    let retrieval: Vec<Vec<String>> = report
        .retrieval
        .iter()
        .flat_map(|suite| {
            suite.modes.iter().map(move |m| {
                vec![
                    suite.suite.clone(),
                    m.mode.to_string(),
                    m.queries.to_string(),
                    format!("{:.4}", m.ndcg_10),
                    format!("{:.4}", m.recall_1),
                    format!("{:.4}", m.recall_10),
                    format!("{:.4}", m.recall_100),
                    format!("{:.4}", m.mrr_10),
                    format!("{:.2}", m.latency_p50_ms),
                ]
            })
        })
        .collect();
    if !retrieval.is_empty() {
        let header = ["retrieval suite", "mode", "queries", "nDCG@10", "R@1", "R@10", "R@100", "MRR@10", "p50 ms"];
        out.push_str(&table(&header, &retrieval));
        out.push('\n');
    }
    for r in &report.intents {
        let _ = writeln!(
            out,
            "{}: intent accuracy {:.4}, macro-F1 {:.4} ({} cases)\n",
            r.suite, r.intent_accuracy, r.macro_f1, r.intent_cases
        );
    }
    if let Some(all) = &report.all
        && all.all.turns > 0
    {
        let stages: Vec<String> = all
            .all
            .latency
            .iter()
            .map(|(stage, [p50, p95, p99])| format!("{stage} {p50:.2}/{p95:.2}/{p99:.2}"))
            .collect();
        let _ = writeln!(out, "latency ms p50/p95/p99: {}\n", stages.join(", "));
    }
    let _ = writeln!(out, "{} failed case(s)", report.failed_cases.len());
    for skipped in &report.skipped {
        let _ = writeln!(out, "skipped {skipped}");
    }
    let unmet: Vec<String> = report
        .gates
        .iter()
        .filter_map(|g| {
            let (value, target) = (g.value?, g.gate.target?);
            (!g.gate.target_met(value)).then(|| format!("{} {value:.4} (target {target})", g.figure))
        })
        .collect();
    if !unmet.is_empty() {
        let _ = writeln!(out, "targets not yet met: {}", unmet.join(", "));
    }
    if !report.gates.is_empty() {
        let failures = report.gate_failures();
        if failures.is_empty() {
            let _ = writeln!(out, "gates: all {} held", report.gates.len());
        } else {
            let _ = writeln!(out, "gates: {} of {} FAILED", failures.len(), report.gates.len());
            for g in failures {
                let _ = writeln!(out, "  FAILED {}", g.failure.as_deref().unwrap_or_default());
            }
        }
    }
    out
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown report: figures, gates, then every failed case with what was expected and
/// what came back.
pub fn markdown(report: &EvalReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Eval report\n");
    let _ = writeln!(out, "Embedder `{}`; clock {}.\n", report.embedder, report.now.format("%Y-%m-%d %H:%M UTC"));
    if !report.gates.is_empty() {
        let _ = writeln!(out, "## Gates\n\n| figure | value | gate | target | verdict |\n|---|---|---|---|---|");
        for g in &report.gates {
            let bound = match (g.gate.min, g.gate.max) {
                (Some(min), _) => format!("≥ {min}"),
                (_, Some(max)) => format!("≤ {max}"),
                _ => String::new(),
            };
            let against = g.gate.baseline.map(|b| format!(" baseline {b} ± {}", g.gate.tolerance)).unwrap_or_default();
            let value = g.value.map_or_else(|| "missing".to_string(), |v| format!("{v:.4}"));
            let verdict = g.failure.as_deref().map_or_else(|| "held".to_string(), |f| format!("**FAILED**: {f}"));
            let target = match (g.gate.target, g.value) {
                (Some(t), Some(v)) if g.gate.target_met(v) => format!("{t} (met)"),
                (Some(t), _) => format!("{t} (not yet)"),
                (None, _) => String::new(),
            };
            let _ =
                writeln!(out, "| `{}` | {value} | {bound}{against} | {target} | {} |", g.figure, md_escape(&verdict));
        }
        out.push('\n');
    }
    let rows = question_rows(report);
    if !rows.is_empty() {
        let _ = writeln!(out, "## Question suites\n\n| {} |\n|{}", QUESTION_HEADER.join(" | "), "---|".repeat(11));
        for row in rows {
            let _ = writeln!(out, "| {} |", row.iter().map(|c| md_escape(c.trim())).collect::<Vec<_>>().join(" | "));
        }
        out.push('\n');
    }
    for suite in &report.questions {
        if suite.retrieval.is_empty() {
            continue;
        }
        let _ = writeln!(out, "Retrieval on `{}` ({} judged questions):\n", suite.suite, suite.retrieval[0].queries);
        let _ = writeln!(out, "| mode | nDCG@10 | R@1 | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|---|");
        for m in &suite.retrieval {
            let _ = writeln!(
                out,
                "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
                m.mode, m.ndcg_10, m.recall_1, m.recall_5, m.recall_10, m.mrr_10
            );
        }
        out.push('\n');
    }
    if !report.retrieval.is_empty() {
        let _ = writeln!(
            out,
            "## Public retrieval suites\n\n| suite | mode | nDCG@10 | R@1 | R@10 | R@100 | MRR@10 |\n|---|---|---|---|---|---|---|"
        );
        for suite in &report.retrieval {
            for m in &suite.modes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
                    suite.suite, m.mode, m.ndcg_10, m.recall_1, m.recall_10, m.recall_100, m.mrr_10
                );
            }
        }
        out.push('\n');
    }
    for r in &report.intents {
        let _ = writeln!(
            out,
            "## {}\n\nIntent accuracy {:.4}, macro-F1 {:.4} over {} cases.\n",
            r.suite, r.intent_accuracy, r.macro_f1, r.intent_cases
        );
        if !r.confusion.is_empty() {
            let _ = writeln!(out, "| expected | got | count |\n|---|---|---|");
            for c in r.confusion.iter().take(15) {
                let _ = writeln!(out, "| {} | {} | {} |", c.expected, c.predicted, c.count);
            }
            out.push('\n');
        }
    }
    if let Some(all) = &report.all
        && !all.all.intents.confusion.is_empty()
    {
        let _ = writeln!(out, "## Intent confusions (question suites)\n\n| expected | got | count |\n|---|---|---|");
        for c in &all.all.intents.confusion {
            let _ = writeln!(out, "| {} | {} | {} |", c.expected, c.predicted, c.count);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Failed cases ({})\n", report.failed_cases.len());
    if !report.failed_cases.is_empty() {
        let _ = writeln!(out, "| suite | id | question | expected | came back | problems |\n|---|---|---|---|---|---|");
        for f in &report.failed_cases {
            let answer: String = f.answer.chars().take(240).collect();
            let came_back = format!(
                "intent {} ({:.2}); {}{}{}: {}",
                f.intent,
                f.confidence,
                if f.answered { "answered" } else { "not answered" },
                f.handoff.as_ref().map(|h| format!(", handoff {h}")).unwrap_or_default(),
                if f.cited.is_empty() { String::new() } else { format!(", cited {}", f.cited.join(", ")) },
                answer
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                f.suite,
                f.id,
                md_escape(&f.question),
                md_escape(&f.expected),
                md_escape(&came_back),
                md_escape(&f.problems.join("; "))
            );
        }
    }
    out
}
