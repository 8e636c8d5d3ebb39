//! Hybrid retrieval: BM25 and dense legs run concurrently and are fused by reciprocal rank
//! (score = sum of weight / (k + rank) over the legs, weights per leg and query language).
//! Chunks whose exact code field matches a code or SKU in the query come first. The
//! dense leg does not vote on text in a language the embedder does not declare.

use crate::config::RetrievalSettings;
use crate::domain::{Evidence, Filters, Hit, Lang, LegScore, SearchMode};
use crate::ports::{EmbedError, EmbedKind, Embedder, Scored, Snapshot, StoreError};
use crate::text::detect_lang;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum RetrieveError {
    #[error("the query is empty")]
    EmptyQuery,
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub k: usize,
    pub mode: SearchMode,
    pub filters: Filters,
}

/// What each leg contributed, for traces and evals.
#[derive(Debug, Clone, Default)]
pub struct LegTrace {
    pub lang: Option<Lang>,
    pub bm25: usize,
    pub dense: usize,
    pub dense_skipped: bool,
    pub exact: usize,
}

pub struct Retriever {
    embedder: Arc<dyn Embedder>,
    settings: RetrievalSettings,
}

impl Retriever {
    pub fn new(embedder: Arc<dyn Embedder>, settings: RetrievalSettings) -> Self {
        Self { embedder, settings }
    }

    /// Ranked hits in the shape of `/v1/search`.
    pub fn search(&self, snapshot: &Snapshot, req: &SearchRequest) -> Result<(Vec<Hit>, LegTrace), RetrieveError> {
        let (evidence, trace) = self.evidence(snapshot, req)?;
        Ok((evidence.iter().map(Evidence::hit).collect(), trace))
    }

    /// Ranked chunks with each leg's rank and score, for composing answers.
    pub fn evidence(
        &self,
        snapshot: &Snapshot,
        req: &SearchRequest,
    ) -> Result<(Vec<Evidence>, LegTrace), RetrieveError> {
        let query = req.query.trim();
        if query.is_empty() {
            return Err(RetrieveError::EmptyQuery);
        }
        let lang = detect_lang(query);
        let s = &self.settings;
        let (bm25_weight, dense_weight, bm25_params) = match lang {
            Lang::En => (s.bm25_weight_en, s.dense_weight_en, s.bm25_en),
            Lang::Zh => (s.bm25_weight_zh, s.dense_weight_zh, s.bm25_zh),
        };
        let depth = s.candidates.max(req.k);
        let run_bm25 = req.mode != SearchMode::Dense;
        // In hybrid mode an embedder that does not know the question's language is not asked.
        let run_dense = match req.mode {
            SearchMode::Bm25 => false,
            SearchMode::Dense => true,
            SearchMode::Hybrid => self.embedder.supports(lang) && dense_weight > 0.0,
        };
        let mut trace = LegTrace {
            lang: Some(lang),
            dense_skipped: req.mode == SearchMode::Hybrid && !run_dense,
            ..Default::default()
        };

        let (bm25, dense) = std::thread::scope(|scope| {
            let dense =
                run_dense.then(|| scope.spawn(|| self.dense_leg(snapshot, query, depth, &req.filters, req.mode)));
            let bm25 =
                if run_bm25 { snapshot.text.search(query, depth, &req.filters, bm25_params) } else { Ok(Vec::new()) };
            let dense = match dense {
                Some(handle) => handle.join().unwrap_or(Err(RetrieveError::Embed(EmbedError::WorkerGone))),
                None => Ok(Vec::new()),
            };
            (bm25, dense)
        });
        let (bm25, dense) = (bm25?, dense?);
        trace.bm25 = bm25.len();
        trace.dense = dense.len();

        let fused: Vec<Scored> = match req.mode {
            SearchMode::Bm25 => bm25.clone(),
            SearchMode::Dense => dense.clone(),
            SearchMode::Hybrid => fuse(&[(&bm25, bm25_weight), (&dense, dense_weight)], s.rrf_k),
        };
        let codes = crate::text::query_codes(query);
        let exact: HashSet<u32> = snapshot.text.exact_codes(&codes, &req.filters)?.into_iter().collect();
        trace.exact = exact.len();
        let product_of = |ordinal: u32| snapshot.chunks.get(ordinal as usize).and_then(|c| c.products.first().cloned());
        let ranked = exact_first(fused, &exact, &bm25, &product_of);
        let leg = |hits: &[Scored]| -> HashMap<u32, LegScore> {
            hits.iter().enumerate().map(|(i, s)| (s.ordinal, LegScore { rank: i as u32 + 1, score: s.score })).collect()
        };
        let (bm25_of, dense_of) = (leg(&bm25), leg(&dense));
        let evidence = ranked
            .into_iter()
            .take(req.k)
            .filter_map(|s| {
                Some(Evidence {
                    chunk: snapshot.chunks.get(s.ordinal as usize)?.clone(),
                    score: s.score,
                    bm25: bm25_of.get(&s.ordinal).copied(),
                    dense: dense_of.get(&s.ordinal).copied(),
                    exact: exact.contains(&s.ordinal),
                })
            })
            .collect();
        Ok((evidence, trace))
    }

    fn dense_leg(
        &self,
        snapshot: &Snapshot,
        query: &str,
        depth: usize,
        filters: &Filters,
        mode: SearchMode,
    ) -> Result<Vec<Scored>, RetrieveError> {
        let vector = self.embedder.embed(&[query.to_string()], EmbedKind::Query)?.pop().unwrap_or_default();
        let chunks = &snapshot.chunks;
        let restrict_lang = mode == SearchMode::Hybrid;
        let admit = |ordinal: u32| {
            chunks
                .get(ordinal as usize)
                .is_some_and(|c| filters.admits(c) && (!restrict_lang || self.embedder.supports(c.lang)))
        };
        Ok(snapshot.vectors.search(&vector, depth, &admit))
    }
}

/// Two rankings taking turns, `a` first, each chunk once, at most `k` in all.
pub fn interleave(a: Vec<Evidence>, b: Vec<Evidence>, k: usize) -> Vec<Evidence> {
    let mut merged: Vec<Evidence> = Vec::with_capacity(k);
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    loop {
        let (x, y) = (a.next(), b.next());
        if x.is_none() && y.is_none() {
            return merged;
        }
        for e in [x, y].into_iter().flatten() {
            if merged.len() < k && !merged.iter().any(|m| m.chunk.id == e.chunk.id) {
                merged.push(e);
            }
        }
    }
}

/// Weighted reciprocal-rank fusion.
pub fn fuse(legs: &[(&[Scored], f32)], k: f32) -> Vec<Scored> {
    let mut scores: HashMap<u32, f32> = HashMap::new();
    for (hits, weight) in legs {
        if *weight <= 0.0 {
            continue;
        }
        for (rank, hit) in hits.iter().enumerate() {
            *scores.entry(hit.ordinal).or_default() += weight / (k + rank as f32 + 1.0);
        }
    }
    let mut fused: Vec<Scored> = scores.into_iter().map(|(ordinal, score)| Scored { ordinal, score }).collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.ordinal.cmp(&b.ordinal)));
    fused
}

/// Exact code/SKU matches first, then the rest in fused order. Rows sharing a code differ
/// in the words around it ("robot vacuum" vs "dishwasher"), which the BM25 leg weighs in
/// every language through synonyms, so the exact group is ordered by BM25, then fusion.
/// Rows of the same product stay together behind that product's best row: the question
/// names one appliance, and its row in the other language outranks other appliances.
fn exact_first(
    fused: Vec<Scored>,
    exact: &HashSet<u32>,
    bm25: &[Scored],
    product_of: &dyn Fn(u32) -> Option<String>,
) -> Vec<Scored> {
    if exact.is_empty() {
        return fused;
    }
    let top = fused.first().map_or(0.0, |s| s.score);
    let text_score: HashMap<u32, f32> = bm25.iter().map(|s| (s.ordinal, s.score)).collect();
    let ranked: HashSet<u32> = fused.iter().map(|s| s.ordinal).collect();
    let (mut first, rest): (Vec<Scored>, Vec<Scored>) = fused.into_iter().partition(|s| exact.contains(&s.ordinal));
    first.extend(exact.iter().filter(|o| !ranked.contains(o)).map(|&ordinal| Scored { ordinal, score: 0.0 }));
    let key = |s: &Scored| text_score.get(&s.ordinal).copied().unwrap_or(0.0);
    first.sort_by(|a, b| key(b).total_cmp(&key(a)).then(b.score.total_cmp(&a.score)).then(a.ordinal.cmp(&b.ordinal)));
    // A row of no product is a group of its own.
    let mut groups: Vec<Option<String>> = Vec::new();
    let group: Vec<usize> = first
        .iter()
        .map(|s| {
            let product = product_of(s.ordinal);
            match groups.iter().position(|g| g.is_some() && *g == product) {
                Some(i) => i,
                None => {
                    groups.push(product);
                    groups.len() - 1
                }
            }
        })
        .collect();
    let mut keyed: Vec<(usize, Scored)> = group.into_iter().zip(first).collect();
    keyed.sort_by_key(|(g, _)| *g); // stable: BM25 order within a product is kept
    let mut first: Vec<Scored> = keyed.into_iter().map(|(_, s)| s).collect();
    // Scores must agree with the order: exact matches sit above everything else, and each
    // one above the next.
    let n = first.len() as f32;
    for (i, s) in first.iter_mut().enumerate() {
        s.score = top + 1.0 + (n - i as f32) * 1e-3;
    }
    first.extend(rest);
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ordinal: u32) -> Scored {
        Scored { ordinal, score: 0.0 }
    }

    #[test]
    fn rrf_rewards_agreement_and_respects_weights() {
        let bm25 = [s(1), s(2), s(3)];
        let dense = [s(3), s(1), s(4)];
        let fused = fuse(&[(&bm25, 1.0), (&dense, 1.0)], 60.0);
        assert_eq!(fused.iter().map(|x| x.ordinal).collect::<Vec<_>>(), vec![1, 3, 2, 4]);
        let bm25_only = fuse(&[(&bm25, 1.0), (&dense, 0.0)], 60.0);
        assert_eq!(bm25_only.iter().map(|x| x.ordinal).collect::<Vec<_>>(), vec![1, 2, 3]);
    }

    #[test]
    fn interleaving_takes_turns_without_repeats() {
        let evidence = |ids: &[&str]| -> Vec<Evidence> {
            ids.iter()
                .map(|id| Evidence {
                    chunk: crate::domain::Chunk {
                        id: id.to_string(),
                        doc_id: id.to_string(),
                        doc_type: crate::domain::DocType::Faq,
                        lang: Lang::En,
                        products: Vec::new(),
                        title: String::new(),
                        section: String::new(),
                        path: String::new(),
                        text: String::new(),
                        code: None,
                    },
                    score: 0.0,
                    bm25: None,
                    dense: None,
                    exact: false,
                })
                .collect()
        };
        let merged = interleave(evidence(&["p1", "p2", "p3"]), evidence(&["p1", "r1", "r2", "r3"]), 5);
        let ids: Vec<&str> = merged.iter().map(|e| e.chunk.id.as_str()).collect();
        assert_eq!(ids, ["p1", "p2", "r1", "p3", "r2"]);
        assert_eq!(interleave(Vec::new(), evidence(&["r1"]), 5).len(), 1);
    }

    #[test]
    fn exact_matches_lead() {
        let fused = vec![Scored { ordinal: 1, score: 0.5 }, Scored { ordinal: 2, score: 0.4 }];
        let exact: HashSet<u32> = [2, 9].into_iter().collect();
        let no_product = |_: u32| None;
        let ranked = exact_first(fused.clone(), &exact, &[], &no_product);
        assert_eq!(ranked.iter().map(|x| x.ordinal).collect::<Vec<_>>(), vec![2, 9, 1]);
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
        // Among exact matches the text leg decides.
        let bm25 = [Scored { ordinal: 9, score: 3.0 }, Scored { ordinal: 2, score: 1.0 }];
        let ranked = exact_first(fused.clone(), &exact, &bm25, &no_product);
        assert_eq!(ranked.iter().map(|x| x.ordinal).collect::<Vec<_>>(), vec![9, 2, 1]);
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));

        // The vacuum's rows (5 in Chinese, 7 in English) stay together behind the best one,
        // above the purifier's row that outscored the English vacuum row on shared characters.
        let exact: HashSet<u32> = [5, 6, 7].into_iter().collect();
        let bm25 =
            [Scored { ordinal: 5, score: 9.0 }, Scored { ordinal: 6, score: 5.0 }, Scored { ordinal: 7, score: 4.0 }];
        let product = |o: u32| Some(if o == 6 { "HH-AP300" } else { "HH-RV500" }.to_string());
        let ranked = exact_first(fused, &exact, &bm25, &product);
        assert_eq!(ranked.iter().map(|x| x.ordinal).collect::<Vec<_>>()[..3], [5, 7, 6]);
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    }
}
