//! The embedded vector index: exact inner-product search over one contiguous row-major
//! `f32` matrix. At the scale of one shop (up to ~100k chunks) a scan is a few milliseconds
//! and has perfect recall; the rows are scored with AVX2/FMA where the CPU has it.

use crate::ports::{Scored, StoreError, VectorIndex};
use std::path::Path;

/// Rows of one chunk are contiguous: a long chunk is embedded as several overlapping
/// windows and scores as its best window.
pub struct FlatIndex {
    dims: usize,
    data: Vec<f32>,
    /// Chunk ordinal -> its first row; one extra entry closes the last chunk.
    starts: Vec<usize>,
}

impl FlatIndex {
    /// `rows[i]` is how many vectors chunk `i` has (at least one).
    pub fn new(dims: usize, data: Vec<f32>, rows: &[u32]) -> Result<Self, StoreError> {
        let starts = row_starts(dims, data.len(), rows)?;
        Ok(Self { dims, data, starts })
    }

    pub fn load(dir: &Path, dims: usize) -> Result<Self, StoreError> {
        let data = read_le(&dir.join(VECTORS_FILE), f32::from_le_bytes)?;
        let rows_path = dir.join(ROWS_FILE);
        let rows = if rows_path.exists() {
            read_le(&rows_path, u32::from_le_bytes)?
        } else {
            // Generations written before windowed embedding hold one vector per chunk.
            vec![1; data.len() / dims.max(1)]
        };
        Self::new(dims, data, &rows)
    }

    pub fn save(dir: &Path, data: &[f32], rows: &[u32]) -> Result<(), StoreError> {
        write_le(&dir.join(VECTORS_FILE), data.iter().map(|v| v.to_le_bytes()))?;
        write_le(&dir.join(ROWS_FILE), rows.iter().map(|v| v.to_le_bytes()))
    }
}

/// Where each chunk's rows start (plus the end), after checking that `rows` (vectors per
/// chunk, each at least one) exactly cover `values` floats of `dims` each.
pub fn row_starts(dims: usize, values: usize, rows: &[u32]) -> Result<Vec<usize>, StoreError> {
    if dims == 0 || values % dims != 0 {
        return Err(StoreError::Corrupt(format!("{values} floats do not make rows of {dims}")));
    }
    let mut starts = Vec::with_capacity(rows.len() + 1);
    let mut next = 0usize;
    for &n in rows {
        if n == 0 {
            return Err(StoreError::Corrupt("a chunk without vectors".into()));
        }
        starts.push(next);
        next += n as usize;
    }
    starts.push(next);
    if next * dims != values {
        return Err(StoreError::Corrupt(format!(
            "{} chunks claim {next} vectors, found {}",
            rows.len(),
            values / dims
        )));
    }
    Ok(starts)
}

const VECTORS_FILE: &str = "vectors.bin";
const ROWS_FILE: &str = "vector_rows.bin";

fn read_le<T>(path: &Path, decode: fn([u8; 4]) -> T) -> Result<Vec<T>, StoreError> {
    let bytes = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
    if bytes.len() % 4 != 0 {
        return Err(StoreError::Corrupt(format!("{} is not a whole number of 4-byte values", path.display())));
    }
    Ok(bytes.chunks_exact(4).map(|b| decode([b[0], b[1], b[2], b[3]])).collect())
}

fn write_le(path: &Path, values: impl Iterator<Item = [u8; 4]>) -> Result<(), StoreError> {
    let bytes: Vec<u8> = values.flatten().collect();
    std::fs::write(path, bytes).map_err(|e| StoreError::io(path, e))
}

impl VectorIndex for FlatIndex {
    fn dims(&self) -> usize {
        self.dims
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn search(&self, query: &[f32], k: usize, admit: &dyn Fn(u32) -> bool) -> Vec<Scored> {
        if query.len() != self.dims || k == 0 {
            return Vec::new();
        }
        // Kept sorted best-first; insertion into a k-slot array beats a heap for small k.
        let mut top: Vec<Scored> = Vec::with_capacity(k + 1);
        for (chunk, bounds) in self.starts.windows(2).enumerate() {
            let rows = &self.data[bounds[0] * self.dims..bounds[1] * self.dims];
            let score = rows.chunks_exact(self.dims).map(|row| dot(query, row)).fold(f32::MIN, f32::max);
            if top.len() == k && score <= top[k - 1].score {
                continue;
            }
            let ordinal = chunk as u32;
            if !admit(ordinal) {
                continue;
            }
            let at = top.partition_point(|s| s.score >= score);
            top.insert(at, Scored { ordinal, score });
            top.truncate(k);
        }
        top
    }

    fn vectors(&self, ordinal: u32) -> Option<&[f32]> {
        let i = ordinal as usize;
        let (start, end) = (*self.starts.get(i)?, *self.starts.get(i + 1)?);
        self.data.get(start * self.dims..end * self.dims)
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
        let index = FlatIndex::new(2, rows.clone(), &[1, 1, 1]).unwrap();
        let hits = index.search(&[0.0, 1.0], 2, &|_| true);
        assert_eq!(hits.iter().map(|h| h.ordinal).collect::<Vec<_>>(), vec![1, 2]);
        let hits = index.search(&[0.0, 1.0], 2, &|o| o != 1);
        assert_eq!(hits.iter().map(|h| h.ordinal).collect::<Vec<_>>(), vec![2, 0]);
        assert!(index.search(&[1.0], 2, &|_| true).is_empty(), "wrong dimension finds nothing");

        // A chunk of two windows scores as its best window.
        let index = FlatIndex::new(2, rows, &[2, 1]).unwrap();
        let hits = index.search(&[0.0, 1.0], 2, &|_| true);
        assert_eq!(hits.iter().map(|h| (h.ordinal, h.score)).collect::<Vec<_>>(), vec![(0, 1.0), (1, 0.8)]);
        assert_eq!(index.vectors(0).unwrap().len(), 4);
        assert!(FlatIndex::new(2, vec![1.0; 6], &[2, 2]).is_err(), "row counts must cover the data");
    }

    #[test]
    fn dot_matches_naive_and_roundtrips() {
        let a: Vec<f32> = (0..387).map(|i| (i as f32).sin()).collect();
        let b: Vec<f32> = (0..387).map(|i| (i as f32).cos()).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
        let dir = tempfile::tempdir().unwrap();
        FlatIndex::save(dir.path(), &a[..384], &[1]).unwrap();
        let loaded = FlatIndex::load(dir.path(), 384).unwrap();
        assert_eq!(loaded.vectors(0).unwrap(), &a[..384]);
        assert!(FlatIndex::load(dir.path(), 5).is_err());
        // A generation from before windowed embedding has no row counts: one vector each.
        std::fs::remove_file(dir.path().join(ROWS_FILE)).unwrap();
        assert_eq!(FlatIndex::load(dir.path(), 384).unwrap().len(), 1);
    }
}
