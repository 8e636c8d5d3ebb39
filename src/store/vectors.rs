//! The embedded vector index: exact inner-product search over one contiguous row-major
//! `f32` matrix. At the scale of one shop (up to ~100k chunks) a scan is a few milliseconds
//! and has perfect recall; the rows are scored with AVX2/FMA where the CPU has it.

use crate::ports::{Scored, StoreError, VectorIndex};
use std::path::Path;

pub struct FlatIndex {
    dims: usize,
    data: Vec<f32>,
}

impl FlatIndex {
    pub fn new(dims: usize, data: Vec<f32>) -> Result<Self, StoreError> {
        if dims == 0 || data.len() % dims != 0 {
            return Err(StoreError::Corrupt(format!("{} floats do not make rows of {dims}", data.len())));
        }
        Ok(Self { dims, data })
    }

    pub fn load(path: &Path, dims: usize) -> Result<Self, StoreError> {
        let bytes = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
        if bytes.len() % 4 != 0 {
            return Err(StoreError::Corrupt(format!("{} is not a whole number of floats", path.display())));
        }
        let data = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Self::new(dims, data)
    }

    pub fn save(path: &Path, data: &[f32]) -> Result<(), StoreError> {
        let mut bytes = Vec::with_capacity(data.len() * 4);
        for v in data {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(path, bytes).map_err(|e| StoreError::io(path, e))
    }
}

impl VectorIndex for FlatIndex {
    fn dims(&self) -> usize {
        self.dims
    }

    fn len(&self) -> usize {
        self.data.len() / self.dims
    }

    fn search(&self, query: &[f32], k: usize, admit: &dyn Fn(u32) -> bool) -> Vec<Scored> {
        if query.len() != self.dims || k == 0 {
            return Vec::new();
        }
        // Kept sorted best-first; insertion into a k-slot array beats a heap for small k.
        let mut top: Vec<Scored> = Vec::with_capacity(k + 1);
        for (row, values) in self.data.chunks_exact(self.dims).enumerate() {
            let ordinal = row as u32;
            let score = dot(query, values);
            if top.len() == k && score <= top[k - 1].score {
                continue;
            }
            if !admit(ordinal) {
                continue;
            }
            let at = top.partition_point(|s| s.score >= score);
            top.insert(at, Scored { ordinal, score });
            top.truncate(k);
        }
        top
    }

    fn vector(&self, ordinal: u32) -> Option<&[f32]> {
        let start = ordinal as usize * self.dims;
        self.data.get(start..start + self.dims)
    }
}

/// Inner product, dispatched once per call to the widest instructions the CPU has.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
}

fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent accumulators let the compiler vectorise and pipeline the sum.
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    dot_portable(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nearest_rows_with_filter() {
        let rows = vec![1.0, 0.0, 0.0, 1.0, 0.6, 0.8];
        let index = FlatIndex::new(2, rows).unwrap();
        let hits = index.search(&[0.0, 1.0], 2, &|_| true);
        assert_eq!(hits.iter().map(|h| h.ordinal).collect::<Vec<_>>(), vec![1, 2]);
        let hits = index.search(&[0.0, 1.0], 2, &|o| o != 1);
        assert_eq!(hits.iter().map(|h| h.ordinal).collect::<Vec<_>>(), vec![2, 0]);
        assert!(index.search(&[1.0], 2, &|_| true).is_empty(), "wrong dimension finds nothing");
    }

    #[test]
    fn dot_matches_naive_and_roundtrips() {
        let a: Vec<f32> = (0..387).map(|i| (i as f32).sin()).collect();
        let b: Vec<f32> = (0..387).map(|i| (i as f32).cos()).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.bin");
        FlatIndex::save(&path, &a[..384]).unwrap();
        let loaded = FlatIndex::load(&path, 384).unwrap();
        assert_eq!(loaded.vector(0).unwrap(), &a[..384]);
        assert!(FlatIndex::load(&path, 5).is_err());
    }
}
