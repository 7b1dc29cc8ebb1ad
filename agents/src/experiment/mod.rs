//! Experiments: protocols of many training phases, planned as jobs (see [`crate::plan`]).
//!
//! - [`curl_field`]: pretrain → baseline → learning → washout → relearning on CurlReach,
//!   recording preparatory states at every checkpoint ([`prep_record`]).

pub mod curl_field;
pub mod prep_record;
