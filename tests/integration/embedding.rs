//! The candle embedder against reference vectors computed by sentence-transformers.

use clerk::infer::bert::BertEmbedder;
use clerk::ports::{EmbedKind, Embedder};

#[derive(serde::Deserialize)]
struct Reference {
    model: String,
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

#[test]
fn minilm_matches_sentence_transformers() {
    let path = crate::common::repo().join("tests/fixtures/minilm-reference.json");
    let reference: Reference = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let dir = crate::common::models_dir().join("all-MiniLM-L6-v2");
    let model = BertEmbedder::load(&dir, None).unwrap();
    assert_eq!(model.dims(), 384);
    assert_eq!(model.languages(), &[clerk::domain::Lang::En], "{}", reference.model);
    let ours = model.embed(&reference.texts, EmbedKind::Passage).unwrap();
    for ((text, expected), got) in reference.texts.iter().zip(&reference.vectors).zip(&ours) {
        let cosine: f32 = expected.iter().zip(got).map(|(a, b)| a * b).sum::<f32>()
            / (expected.iter().map(|a| a * a).sum::<f32>().sqrt() * got.iter().map(|b| b * b).sum::<f32>().sqrt());
        assert!(cosine >= 0.999, "cosine {cosine} for {text:?}");
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
    // Batched and single embedding agree (padding must not leak into the pooled vector).
    let single = model.embed(&reference.texts[..1], EmbedKind::Passage).unwrap();
    let d: f32 = single[0].iter().zip(&ours[0]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(d < 1e-4, "batch vs single differ by {d}");
}

#[test]
fn a_directory_that_is_not_a_model_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();
    let err = BertEmbedder::load(dir.path(), None).err().expect("not a model");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}
