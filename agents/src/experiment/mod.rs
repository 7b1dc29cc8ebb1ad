//! Experiments: protocols of many training phases, planned as jobs (see [`crate::plan`]).
//!
//! - [`curl_field`]: pretrain → baseline → learning → washout → relearning on CurlReach,
//!   recording preparatory states at every checkpoint ([`prep_record`]).
//! - [`universality`]: RNN / GRU / LSTM agents × seeds × widths, trained and probed; its
//!   report ([`universality_report`]) compares geometry and topology across architectures.
//! - [`sim2real`]: {MLP, GRU, LSTM} × {randomization on, off} on the walker, evaluated on
//!   held-out robots, with the implicit system-identification probe ([`sysid_probe`]).

pub mod curl_field;
pub mod prep_record;
pub mod sim2real;
/// The sysid probe applied to runs, at its old path (it lives in [`crate::inspect`]).
pub use crate::inspect::sysid_report as sysid_probe;
pub mod universality;
pub mod universality_report;
