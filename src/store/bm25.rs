//! BM25 scored term-at-a-time over tantivy's postings and field norms. Tantivy fixes
//! k1 = 1.2 and b = 0.75; short manual sections and Chinese passages want other values, so
//! the scoring is ours while the index, analysis and statistics stay tantivy's.

use crate::ports::Bm25Params;
use tantivy::postings::Postings;
use tantivy::query::{Bm25StatisticsProvider, EnableScoring, Query};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Searcher, TERMINATED, Term};

/// The k best documents for the query terms (repeats count as query term frequency), among
/// those `filter` matches when given. Ties keep index order, so results are stable.
pub fn top_k(
    searcher: &Searcher,
    field: Field,
    terms: &[String],
    params: Bm25Params,
    filter: Option<&dyn Query>,
    k: usize,
) -> tantivy::Result<Vec<(f32, DocAddress)>> {
    let mut weighted: Vec<(Term, f32)> = Vec::new();
    for text in terms {
        let term = Term::from_field_text(field, text);
        match weighted.iter_mut().find(|(t, _)| *t == term) {
            Some((_, count)) => *count += 1.0,
            None => weighted.push((term, 1.0)),
        }
    }
    let docs = searcher.total_num_docs()? as f32;
    let average_length = (searcher.total_num_tokens(field)? as f32 / docs.max(1.0)).max(1.0);
    let mut idf = Vec::with_capacity(weighted.len());
    for (term, _) in &weighted {
        let df = searcher.doc_freq(term)? as f32;
        idf.push((1.0 + (docs - df + 0.5) / (df + 0.5)).ln());
    }
    let filter_weight = match filter {
        Some(q) => Some(q.weight(EnableScoring::disabled_from_searcher(searcher))?),
        None => None,
    };

    let mut best: Vec<(f32, DocAddress)> = Vec::new();
    for (segment_ord, reader) in searcher.segment_readers().iter().enumerate() {
        let max_doc = reader.max_doc() as usize;
        let mut scores = vec![0.0f32; max_doc];
        let inverted = reader.inverted_index(field)?;
        let norms = reader.get_fieldnorms_reader(field)?;
        for ((term, query_tf), idf) in weighted.iter().zip(&idf) {
            let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::WithFreqs)? else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                let tf = postings.term_freq() as f32;
                let length = norms.fieldnorm(doc) as f32;
                let norm = params.k1 * (1.0 - params.b + params.b * length / average_length);
                scores[doc as usize] += query_tf * idf * tf * (params.k1 + 1.0) / (tf + norm);
                doc = postings.advance();
            }
        }
        let mut admitted = vec![filter_weight.is_none(); max_doc];
        if let Some(weight) = &filter_weight {
            weight.for_each_no_score(reader, &mut |docs: &[DocId]| {
                for &d in docs {
                    admitted[d as usize] = true;
                }
            })?;
        }
        let alive = reader.alive_bitset();
        for (doc, &score) in scores.iter().enumerate() {
            let doc = doc as DocId;
            if score > 0.0 && admitted[doc as usize] && alive.is_none_or(|a| a.is_alive(doc)) {
                best.push((score, DocAddress::new(segment_ord as u32, doc)));
            }
        }
    }
    best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    best.truncate(k);
    Ok(best)
}
