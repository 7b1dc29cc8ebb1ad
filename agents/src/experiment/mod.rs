//! Experiments: protocols of many training phases, planned as jobs (see [`crate::plan`]).
//!
//! - [`curl_field`]: pretrain → baseline → learning → washout → relearning on CurlReach,
//!   recording preparatory states at every checkpoint ([`prep_record`]).
//! - [`universality`]: RNN / GRU / LSTM agents × seeds × widths, trained and probed; its
//!   report ([`universality_report`]) compares geometry and topology across architectures.

pub mod curl_field;
pub mod prep_record;
pub mod universality;
pub mod universality_report;
