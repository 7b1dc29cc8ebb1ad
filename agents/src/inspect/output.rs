//! Files of the probe reports: `.npy` arrays (read and written) and pretty JSON, written
//! atomically.

use super::{fs_err, io_err};
use crate::error::AgentError;
use crate::probe::Matrix;
use std::path::Path;

/// Writes `m` `[rows, cols]` as an `f64` `.npy` file.
pub fn write_matrix(path: &Path, m: &Matrix) -> Result<(), AgentError> {
    crate::run::record::npy(path, &[m.rows() as u64, m.cols() as u64], m.data())
}

/// Writes `value` as pretty JSON.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), AgentError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| io_err(path, e))?;
    crate::io::atomic_write(path, text.as_bytes()).map_err(|e| fs_err(path, e))
}

/// Writes a text file (Markdown reports).
pub fn write_text(path: &Path, text: &str) -> Result<(), AgentError> {
    crate::io::atomic_write(path, text.as_bytes()).map_err(|e| fs_err(path, e))
}

/// Reads a `.npy` file: its shape and values.
pub fn read_npy<T: npyz::Deserialize>(path: &Path) -> Result<(Vec<u64>, Vec<T>), AgentError> {
    let file = std::fs::File::open(path).map_err(|e| fs_err(path, e))?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file)).map_err(|e| io_err(path, e))?;
    let shape = npy.shape().to_vec();
    let data = npy.into_vec::<T>().map_err(|e| io_err(path, e))?;
    Ok((shape, data))
}
