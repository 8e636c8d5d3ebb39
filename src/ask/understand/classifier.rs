//! Multinomial logistic regression over sparse hashed features, trained by SGD, with a
//! temperature fitted on cross-validation folds. A message whose features were never seen
//! in training (gibberish, another language) is pulled toward the uniform distribution in
//! proportion to its unseen feature mass, so its confidence is low.

use std::collections::HashMap;

pub const CLASSES: usize = crate::domain::turn::Intent::ALL.len();
/// Classes padded to a vector-friendly width; the pad lanes stay at zero.
const LANES: usize = 16;

#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub epochs: usize,
    pub learning_rate: f32,
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig { epochs: 16, learning_rate: 1.0, seed: 0x5eed }
    }
}

/// Training rows over a shared vocabulary of feature hashes, weighted by inverse document
/// frequency (words in every second message say little) and scaled to unit length.
pub struct Rows {
    vocab: HashMap<u64, u32>,
    idf: Vec<f32>,
    /// Weight of a feature never seen in training: rarer than any seen one.
    unseen_idf: f32,
    rows: Vec<Vec<(u32, f32)>>,
}

impl Rows {
    pub fn build<'a>(hashed: impl Iterator<Item = &'a [(u64, f32)]>) -> Rows {
        let mut vocab = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        let mut rows: Vec<Vec<(u32, f32)>> = hashed
            .map(|features| {
                features
                    .iter()
                    .map(|&(h, v)| {
                        let next = vocab.len() as u32;
                        let f = *vocab.entry(h).or_insert(next);
                        if f as usize == df.len() {
                            df.push(0);
                        }
                        df[f as usize] += 1;
                        (f, v)
                    })
                    .collect()
            })
            .collect();
        let n = rows.len() as f32;
        let idf: Vec<f32> = df.iter().map(|&d| ((n + 1.0) / (d as f32 + 1.0)).ln() + 1.0).collect();
        for row in &mut rows {
            row.iter_mut().for_each(|(f, v)| *v *= idf[*f as usize]);
            let norm = row.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
            row.iter_mut().for_each(|(_, v)| *v /= norm.max(f32::MIN_POSITIVE));
        }
        Rows { vocab, idf, unseen_idf: (n + 1.0).ln() + 1.0, rows }
    }

    fn features(&self) -> usize {
        self.vocab.len()
    }
}

/// Held-out scores of one example: raw logits and the share of its feature mass seen in the
/// fold's training rows.
#[derive(Debug, Clone, Copy)]
pub struct Scores {
    logits: [f32; LANES],
    coverage: f32,
}

struct Weights {
    w: Vec<f32>,
    bias: [f32; LANES],
}

impl Weights {
    fn logits(&self, row: &[(u32, f32)]) -> [f32; LANES] {
        let mut z = self.bias;
        for &(f, v) in row {
            let at = f as usize * LANES;
            for (zc, wc) in z.iter_mut().zip(&self.w[at..at + LANES]) {
                *zc += wc * v;
            }
        }
        z
    }
}

fn train(rows: &[&[(u32, f32)]], labels: &[usize], features: usize, config: &TrainConfig) -> Weights {
    let mut weights = Weights { w: vec![0.0; features * LANES], bias: [0.0; LANES] };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = config.seed | 1;
    let steps = (config.epochs * rows.len()).max(1) as f32;
    let mut step = 0f32;
    for _ in 0..config.epochs {
        shuffle(&mut order, &mut rng);
        for &i in &order {
            // Linear decay keeps late epochs from undoing what early ones learnt.
            let lr = config.learning_rate * (1.0 - step / steps).max(0.05);
            step += 1.0;
            let mut g = softmax(&weights.logits(rows[i]), 1.0);
            g[labels[i]] -= 1.0;
            for (b, gc) in weights.bias.iter_mut().zip(&g) {
                *b -= lr * 0.1 * gc;
            }
            for &(f, v) in rows[i] {
                let at = f as usize * LANES;
                for (wc, gc) in weights.w[at..at + LANES].iter_mut().zip(&g) {
                    *wc -= lr * v * gc;
                }
            }
        }
    }
    weights
}

/// Softmax over the real classes; pad lanes get probability 0.
fn softmax(z: &[f32; LANES], temperature: f32) -> [f32; LANES] {
    let max = z[..CLASSES].iter().copied().fold(f32::MIN, f32::max);
    let mut p = [0.0; LANES];
    let mut sum = 0.0;
    for c in 0..CLASSES {
        p[c] = ((z[c] - max) / temperature).exp();
        sum += p[c];
    }
    p[..CLASSES].iter_mut().for_each(|x| *x /= sum);
    p
}

/// How raw scores become probabilities: a softmax temperature, and how strongly unseen
/// feature mass pulls toward uniform (trust = coverage ^ coverage_power).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub temperature: f32,
    pub coverage_power: f32,
}

pub fn calibrated(scores: &Scores, calibration: Calibration) -> [f32; CLASSES] {
    let p = softmax(&scores.logits, calibration.temperature);
    let trust = scores.coverage.powf(calibration.coverage_power);
    let uniform = 1.0 / CLASSES as f32;
    std::array::from_fn(|c| trust * p[c] + (1.0 - trust) * uniform)
}

/// Held-out scores for every row from `folds`-fold cross-validation (fold = index mod folds
/// after a fixed shuffle). Folds train on separate threads.
pub fn cross_validate(rows: &Rows, labels: &[usize], folds: usize, config: &TrainConfig) -> Vec<Scores> {
    let n = rows.rows.len();
    let mut fold_of: Vec<usize> = (0..n).collect();
    let mut rng = config.seed.rotate_left(17) | 1;
    shuffle(&mut fold_of, &mut rng);
    let fold_of: Vec<usize> = fold_of.into_iter().map(|i| i % folds.max(1)).collect();
    let mut out = vec![Scores { logits: [0.0; LANES], coverage: 0.0 }; n];
    let per_fold: Vec<Vec<(usize, Scores)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..folds)
            .map(|k| {
                let fold_of = &fold_of;
                scope.spawn(move || {
                    let train_idx: Vec<usize> = (0..n).filter(|&i| fold_of[i] != k).collect();
                    let train_rows: Vec<&[(u32, f32)]> = train_idx.iter().map(|&i| rows.rows[i].as_slice()).collect();
                    let train_labels: Vec<usize> = train_idx.iter().map(|&i| labels[i]).collect();
                    let weights = train(&train_rows, &train_labels, rows.features(), config);
                    let mut seen = vec![false; rows.features()];
                    train_rows.iter().flat_map(|r| r.iter()).for_each(|&(f, _)| seen[f as usize] = true);
                    (0..n)
                        .filter(|&i| fold_of[i] == k)
                        .map(|i| {
                            let row = &rows.rows[i];
                            let coverage = row.iter().filter(|(f, _)| seen[*f as usize]).map(|(_, v)| v * v).sum();
                            (i, Scores { logits: weights.logits(row), coverage })
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    for (i, scores) in per_fold.into_iter().flatten() {
        out[i] = scores;
    }
    out
}

/// The calibration minimising the held-out negative log-likelihood, by grid search (the loss
/// is smooth and has two parameters).
pub fn fit_calibration(heldout: &[Scores], labels: &[usize]) -> Calibration {
    let nll = |c: Calibration| -> f64 {
        heldout.iter().zip(labels).map(|(s, &y)| -f64::from(calibrated(s, c)[y].max(1e-9)).ln()).sum()
    };
    let temperatures = (0..=80).map(|i| 0.1 * 10f32.powf(i as f32 / 40.0));
    temperatures
        .flat_map(|temperature| {
            [0.0, 0.25, 0.5, 1.0, 2.0].map(|coverage_power| Calibration { temperature, coverage_power })
        })
        .map(|c| (c, nll(c)))
        .fold((Calibration { temperature: 1.0, coverage_power: 1.0 }, f64::MAX), |best, (c, loss)| {
            if loss < best.1 { (c, loss) } else { best }
        })
        .0
}

pub struct Model {
    vocab: HashMap<u64, u32>,
    idf: Vec<f32>,
    unseen_idf: f32,
    weights: Weights,
    calibration: Calibration,
}

impl Model {
    pub fn train(rows: Rows, labels: &[usize], calibration: Calibration, config: &TrainConfig) -> Model {
        let slices: Vec<&[(u32, f32)]> = rows.rows.iter().map(Vec::as_slice).collect();
        let weights = train(&slices, labels, rows.features(), config);
        Model { vocab: rows.vocab, idf: rows.idf, unseen_idf: rows.unseen_idf, weights, calibration }
    }

    pub fn features(&self) -> usize {
        self.vocab.len()
    }

    /// Calibrated class probabilities for a message's hashed features.
    pub fn predict(&self, hashed: &[(u64, f32)]) -> [f32; CLASSES] {
        let mut unseen_mass = 0.0;
        let mut row: Vec<(u32, f32)> = Vec::with_capacity(hashed.len());
        for &(h, v) in hashed {
            match self.vocab.get(&h) {
                Some(&f) => row.push((f, v * self.idf[f as usize])),
                None => unseen_mass += (v * self.unseen_idf).powi(2),
            }
        }
        let seen_mass: f32 = row.iter().map(|(_, v)| v * v).sum();
        let total = seen_mass + unseen_mass;
        if total == 0.0 {
            return [1.0 / CLASSES as f32; CLASSES];
        }
        let norm = total.sqrt();
        row.iter_mut().for_each(|(_, v)| *v /= norm);
        calibrated(&Scores { logits: self.weights.logits(&row), coverage: seen_mass / total }, self.calibration)
    }
}

/// Fisher-Yates with xorshift64: deterministic across runs and platforms.
fn shuffle(items: &mut [usize], state: &mut u64) {
    for i in (1..items.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        items.swap(i, (*state % (i as u64 + 1)) as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two classes separable by one feature each, plus a shared noise feature.
    fn toy() -> (Rows, Vec<usize>) {
        let a: Vec<(u64, f32)> = vec![(1, 0.8), (9, 0.6)];
        let b: Vec<(u64, f32)> = vec![(2, 0.8), (9, 0.6)];
        let data: Vec<&[(u64, f32)]> = (0..40).map(|i| if i % 2 == 0 { a.as_slice() } else { b.as_slice() }).collect();
        let labels = (0..40).map(|i| if i % 2 == 0 { 0 } else { 3 }).collect();
        (Rows::build(data.into_iter()), labels)
    }

    #[test]
    fn learns_separable_classes_and_is_unsure_of_unseen_features() {
        let (rows, labels) = toy();
        let calibration = Calibration { temperature: 1.0, coverage_power: 1.0 };
        let model = Model::train(rows, &labels, calibration, &TrainConfig::default());
        let p = model.predict(&[(1, 0.8), (9, 0.6)]);
        assert!(p[0] > 0.8, "{p:?}");
        let q = model.predict(&[(2, 0.8), (9, 0.6)]);
        assert!(q[3] > 0.8, "{q:?}");
        let unseen = model.predict(&[(77, 1.0)]);
        assert!(unseen.iter().all(|&x| (x - 1.0 / CLASSES as f32).abs() < 1e-6), "{unseen:?}");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }

    #[test]
    fn temperature_softens_overconfident_heldout_mistakes() {
        // Confident logits that are wrong a third of the time call for a temperature above 1.
        let confident = |c: usize| {
            let mut logits = [0.0; LANES];
            logits[c] = 8.0;
            Scores { logits, coverage: 1.0 }
        };
        let heldout: Vec<Scores> = (0..30).map(|_| confident(0)).collect();
        let labels: Vec<usize> = (0..30).map(|i| if i % 3 == 0 { 1 } else { 0 }).collect();
        let c = fit_calibration(&heldout, &labels);
        assert!(c.temperature > 1.5, "{c:?}");
        let p = calibrated(&heldout[0], c)[0];
        assert!((p - 2.0 / 3.0).abs() < 0.1, "{p}");
    }
}
