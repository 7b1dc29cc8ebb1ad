//! Experimental protocols: which field each phase of training runs.

use super::config::FieldKind;
use crate::env::ResetOptions;
use serde::{Deserialize, Serialize};

/// One phase of a protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldPhase {
    /// Name (`baseline`, `learning`, `washout`, `relearning`, ...).
    pub name: String,
    /// The field of the phase.
    pub field: FieldKind,
    /// Signed curl strength, N·s/m (> 0 clockwise; ignored unless `field` is curl).
    pub b_ns_m: f64,
    /// Training budget of the phase, in PPO updates.
    pub updates: usize,
}

impl FieldPhase {
    /// The reset options that put a [`super::CurlReach`] into this phase (they persist
    /// across later resets, so one `reset_with` per phase is enough).
    pub fn reset_options(&self) -> ResetOptions {
        ResetOptions::new().with("field", self.field.code()).with("field_b", self.b_ns_m)
    }
}

/// A sequence of phases that a training script (the agents crate) drives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSchedule {
    /// Phases in order.
    pub phases: Vec<FieldPhase>,
}

impl FieldSchedule {
    /// baseline (null) → learning (curl `b`) → washout (null) → relearning (curl `b`), each
    /// `updates` long.
    pub fn savings(b_ns_m: f64, updates: usize) -> Self {
        let phase = |name: &str, field, b| FieldPhase { name: name.into(), field, b_ns_m: b, updates };
        Self {
            phases: vec![
                phase("baseline", FieldKind::Null, 0.0),
                phase("learning", FieldKind::Curl, b_ns_m),
                phase("washout", FieldKind::Null, 0.0),
                phase("relearning", FieldKind::Curl, b_ns_m),
            ],
        }
    }

    /// The "drift" control: the same budget, null field throughout.
    pub fn drift(updates: usize, phases: usize) -> Self {
        Self {
            phases: (0..phases)
                .map(|i| FieldPhase { name: format!("drift{i}"), field: FieldKind::Null, b_ns_m: 0.0, updates })
                .collect(),
        }
    }

    /// Total updates.
    pub fn total_updates(&self) -> usize {
        self.phases.iter().map(|p| p.updates).sum()
    }

    /// The phase that update `u` (0-based) belongs to, with its index; `None` past the end.
    pub fn phase_at(&self, u: usize) -> Option<(usize, &FieldPhase)> {
        let mut end = 0;
        for (i, p) in self.phases.iter().enumerate() {
            end += p.updates;
            if u < end {
                return Some((i, p));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn savings_protocol_walks_through_its_phases() {
        let s = FieldSchedule::savings(8.0, 10);
        assert_eq!(s.total_updates(), 40);
        assert_eq!(s.phase_at(0).unwrap().1.name, "baseline");
        assert_eq!(s.phase_at(15).unwrap().1.name, "learning");
        assert_eq!(s.phase_at(39).unwrap().0, 3);
        assert!(s.phase_at(40).is_none());
        let o = s.phases[1].reset_options();
        assert_eq!((o.get("field"), o.get("field_b")), (Some(1.0), Some(8.0)));
    }
}
