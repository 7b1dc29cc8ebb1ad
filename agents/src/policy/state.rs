//! The hidden-state buffer of a recurrent policy, owned by the caller.

use serde::{Deserialize, Serialize};

/// Where one layer's state lives inside a row of a [`HiddenState`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSlot {
    /// Name, for example `actor.rnn0.h` or `critic.rnn1.c`.
    pub name: String,
    /// Offset of the slot inside a row.
    pub offset: usize,
    /// Width of the slot.
    pub len: usize,
}

/// Recurrent state of a batch of envs: a plain `[n_envs, width]` row-major `f32` buffer.
///
/// Row `i` holds env `i`'s state, laid out as [`HiddenState::slots`] says: for the actor trunk
/// then (if it has its own recurrent layers) the critic trunk, for each layer `h` then, for
/// an LSTM, `c`. A memoryless policy has `width == 0`. Probes read [`HiddenState::data`]
/// directly and may overwrite ("pin") any part of it between steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HiddenState {
    /// Number of rows (envs).
    pub n_envs: usize,
    /// Width of one row.
    pub width: usize,
    /// The values, `[n_envs, width]`.
    pub data: Vec<f32>,
    /// Layout of a row.
    pub slots: Vec<StateSlot>,
}

impl HiddenState {
    /// A zero state (the state at an episode start).
    pub fn zeros(n_envs: usize, slots: Vec<StateSlot>) -> Self {
        let width = slots.iter().map(|s| s.len).sum();
        Self { n_envs, width, data: vec![0.0; n_envs * width], slots }
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.width..(i + 1) * self.width]
    }

    /// Row `i`, mutable.
    pub fn row_mut(&mut self, i: usize) -> &mut [f32] {
        &mut self.data[i * self.width..(i + 1) * self.width]
    }

    /// Zeroes row `i` (the env starts a new episode).
    pub fn reset_row(&mut self, i: usize) {
        self.row_mut(i).iter_mut().for_each(|v| *v = 0.0);
    }

    /// The slot named `name`.
    pub fn slot(&self, name: &str) -> Option<&StateSlot> {
        self.slots.iter().find(|s| s.name == name)
    }
}
