//! (Being moved) the sim-to-real system-identification probe applied to runs.

pub mod sysid_probe;
