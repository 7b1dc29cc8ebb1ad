//! Errors of the probe analyses.

use thiserror::Error;

/// What was wrong with the arrays handed to a probe analysis.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ProbeError {
    /// Two arrays that must agree in one dimension do not.
    #[error("shape mismatch in {context}: expected {expected}, got {actual}")]
    ShapeMismatch {
        /// Which function and argument.
        context: &'static str,
        /// The expected size (e.g. "8 rows").
        expected: String,
        /// The size that was given.
        actual: String,
    },
    /// Too few samples (rows, targets, groups, seeds) for the statistic.
    #[error("{context}: need at least {needed} {what}, got {got}")]
    TooFew {
        /// Which function.
        context: &'static str,
        /// What is counted (samples, groups, ...).
        what: &'static str,
        /// The minimum.
        needed: usize,
        /// What was given.
        got: usize,
    },
    /// A matrix was (numerically) rank deficient where full rank is required.
    #[error("{context}: matrix is rank deficient (rank {rank} < {needed})")]
    RankDeficient {
        /// Which function and argument.
        context: &'static str,
        /// The numerical rank found.
        rank: usize,
        /// The rank needed.
        needed: usize,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// Its value, formatted.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A value in the input is NaN or infinite.
    #[error("{context}: non-finite value at index {index}")]
    NonFinite {
        /// Which function and argument.
        context: &'static str,
        /// Flat index of the first offending value.
        index: usize,
    },
    /// A decomposition in faer did not converge.
    #[error("{context}: {decomposition} did not converge")]
    NoConvergence {
        /// Which function.
        context: &'static str,
        /// Which decomposition (SVD, eigendecomposition).
        decomposition: &'static str,
    },
}
