//! A small row-major `f64` matrix: the array type at the probe API.
//!
//! Recorded hidden states arrive as row-major `.npy` arrays (`[n_samples, hidden]`), so the
//! API takes and returns row-major data; faer (column-major) is used inside for the
//! decompositions and products. Conversion is a copy, negligible next to an SVD.

use crate::error::AgentError;
use faer::Mat;
use serde::{Deserialize, Serialize};

/// A dense row-major matrix `[rows, cols]` of `f64`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    #[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]
    data: Vec<f64>,
}

impl Matrix {
    /// Wraps row-major `data` of shape `[rows, cols]`.
    ///
    /// ```
    /// use engram_agents::probe::Matrix;
    /// let m = Matrix::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// assert_eq!(m.get(1, 0), 4.0);
    /// ```
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, AgentError> {
        if data.len() != rows * cols {
            return Err(AgentError::ShapeMismatch {
                context: "Matrix::new",
                expected: format!("{} values ({rows} x {cols})", rows * cols),
                actual: format!("{} values", data.len()),
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// Builds a matrix from a slice of equally long rows.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, AgentError> {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, r) in rows.iter().enumerate() {
            if r.len() != cols {
                return Err(AgentError::ShapeMismatch {
                    context: "Matrix::from_rows",
                    expected: format!("{cols} columns"),
                    actual: format!("{} columns in row {i}", r.len()),
                });
            }
            data.extend_from_slice(r);
        }
        Ok(Self { rows: rows.len(), cols, data })
    }

    /// A matrix of zeros `[rows, cols]`.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: vec![0.0; rows * cols] }
    }

    /// The identity `[n, n]`.
    pub fn identity(n: usize) -> Self {
        Self::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.0 })
    }

    /// Builds `[rows, cols]` from `f(row, col)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> f64) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Self { rows, cols, data }
    }

    /// A column vector `[n, 1]`.
    pub fn column(values: &[f64]) -> Self {
        Self { rows: values.len(), cols: 1, data: values.to_vec() }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// The row-major values.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// The row-major values, mutable.
    pub fn data_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Consumes the matrix, returning its row-major values.
    pub fn into_data(self) -> Vec<f64> {
        self.data
    }

    /// Element `(i, j)`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }

    /// Sets element `(i, j)`.
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.cols + j] = v;
    }

    /// Row `i` as a slice `[cols]`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Column `j`, copied `[rows]`.
    pub fn col(&self, j: usize) -> Vec<f64> {
        (0..self.rows).map(|i| self.get(i, j)).collect()
    }

    /// The rows with the given indices, in that order `[idx.len(), cols]`.
    pub fn select_rows(&self, idx: &[usize]) -> Self {
        let mut data = Vec::with_capacity(idx.len() * self.cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Self { rows: idx.len(), cols: self.cols, data }
    }

    /// The first `k` columns `[rows, k]`.
    pub fn first_cols(&self, k: usize) -> Self {
        Self::from_fn(self.rows, k.min(self.cols), |i, j| self.get(i, j))
    }

    /// The transpose `[cols, rows]`.
    pub fn transpose(&self) -> Self {
        Self::from_fn(self.cols, self.rows, |i, j| self.get(j, i))
    }

    /// Matrix product `self · other` (`[r, k] · [k, c] = [r, c]`), computed by faer.
    pub fn matmul(&self, other: &Matrix) -> Result<Self, AgentError> {
        if self.cols != other.rows {
            return Err(AgentError::ShapeMismatch {
                context: "Matrix::matmul",
                expected: format!("{} rows on the right", self.cols),
                actual: format!("{} rows", other.rows),
            });
        }
        let p = self.to_faer() * other.to_faer();
        Ok(Self::from_faer(p.as_ref()))
    }

    /// `selfᵀ · other` (`[k, r]ᵀ · [k, c] = [r, c]`), computed by faer.
    pub fn t_matmul(&self, other: &Matrix) -> Result<Self, AgentError> {
        if self.rows != other.rows {
            return Err(AgentError::ShapeMismatch {
                context: "Matrix::t_matmul",
                expected: format!("{} rows on the right", self.rows),
                actual: format!("{} rows", other.rows),
            });
        }
        let p = self.to_faer().transpose() * other.to_faer();
        Ok(Self::from_faer(p.as_ref()))
    }

    /// `self · v` for a vector `v` `[cols]`, giving `[rows]`.
    pub fn mat_vec(&self, v: &[f64]) -> Vec<f64> {
        debug_assert_eq!(v.len(), self.cols);
        (0..self.rows).map(|i| dot(self.row(i), v)).collect()
    }

    /// `selfᵀ · v` for a vector `v` `[rows]`, giving `[cols]`.
    pub fn t_mat_vec(&self, v: &[f64]) -> Vec<f64> {
        debug_assert_eq!(v.len(), self.rows);
        let mut out = vec![0.0; self.cols];
        for (i, &vi) in v.iter().enumerate() {
            for (o, &x) in out.iter_mut().zip(self.row(i)) {
                *o += vi * x;
            }
        }
        out
    }

    /// Frobenius norm.
    pub fn frobenius_norm(&self) -> f64 {
        self.data.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// Index of the first non-finite value, if any.
    pub fn first_non_finite(&self) -> Option<usize> {
        self.data.iter().position(|x| !x.is_finite())
    }

    /// Copies into a faer column-major matrix.
    pub fn to_faer(&self) -> Mat<f64> {
        Mat::from_fn(self.rows, self.cols, |i, j| self.get(i, j))
    }

    /// Copies from a faer matrix.
    pub fn from_faer(m: faer::MatRef<'_, f64>) -> Self {
        Self::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
    }
}

/// Dot product of two equally long slices.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Euclidean norm.
#[inline]
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `a - b` elementwise.
pub fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// Angle between two vectors in degrees, in `[0, 180]`; `NaN` if either is zero.
pub fn angle_deg(a: &[f64], b: &[f64]) -> f64 {
    let c = dot(a, b) / (norm(a) * norm(b));
    c.clamp(-1.0, 1.0).acos().to_degrees()
}

/// Rejects non-finite input with the offending index.
pub(crate) fn check_finite(m: &Matrix, context: &'static str) -> Result<(), AgentError> {
    match m.first_non_finite() {
        Some(index) => Err(AgentError::NonFinite { context, index }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_hand_product() {
        let a = Matrix::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let b = Matrix::new(3, 2, vec![7.0, 8.0, 9.0, 10.0, 11.0, 12.0]).unwrap();
        let c = a.matmul(&b).unwrap();
        assert_eq!(c.data(), &[58.0, 64.0, 139.0, 154.0]);
        let ct = a.transpose().t_matmul(&b).unwrap();
        assert_eq!(ct, c);
        assert_eq!(a.mat_vec(&[1.0, 0.0, -1.0]), vec![-2.0, -2.0]);
        assert_eq!(a.t_mat_vec(&[1.0, -1.0]), vec![-3.0, -3.0, -3.0]);
        assert!(Matrix::new(2, 2, vec![1.0]).is_err());
        assert!(a.matmul(&a).is_err());
    }
}
