//! The tantivy full-text index of one generation: BM25 over title, section and text with
//! the bilingual analyzer, an exact `code` field for fault codes and SKUs, and raw fields
//! for the metadata filters.

use super::analysis::{Analysis, terms};
use super::bm25;
use crate::domain::{Chunk, Filters};
use crate::ports::{Bm25Params, Scored, StoreError, TextIndex};
use crate::text::{find_skus, normalize_sku};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

const TOKENIZER: &str = "clerk";

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::TextIndex(e.to_string())
}

#[derive(Clone, Copy)]
struct Fields {
    ordinal: Field,
    body: Field,
    code: Field,
    doc_type: Field,
    lang: Field,
    product: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let body_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(TOKENIZER).set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        ordinal: b.add_u64_field("ordinal", tantivy::schema::FAST | INDEXED),
        body: b.add_text_field("body", body_options),
        code: b.add_text_field("code", STRING),
        doc_type: b.add_text_field("doc_type", STRING),
        lang: b.add_text_field("lang", STRING),
        product: b.add_text_field("product", STRING),
    };
    (b.build(), fields)
}

/// Exact terms a chunk is found by: its row code and the catalogue SKUs it names (an
/// SKU-shaped word such as "IL-6" in a corpus without such products stays plain text).
fn exact_terms(chunk: &Chunk, known_skus: &HashSet<String>) -> Vec<String> {
    let mut terms: Vec<String> = chunk.code.iter().cloned().collect();
    terms.extend(find_skus(&chunk.text).into_iter().filter(|s| known_skus.contains(s)));
    terms
}

/// Writes a fresh index for a generation: one writer, one commit.
pub fn build(dir: &Path, analysis: &Arc<Analysis>, chunks: &[Chunk]) -> Result<(), StoreError> {
    let (schema, f) = schema();
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let index = Index::create_in_dir(dir, schema).map_err(err)?;
    index.tokenizers().register(TOKENIZER, analysis.analyzer());
    let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 64_000_000).map_err(err)?;
    let known_skus: HashSet<String> = chunks.iter().flat_map(|c| c.products.iter().map(|p| normalize_sku(p))).collect();
    for (ordinal, chunk) in chunks.iter().enumerate() {
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.ordinal, ordinal as u64);
        doc.add_text(f.body, format!("{}\n{}\n{}", chunk.title, chunk.section, chunk.text));
        for term in exact_terms(chunk, &known_skus) {
            doc.add_text(f.code, term);
        }
        doc.add_text(f.doc_type, chunk.doc_type.as_str());
        doc.add_text(f.lang, chunk.lang.as_str());
        for product in &chunk.products {
            doc.add_text(f.product, normalize_sku(product));
        }
        writer.add_document(doc).map_err(err)?;
    }
    writer.commit().map_err(err)?;
    writer.wait_merging_threads().map_err(err)?;
    Ok(())
}

/// A generation's text index opened for search.
pub struct TantivyTextIndex {
    reader: IndexReader,
    fields: Fields,
    /// Query analysis needs a mutable analyzer; queries are short, so a lock is cheap.
    analyzer: Mutex<TextAnalyzer>,
}

impl TantivyTextIndex {
    pub fn open(dir: &Path, analysis: &Arc<Analysis>) -> Result<Self, StoreError> {
        let index = Index::open_in_dir(dir).map_err(err)?;
        index.tokenizers().register(TOKENIZER, analysis.analyzer());
        let (_, fields) = schema();
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        Ok(Self { reader, fields, analyzer: Mutex::new(analysis.analyzer()) })
    }

    fn filter_clauses(&self, filters: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut must = |field: Field, value: &str| {
            let term = Term::from_field_text(field, value);
            out.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
        };
        if let Some(t) = filters.doc_type {
            must(self.fields.doc_type, t.as_str());
        }
        if let Some(l) = filters.lang {
            must(self.fields.lang, l.as_str());
        }
        if let Some(p) = &filters.product {
            must(self.fields.product, &normalize_sku(p));
        }
        out
    }

    fn collect(&self, query: &dyn Query, k: usize) -> Result<Vec<Scored>, StoreError> {
        let searcher = self.reader.searcher();
        let top: Vec<(f32, DocAddress)> =
            searcher.search(query, &TopDocs::with_limit(k.max(1)).order_by_score()).map_err(err)?;
        self.ordinals(&searcher, top)
    }

    fn ordinals(&self, searcher: &Searcher, top: Vec<(f32, DocAddress)>) -> Result<Vec<Scored>, StoreError> {
        let mut out = Vec::with_capacity(top.len());
        for (score, address) in top {
            let column = searcher.segment_reader(address.segment_ord).fast_fields().u64("ordinal").map_err(err)?;
            let ordinal =
                column.first(address.doc_id).ok_or_else(|| StoreError::Corrupt("document without ordinal".into()))?;
            out.push(Scored { ordinal: ordinal as u32, score });
        }
        Ok(out)
    }
}

impl TextIndex for TantivyTextIndex {
    fn search(&self, query: &str, k: usize, filters: &Filters, params: Bm25Params) -> Result<Vec<Scored>, StoreError> {
        let query_terms = {
            let mut analyzer = self.analyzer.lock().map_err(|_| err("analyzer lock poisoned"))?;
            terms(&mut analyzer, query)
        };
        if query_terms.is_empty() {
            return Ok(Vec::new());
        }
        let clauses = self.filter_clauses(filters);
        let filter = (!clauses.is_empty()).then(|| BooleanQuery::new(clauses));
        let searcher = self.reader.searcher();
        let top =
            bm25::top_k(&searcher, self.fields.body, &query_terms, params, filter.as_ref().map(|q| q as &dyn Query), k)
                .map_err(err)?;
        self.ordinals(&searcher, top)
    }

    fn exact_codes(&self, codes: &[String], filters: &Filters) -> Result<Vec<u32>, StoreError> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let should: Vec<(Occur, Box<dyn Query>)> = codes
            .iter()
            .map(|c| {
                let term = Term::from_field_text(self.fields.code, c);
                (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::Basic)) as Box<dyn Query>)
            })
            .collect();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        clauses.extend(self.filter_clauses(filters));
        Ok(self.collect(&BooleanQuery::new(clauses), 200)?.into_iter().map(|s| s.ordinal).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DocType, Lang};
    use crate::text::query_codes;

    fn chunk(doc: &str, lang: Lang, text: &str, code: Option<&str>) -> Chunk {
        Chunk {
            id: doc.into(),
            doc_id: doc.into(),
            doc_type: if code.is_some() { DocType::FaultCodes } else { DocType::Manual },
            lang,
            products: vec!["HH-RV500".into()],
            title: "Robot vacuum".into(),
            section: String::new(),
            path: String::new(),
            text: text.into(),
            code: code.map(str::to_string),
        }
    }

    #[test]
    fn bm25_codes_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        let analysis = Arc::new(Analysis::with_synonyms("").unwrap());
        let chunks = vec![
            chunk("a", Lang::En, "Code: E21 | Meaning: LiDAR cover blocked", Some("E21")),
            chunk("b", Lang::En, "Code: E12 | Meaning: wheel stuck", Some("E12")),
            chunk("c", Lang::Zh, "更换滤芯的步骤, see HH-RV500", None),
        ];
        build(dir.path(), &analysis, &chunks).unwrap();
        let index = TantivyTextIndex::open(dir.path(), &analysis).unwrap();
        for spelling in ["E-21", "e21", "E21"] {
            assert_eq!(index.exact_codes(&query_codes(spelling), &Filters::default()).unwrap(), vec![0]);
        }
        assert_eq!(index.exact_codes(&query_codes("hh-rv500 manual"), &Filters::default()).unwrap(), vec![2]);
        let hits = index.search("wheel stuck", 10, &Filters::default(), Bm25Params::default()).unwrap();
        assert_eq!(hits[0].ordinal, 1);
        let hits = index.search("滤芯", 10, &Filters::default(), Bm25Params::default()).unwrap();
        assert_eq!(hits.len(), 1);
        let en_only = Filters { lang: Some(Lang::En), ..Default::default() };
        assert!(index.search("滤芯", 10, &en_only, Bm25Params::default()).unwrap().is_empty());
        assert!(index.search("?!", 10, &Filters::default(), Bm25Params::default()).unwrap().is_empty());
    }

    #[test]
    fn bm25_length_normalisation_follows_b_and_repeats_saturate_by_k1() {
        let dir = tempfile::tempdir().unwrap();
        let analysis = Arc::new(Analysis::with_synonyms("").unwrap());
        let filler = "lorem ipsum dolor sit amet ".repeat(8);
        let chunks = vec![
            chunk("long", Lang::En, &format!("filter filter {filler}"), None),
            chunk("short", Lang::En, "filter", None),
            chunk("other", Lang::En, "battery", None),
        ];
        build(dir.path(), &analysis, &chunks).unwrap();
        let index = TantivyTextIndex::open(dir.path(), &analysis).unwrap();
        let scores = |k1, b| {
            let hits = index.search("filter", 10, &Filters::default(), Bm25Params { k1, b }).unwrap();
            assert_eq!(hits.len(), 2, "only chunks holding the term");
            hits.iter().map(|h| (h.ordinal, h.score)).collect::<Vec<_>>()
        };
        // Full length normalisation: the short chunk wins despite fewer repeats.
        assert_eq!(scores(1.2, 1.0)[0].0, 1);
        // None: two repeats beat one.
        assert_eq!(scores(1.2, 0.0)[0].0, 0);
        // k1 = 0: repeats count for nothing, so both score the idf alone.
        let flat = scores(0.0, 0.0);
        assert!((flat[0].1 - flat[1].1).abs() < 1e-6, "{flat:?}");
    }
}
