//! Ranking metrics over one query: the ranked document ids against graded judgements.

use std::collections::HashMap;

/// nDCG@k with graded gains (2^rel - 1) and log2 discounts, as trec_eval and BEIR compute it.
pub fn ndcg_at(ranked: &[String], judged: &HashMap<String, u32>, k: usize) -> f64 {
    let gain = |rel: u32| 2f64.powi(rel as i32) - 1.0;
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| judged.get(id).map_or(0.0, |&r| gain(r)) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u32> = judged.values().copied().filter(|&r| r > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, &r)| gain(r) / (i as f64 + 2.0).log2()).sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// Share of the relevant documents found in the top k.
pub fn recall_at(ranked: &[String], judged: &HashMap<String, u32>, k: usize) -> f64 {
    let relevant = judged.values().filter(|&&r| r > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked.iter().take(k).filter(|id| judged.get(*id).is_some_and(|&r| r > 0)).count();
    found as f64 / relevant as f64
}

/// Reciprocal rank of the first relevant document within the top k.
pub fn mrr_at(ranked: &[String], judged: &HashMap<String, u32>, k: usize) -> f64 {
    ranked.iter().take(k).position(|id| judged.get(id).is_some_and(|&r| r > 0)).map_or(0.0, |i| 1.0 / (i as f64 + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn perfect_and_partial_rankings() {
        let judged: HashMap<String, u32> = [("a".to_string(), 1), ("b".to_string(), 1)].into_iter().collect();
        assert!((ndcg_at(&ids(&["a", "b", "c"]), &judged, 10) - 1.0).abs() < 1e-9);
        // One relevant at rank 2, the other missing: DCG = 1/log2(3), IDCG = 1 + 1/log2(3).
        let expected = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((ndcg_at(&ids(&["c", "a"]), &judged, 10) - expected).abs() < 1e-9);
        assert_eq!(recall_at(&ids(&["c", "a"]), &judged, 10), 0.5);
        assert_eq!(mrr_at(&ids(&["c", "a"]), &judged, 10), 0.5);
        assert_eq!(mrr_at(&ids(&["c"]), &judged, 10), 0.0);
        assert_eq!(ndcg_at(&ids(&["a"]), &HashMap::new(), 10), 0.0);
    }
}
