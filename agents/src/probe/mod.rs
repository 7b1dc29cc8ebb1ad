//! Probes: the analysis library that looks inside trained agents.
//!
//! Pure `f64` functions on arrays (row-major [`Matrix`]), with faer doing the dense linear
//! algebra inside (thin SVD, QR, self-adjoint and general eigendecompositions). Nothing here
//! touches environments, run directories, files or the command line: [`crate::inspect`]
//! (the probes applied to runs) and the studies feed recorded hidden states in and serialize
//! the reports that come out.
//!
//! - [`matrix`]: the [`Matrix`] newtype (row-major, shapes `[rows, cols]`) and faer conversion;
//! - [`linalg`]: centring, PCA, least squares, pseudo-inverse, orthonormalization, principal
//!   angles between subspaces;
//! - [`prep_shift`]: the preparatory-subspace uniform-shift analysis (Sun et al. 2022);
//! - [`sysid`]: implicit system identification with cross-validated ridge decoders;
//! - [`mlp_decoder`]: the small nonlinear decoder of the same protocol;
//! - [`dynamics`]: fixed points and their linearization (FixedPointFinder);
//! - [`lyapunov`]: Lyapunov spectra of input-driven maps (Benettin QR method);
//! - [`similarity`]: CCA, SVCCA, the angular Procrustes and generalized shape distances;
//! - [`fit_map`]: a supervised network ([`crate::fit::Net`]) as such a map;
//! - [`recurrent`]: a trained recurrent cell as an `f64` map with its analytic Jacobian;
//! - [`topology`]: the fixed-point scaffold under constant inputs (stable points, saddles,
//!   their unstable manifolds, limit cycles) and a signature per network with a distance;
//! - [`mds`]: classical MDS, silhouette and nearest-neighbour label agreement with nulls;
//! - [`torus`]: the geometry of a two-orientation memory manifold (Clifford vs standard torus);
//! - [`homology`]: Vietoris–Rips persistent homology over Z/2 up to dimension 2;
//! - [`tuning`]: orientation tuning, connectivity by preferred orientation, dynamic code,
//!   cross-temporal decoding;
//! - [`json`]: serde helpers writing undefined (non-finite) statistics as `null`.
//!
//! Statistics (intervals, nulls, tests) come from [`crate::stats`]; errors are
//! [`crate::AgentError`]'s probe variants. All randomness comes from an explicitly passed
//! seeded RNG; faer is built without rayon, so
//! results do not depend on the thread count.

pub mod dynamics;
pub mod fit_map;
pub mod homology;
pub mod json;
pub mod linalg;
pub mod lyapunov;
pub mod matrix;
pub mod mds;
pub mod mlp_decoder;
pub mod prep_shift;
pub mod recurrent;
pub mod similarity;
pub mod sysid;
pub mod topology;
pub mod torus;
pub mod tuning;

pub use matrix::Matrix;

/// The statistics module under its old path, for callers not yet switched to
/// [`crate::stats`] (to be removed once they are).
pub use crate::stats;
