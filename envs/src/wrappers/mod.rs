//! Wrappers: envs built around an inner env, composed statically (`TimeLimit<ClipAction<E>>`)
//! so the hot path has no extra indirection.
//!
//! Each wrapper keeps Gymnasium's semantics (its docs say where it differs) and refuses the
//! same bad input as the inner env.

mod clip_action;
mod delay;
mod frame_stack;
mod mask;
mod noise;
mod normalize;
mod record_stats;
mod time_limit;

pub use clip_action::ClipAction;
pub use delay::{ActionDelay, ObservationDelay};
pub use frame_stack::FrameStack;
pub use mask::MaskObservation;
pub use noise::ObservationNoise;
pub use normalize::{NormalizeObservation, NormalizeReward, RunningMeanStd, NORMALIZE_EPSILON};
pub use record_stats::RecordEpisodeStatistics;
pub use time_limit::TimeLimit;

/// Forwards the `Env` methods a wrapper does not change to `self.inner`.
macro_rules! forward_common {
    () => {
        fn id(&self) -> &str {
            self.inner.id()
        }
        fn max_episode_steps(&self) -> Option<usize> {
            self.inner.max_episode_steps()
        }
        fn state(&self) -> Option<Vec<f64>> {
            self.inner.state()
        }
        fn set_state(&mut self, state: &[f64]) -> $crate::error::EnvResult<()> {
            self.inner.set_state(state)
        }
    };
}
pub(crate) use forward_common;
