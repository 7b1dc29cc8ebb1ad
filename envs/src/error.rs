//! The one error type of the environment API.

use thiserror::Error;

/// Everything that can go wrong when making, resetting or stepping an environment.
///
/// Every variant names the environment, the offending field or value, and the bound it broke,
/// so that the message alone tells a user what to fix.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EnvError {
    /// The action slice does not have the action space's length.
    #[error("{env}: action has length {got}, expected {expected} (action space {space})")]
    ActionLength {
        /// Env id.
        env: String,
        /// Required length.
        expected: usize,
        /// Length given.
        got: usize,
        /// The action space, printed.
        space: String,
    },
    /// An action component is NaN or infinite.
    #[error("{env}: action[{index}] = {value} is not finite")]
    NonFiniteAction {
        /// Env id.
        env: String,
        /// Position of the bad component.
        index: usize,
        /// The value given.
        value: f32,
    },
    /// A discrete action is not an integer in `[0, n)`.
    #[error("{env}: discrete action {value} is not an integer in [0, {n})")]
    DiscreteActionOutOfRange {
        /// Env id.
        env: String,
        /// The value given.
        value: f32,
        /// Number of actions.
        n: usize,
    },
    /// `step` was called before the first `reset`.
    #[error("{env}: step() called before reset()")]
    StepBeforeReset {
        /// Env id.
        env: String,
    },
    /// `step` was called after `terminated` or `truncated` without a `reset`.
    #[error("{env}: step() called after the episode ended (terminated or truncated); call reset() first")]
    StepAfterDone {
        /// Env id.
        env: String,
    },
    /// No environment is registered under this id.
    #[error("unknown env id `{id}`; registered ids: {known}")]
    UnknownId {
        /// The id asked for.
        id: String,
        /// Comma-separated list of registered ids.
        known: String,
    },
    /// An action component is not acceptable (named, e.g. the muscle whose excitation is NaN).
    #[error("{env}: invalid action: {reason}")]
    InvalidAction {
        /// Env id.
        env: String,
        /// What is wrong, naming the component.
        reason: String,
    },
    /// A config value is outside its allowed range.
    #[error("{env}: invalid config: `{field}` = {value}, must be {bound}")]
    InvalidConfig {
        /// Env id.
        env: String,
        /// Config field name.
        field: String,
        /// The value given, printed.
        value: String,
        /// The bound it broke, in words (`in [0, 1]`, `> 0`).
        bound: String,
    },
    /// A config document could not be parsed (syntax, unknown field, wrong type).
    #[error("{env}: cannot parse config: {message}")]
    ConfigParse {
        /// Env id.
        env: String,
        /// What the parser said.
        message: String,
    },
    /// A reset option this env does not accept, or a value out of range.
    #[error("{env}: reset option `{key}` = {value}: {reason}")]
    InvalidOption {
        /// Env id.
        env: String,
        /// Option key.
        key: String,
        /// Value given.
        value: f64,
        /// Why it was refused (lists the accepted keys or the bound).
        reason: String,
    },
    /// A physical state given to `set_state` has the wrong length or a non-finite value.
    #[error("{env}: invalid state: {reason}")]
    InvalidState {
        /// Env id.
        env: String,
        /// What was wrong.
        reason: String,
    },
    /// The env does not support an optional operation.
    #[error("{env}: {operation} is not supported by this env")]
    Unsupported {
        /// Env id.
        env: String,
        /// What was attempted.
        operation: String,
    },
    /// A size would need more memory than the machine has (see [`crate::limits`]).
    #[error("{0}")]
    ResourceLimit(Box<crate::limits::MemoryLimit>),
}

/// Shorthand for results of the environment API.
pub type EnvResult<T> = Result<T, EnvError>;
