//! The topology of a recurrent network's fixed-point scaffold (issue 18, item 3).
//!
//! Follows Sussillo & Barak (2013) and Maheswaranathan, Williams, Golub, Ganguli & Sussillo
//! (2019), "Universality and individuality in neural dynamics across large populations of
//! recurrent networks": under one constant input, find the fixed points
//! ([`super::dynamics::find_fixed_points`]) from the given initial states and then again from
//! the midpoints of every pair of stable points found (the index-1 saddles of a multistable
//! network lie between the stable points they separate, where trajectory-sampled starts
//! rarely go), classify them by their unstable-mode count (stable: 0; saddle of index `k`:
//! `0 < k < n`; source: all modes unstable), follow each saddle's unstable manifold both ways
//! (start at `h* ± ε v` for every real unstable eigenvector `v`, iterate the map until it
//! enters a stable point's neighbourhood or settles elsewhere), and
//! look for limit cycles (trajectories that stay bounded, keep moving, and come back near
//! where they were). The transitions define a multigraph on the stable points (an edge per
//! saddle branch pair that joins two of them). A network's [`Signature`] is, per input
//! condition, its counts by type and that graph up to isomorphism (a canonical form:
//! exact by enumeration for graphs up to [`MAX_EXACT_NODES`] nodes, a Weisfeiler–Lehman
//! invariant above); [`signature_distance`] is a metric on signatures.

use serde::{Deserialize, Serialize};

use super::dynamics::{find_fixed_points, FixedPointConfig, FixedPointSet, JacobianFn, MapFn};
use super::Matrix;
use crate::error::AgentError;

/// A branch that reached no known stable point but moves less than this per step at its end
/// (L2) has neared an attractor the search missed: its end seeds the next search round.
/// Ends still moving faster (on a limit cycle, or drifting through a slow region) do not.
pub const LOOSE_END_STEP: f64 = 1e-6;

/// Largest stable-point graph canonicalized exactly (by enumerating node orders within
/// degree classes); larger graphs get a Weisfeiler–Lehman invariant.
pub const MAX_EXACT_NODES: usize = 9;

/// Settings of the topology analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologyConfig {
    /// The fixed-point search.
    pub fixed_points: FixedPointConfig,
    /// Start of a manifold branch: `h* ± ε v` with `‖v‖ = 1`, in state units.
    pub branch_step: f64,
    /// Map iterations when following a branch or looking for a cycle.
    pub max_follow_steps: usize,
    /// A trajectory has settled when one step moves it less than this (L2).
    pub settle_tol: f64,
    /// A branch ends on a stable point when it comes within this distance (L2) of it: near
    /// an attracting point the rest of the way is a geometric approach that can take
    /// thousands of steps when its slowest mode has `|λ|` close to 1.
    pub match_tol: f64,
    /// Rounds of the second search (0: one search from the initial states only). A round
    /// searches from the midpoints of pairs of stable points found so far and from the ends
    /// of saddle branches that came to rest away from every known stable point (an attractor
    /// the initial states never visited; see [`LOOSE_END_STEP`]); rounds stop when one adds
    /// no point.
    pub discovery_rounds: usize,
    /// At most this many pairs of stable points seed a round (nearest pairs first).
    pub pair_seeds: usize,
    /// Iterations discarded before a trajectory is tested for a limit cycle.
    pub cycle_burn_in: usize,
    /// Longest cycle period looked for (steps).
    pub max_period: usize,
    /// A trajectory returns when it comes within this fraction of its amplitude of a
    /// previous state.
    pub return_tol: f64,
    /// A cycle must move at least this much (amplitude, L2) to count.
    pub min_amplitude: f64,
    /// Initial states (the first rows of the search's initial states) tried for cycles.
    pub cycle_starts: usize,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        Self {
            fixed_points: FixedPointConfig::default(),
            branch_step: 1e-3,
            max_follow_steps: 3000,
            settle_tol: 1e-9,
            match_tol: 1e-2,
            discovery_rounds: 3,
            pair_seeds: 200,
            cycle_burn_in: 2000,
            max_period: 400,
            return_tol: 0.05,
            min_amplitude: 1e-3,
            cycle_starts: 8,
        }
    }
}

/// What a fixed point is, by its unstable-mode count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "index")]
pub enum PointKind {
    /// No unstable mode.
    Stable,
    /// `k` unstable modes, `0 < k < n`.
    Saddle(usize),
    /// Every mode unstable.
    Source,
}

/// A fixed point in the scaffold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaffoldPoint {
    /// The state `[n]`.
    pub state: Vec<f64>,
    /// Its type.
    pub kind: PointKind,
    /// Eigenvalue moduli of the Jacobian, decreasing.
    pub moduli: Vec<f64>,
}

/// Where one branch of a saddle's unstable manifold went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    /// Index of the saddle in [`Scaffold::points`].
    pub saddle: usize,
    /// Index of the unstable eigenvector followed (0 = the most unstable real one).
    pub mode: usize,
    /// `+1` or `−1`: the direction along it.
    pub sign: i8,
    /// The stable point it settled on, if any.
    pub end: Option<usize>,
}

/// A limit cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitCycle {
    /// Steps per revolution (the first close return).
    pub period: usize,
    /// Largest distance of the orbit from its mean (L2).
    pub amplitude: f64,
    /// Mean state of the orbit `[n]`.
    pub centre: Vec<f64>,
    /// One state on the orbit `[n]`.
    pub state: Vec<f64>,
}

/// The scaffold under one constant input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaffold {
    /// Fixed points (stable, saddles, sources).
    pub points: Vec<ScaffoldPoint>,
    /// Every followed branch.
    pub branches: Vec<Branch>,
    /// Limit cycles found.
    pub cycles: Vec<LimitCycle>,
}

/// Counts and graph of one scaffold: the part of a signature for one input condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConditionSignature {
    /// Stable fixed points.
    pub stable: usize,
    /// Saddles by index: entry `k − 1` counts index-`k` saddles (no trailing zeros).
    pub saddles: Vec<usize>,
    /// Sources (all modes unstable).
    pub sources: usize,
    /// Limit cycles.
    pub cycles: usize,
    /// The stable-point transition multigraph up to isomorphism (see [`canonical_graph`]).
    pub graph: CanonicalGraph,
}

/// A network's signature: one entry per input condition, in the task's order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature {
    /// Per condition.
    pub conditions: Vec<ConditionSignature>,
}

impl Signature {
    /// A short text key, e.g. `s8 i12 ii6 iii1 c0 g[..]` per condition joined by ` | `.
    pub fn key(&self) -> String {
        self.conditions
            .iter()
            .map(|c| {
                let saddles: Vec<String> =
                    c.saddles.iter().enumerate().map(|(k, n)| format!("x{}={n}", k + 1)).collect();
                format!(
                    "stable={} {} src={} cyc={} graph={}",
                    c.stable,
                    if saddles.is_empty() { "saddles=0".into() } else { saddles.join(" ") },
                    c.sources,
                    c.cycles,
                    c.graph.short()
                )
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// A multigraph up to isomorphism.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CanonicalGraph {
    /// Nodes.
    pub nodes: usize,
    /// Edges (with multiplicity, self-loops included).
    pub edges: usize,
    /// Node degrees, decreasing (a self-loop adds 2).
    pub degrees: Vec<usize>,
    /// The canonical code: the upper triangle (diagonal included) of the adjacency-count
    /// matrix under the node order that makes it lexicographically largest (exact), or
    /// sorted Weisfeiler–Lehman colour counts (when `exact` is false).
    pub code: Vec<usize>,
    /// Whether `code` is a complete isomorphism invariant (≤ [`MAX_EXACT_NODES`] nodes).
    pub exact: bool,
}

impl CanonicalGraph {
    /// `n nodes, m edges, degrees`.
    pub fn short(&self) -> String {
        let d: Vec<String> = self.degrees.iter().map(|d| d.to_string()).collect();
        format!("{}n{}e[{}]", self.nodes, self.edges, d.join(","))
    }
}

/// Finds the scaffold of `map` (one constant input) from `initial_states` `[k, n]`.
pub fn scaffold(
    map: MapFn<'_>,
    jacobian: Option<JacobianFn<'_>>,
    initial_states: &Matrix,
    config: &TopologyConfig,
) -> Result<Scaffold, AgentError> {
    let mut set = find_fixed_points(map, jacobian, initial_states, &config.fixed_points)?;
    let n = initial_states.cols();
    for _ in 0..config.discovery_rounds {
        let mut seeds = pair_midpoints(&set, config.pair_seeds);
        let (_, loose_ends) = follow_branches(map, jacobian, &scaffold_points(&set, n), config)?;
        seeds.extend(loose_ends);
        if seeds.is_empty() {
            break;
        }
        let before = set.points.len();
        let more = find_fixed_points(map, jacobian, &Matrix::from_rows(&seeds)?, &config.fixed_points)?;
        merge_points(&mut set, more, initial_states, &config.fixed_points);
        if set.points.len() == before {
            break;
        }
    }
    scaffold_from_set(map, jacobian, &set, initial_states, config)
}

/// Midpoints of the pairs of stable points of `set`, nearest pairs first, at most `max`.
fn pair_midpoints(set: &FixedPointSet, max: usize) -> Vec<Vec<f64>> {
    let stable: Vec<&[f64]> = set.points.iter().filter(|p| p.n_unstable == 0).map(|p| &p.state[..]).collect();
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for a in 0..stable.len() {
        for b in a + 1..stable.len() {
            pairs.push((dist(stable[a], stable[b]), a, b));
        }
    }
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
    pairs.truncate(max);
    pairs.iter().map(|&(_, a, b)| stable[a].iter().zip(stable[b]).map(|(x, y)| 0.5 * (x + y)).collect()).collect()
}

/// Adds the points of `more` that are new (farther than `tol_unique` from every point of
/// `set`) and not outliers with respect to the original `initial_states` (the same rule as
/// the first search), keeping `set`'s order by increasing `q`.
fn merge_points(set: &mut FixedPointSet, more: FixedPointSet, initial_states: &Matrix, cfg: &FixedPointConfig) {
    let n_init = initial_states.rows();
    let centroid = super::linalg::column_means(initial_states);
    let spread = (0..n_init).map(|i| dist(initial_states.row(i), &centroid)).sum::<f64>() / n_init as f64;
    set.n_initial += more.n_initial;
    set.n_not_converged += more.n_not_converged;
    set.n_duplicates += more.n_duplicates;
    set.n_outliers += more.n_outliers;
    for p in more.points {
        if spread > 0.0 && dist(&p.state, &centroid) > cfg.outlier_distance_scale * spread {
            set.n_outliers += 1;
        } else if set.points.iter().any(|q| dist(&q.state, &p.state) <= cfg.tol_unique) {
            set.n_duplicates += 1;
        } else {
            set.points.push(p);
        }
    }
    set.points.sort_by(|a, b| a.q.total_cmp(&b.q));
}

/// [`scaffold`] from fixed points already found (`set`, from `initial_states`).
pub fn scaffold_from_set(
    map: MapFn<'_>,
    jacobian: Option<JacobianFn<'_>>,
    set: &FixedPointSet,
    initial_states: &Matrix,
    config: &TopologyConfig,
) -> Result<Scaffold, AgentError> {
    let points = scaffold_points(set, initial_states.cols());
    let (branches, _) = follow_branches(map, jacobian, &points, config)?;
    let cycles = find_cycles(map, initial_states, config);
    Ok(Scaffold { points, branches, cycles })
}

/// The points of `set` typed by their unstable-mode count (`n` dimensions).
fn scaffold_points(set: &FixedPointSet, n: usize) -> Vec<ScaffoldPoint> {
    set.points
        .iter()
        .map(|p| ScaffoldPoint {
            state: p.state.clone(),
            kind: match p.n_unstable {
                0 => PointKind::Stable,
                k if k == n => PointKind::Source,
                k => PointKind::Saddle(k),
            },
            moduli: p.eigenvalues.iter().map(|e| e.modulus()).collect(),
        })
        .collect()
}

/// Follows both branches of every real unstable mode of every saddle in `points`: the
/// branches, and the last states of those that reached no stable point of `points`.
fn follow_branches(
    map: MapFn<'_>,
    jacobian: Option<JacobianFn<'_>>,
    points: &[ScaffoldPoint],
    config: &TopologyConfig,
) -> Result<(Vec<Branch>, Vec<Vec<f64>>), AgentError> {
    let targets: Vec<(usize, &[f64])> =
        (0..points.len()).filter(|&k| points[k].kind == PointKind::Stable).map(|k| (k, &points[k].state[..])).collect();
    let (mut branches, mut loose) = (Vec::new(), Vec::new());
    for (si, p) in points.iter().enumerate() {
        if !matches!(p.kind, PointKind::Saddle(_)) {
            continue;
        }
        let jac = match jacobian {
            Some(j) => j(&p.state),
            None => super::dynamics::finite_difference_jacobian(map, &p.state, config.fixed_points.fd_step),
        };
        for (mode, v) in unstable_real_eigenvectors(&jac)?.into_iter().enumerate() {
            for sign in [1i8, -1] {
                let start: Vec<f64> =
                    p.state.iter().zip(&v).map(|(h, v)| h + f64::from(sign) * config.branch_step * v).collect();
                let (end, last, step) = follow(map, &start, &targets, config);
                if end.is_none() && step < LOOSE_END_STEP && last.iter().all(|v| v.is_finite()) {
                    loose.push(last);
                }
                branches.push(Branch { saddle: si, mode, sign, end });
            }
        }
    }
    Ok((branches, loose))
}

/// Unit real eigenvectors of `jac` whose eigenvalues are real with `|λ| > 1`, most unstable
/// first. Complex unstable pairs (spirals) have no one-dimensional branch and are skipped.
fn unstable_real_eigenvectors(jac: &Matrix) -> Result<Vec<Vec<f64>>, AgentError> {
    /// Imaginary parts below this (relative to `|λ|`) count as real.
    const REAL_TOL: f64 = 1e-9;
    let n = jac.rows();
    let evd = jac.to_faer().eigen().map_err(|_| AgentError::NoConvergence {
        context: "topology unstable manifolds",
        decomposition: "eigendecomposition",
    })?;
    let s = evd.S().column_vector();
    let u = evd.U();
    let mut found: Vec<(f64, Vec<f64>)> = Vec::new();
    for i in 0..n {
        let lam = s[i];
        let m = lam.re.hypot(lam.im);
        if m <= 1.0 || lam.im.abs() > REAL_TOL * m.max(1.0) {
            continue;
        }
        let v: Vec<f64> = (0..n).map(|r| u[(r, i)].re).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            found.push((m, v.iter().map(|x| x / norm).collect()));
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(found.into_iter().map(|(_, v)| v).collect())
}

/// Iterates `map` from `h` until it comes within `match_tol` of one of the stable points
/// `targets` (`(index, state)`): that index, the last state and the last step's length.
/// `None` if it settles elsewhere (a step shorter than `settle_tol`, away from every
/// target), never settles (a cycle, chaos, escape), or leaves the finite numbers.
fn follow(
    map: MapFn<'_>,
    h: &[f64],
    targets: &[(usize, &[f64])],
    config: &TopologyConfig,
) -> (Option<usize>, Vec<f64>, f64) {
    let near = |h: &[f64]| {
        targets
            .iter()
            .map(|&(k, s)| (k, dist(s, h)))
            .filter(|&(_, d)| d <= config.match_tol)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
    };
    let (mut h, mut step) = (h.to_vec(), f64::INFINITY);
    for _ in 0..config.max_follow_steps {
        let next = map(&h);
        if next.iter().any(|v| !v.is_finite()) {
            return (None, next, f64::INFINITY);
        }
        step = dist(&next, &h);
        h = next;
        if let Some(k) = near(&h) {
            return (Some(k), h, step);
        }
        if step < config.settle_tol {
            break;
        }
    }
    (None, h, step)
}

/// Limit cycles reached from the first `cycle_starts` initial states, deduplicated.
fn find_cycles(map: MapFn<'_>, initial_states: &Matrix, config: &TopologyConfig) -> Vec<LimitCycle> {
    let mut cycles: Vec<(LimitCycle, Vec<Vec<f64>>)> = Vec::new();
    for i in 0..initial_states.rows().min(config.cycle_starts) {
        let mut h = initial_states.row(i).to_vec();
        let mut ok = true;
        for _ in 0..config.cycle_burn_in {
            h = map(&h);
            if h.iter().any(|v| !v.is_finite()) {
                ok = false;
                break;
            }
        }
        if !ok {
            continue;
        }
        // One window of 2 × max_period steps after the burn-in.
        let mut orbit = vec![h.clone()];
        for _ in 0..2 * config.max_period {
            h = map(&h);
            orbit.push(h.clone());
        }
        if orbit.iter().flatten().any(|v| !v.is_finite()) {
            continue;
        }
        let n = h.len();
        let centre: Vec<f64> = (0..n).map(|j| orbit.iter().map(|s| s[j]).sum::<f64>() / orbit.len() as f64).collect();
        let amplitude = orbit.iter().map(|s| dist(s, &centre)).fold(0.0, f64::max);
        if amplitude < config.min_amplitude || dist(&orbit[1], &orbit[0]) < config.settle_tol {
            continue;
        }
        // The first lag at which the orbit comes back near its first state, after having
        // gone away from it (at least half the amplitude).
        let tol = config.return_tol * amplitude;
        let mut left = false;
        let mut period = None;
        for (lag, s) in orbit.iter().enumerate().skip(1).take(config.max_period) {
            let d = dist(s, &orbit[0]);
            if d > 0.5 * amplitude {
                left = true;
            } else if left && d < tol {
                period = Some(lag);
                break;
            }
        }
        let Some(period) = period else { continue };
        // The same cycle as one already found: its state lies near that orbit.
        let state = orbit[0].clone();
        // (within one step of it: a sparse orbit's points lie a step apart).
        if cycles.iter().any(|(_, o)| {
            let step = o.windows(2).map(|w| dist(&w[0], &w[1])).fold(tol, f64::max);
            o.iter().any(|s| dist(s, &state) <= step)
        }) {
            continue;
        }
        cycles.push((LimitCycle { period, amplitude, centre, state }, orbit));
    }
    cycles.into_iter().map(|(c, _)| c).collect()
}

/// The counts and graph of a scaffold.
pub fn condition_signature(s: &Scaffold) -> ConditionSignature {
    let stable_idx: Vec<usize> = (0..s.points.len()).filter(|&i| s.points[i].kind == PointKind::Stable).collect();
    let mut saddles = Vec::new();
    let mut sources = 0;
    for p in &s.points {
        match p.kind {
            PointKind::Saddle(k) => {
                if saddles.len() < k {
                    saddles.resize(k, 0);
                }
                saddles[k - 1] += 1;
            }
            PointKind::Source => sources += 1,
            PointKind::Stable => {}
        }
    }
    // An edge per index-1 saddle whose two branches end on stable points (higher-index
    // saddles connect saddles, and a repeated unstable eigenvalue makes their branch
    // directions arbitrary).
    let node = |k: usize| stable_idx.iter().position(|&s| s == k);
    let mut edges = Vec::new();
    for (a, b) in s.branches.iter().zip(s.branches.iter().skip(1)) {
        let index_one = s.points[a.saddle].kind == PointKind::Saddle(1);
        if index_one && a.saddle == b.saddle && a.mode == b.mode && a.sign == 1 && b.sign == -1 {
            if let (Some(x), Some(y)) = (a.end.and_then(node), b.end.and_then(node)) {
                edges.push((x, y));
            }
        }
    }
    ConditionSignature {
        stable: stable_idx.len(),
        saddles,
        sources,
        cycles: s.cycles.len(),
        graph: canonical_graph(stable_idx.len(), &edges),
    }
}

/// The canonical form of the multigraph on `nodes` nodes with `edges` (pairs of node
/// indices; `(a, a)` is a self-loop).
pub fn canonical_graph(nodes: usize, edges: &[(usize, usize)]) -> CanonicalGraph {
    let mut adj = vec![0usize; nodes * nodes];
    let mut deg = vec![0usize; nodes];
    for &(a, b) in edges {
        adj[a * nodes + b] += 1;
        if a != b {
            adj[b * nodes + a] += 1;
        }
        deg[a] += 1;
        deg[b] += 1;
    }
    let mut degrees = deg.clone();
    degrees.sort_unstable_by(|a, b| b.cmp(a));
    let (code, exact) = if nodes <= MAX_EXACT_NODES {
        (exact_code(nodes, &adj, &deg), true)
    } else {
        (wl_code(nodes, &adj, &deg), false)
    };
    CanonicalGraph { nodes, edges: edges.len(), degrees, code, exact }
}

fn code_of(nodes: usize, adj: &[usize], order: &[usize]) -> Vec<usize> {
    let mut c = Vec::with_capacity(nodes * (nodes + 1) / 2);
    for i in 0..nodes {
        for j in i..nodes {
            c.push(adj[order[i] * nodes + order[j]]);
        }
    }
    c
}

/// The lexicographically largest code over node orders that list nodes by decreasing degree
/// (isomorphisms preserve degrees, so this is a complete invariant).
fn exact_code(nodes: usize, adj: &[usize], deg: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..nodes).collect();
    order.sort_by(|&a, &b| deg[b].cmp(&deg[a]));
    // Degree classes: runs of equal degree in `order`.
    let mut classes: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < nodes {
        let mut j = i;
        while j < nodes && deg[order[j]] == deg[order[i]] {
            j += 1;
        }
        classes.push((i, j));
        i = j;
    }
    let mut best = code_of(nodes, adj, &order);
    permute_classes(&mut order, &classes, 0, nodes, adj, &mut best);
    best
}

/// Every order obtained by permuting within each class (Heap's algorithm per class, nested).
fn permute_classes(
    order: &mut Vec<usize>,
    classes: &[(usize, usize)],
    ci: usize,
    nodes: usize,
    adj: &[usize],
    best: &mut Vec<usize>,
) {
    if ci == classes.len() {
        let c = code_of(nodes, adj, order);
        if c > *best {
            *best = c;
        }
        return;
    }
    let (lo, hi) = classes[ci];
    let k = hi - lo;
    // Heap's algorithm, iterative, over order[lo..hi].
    let mut cnt = vec![0usize; k];
    permute_classes(order, classes, ci + 1, nodes, adj, best);
    let mut i = 1;
    while i < k {
        if cnt[i] < i {
            let j = if i % 2 == 0 { 0 } else { cnt[i] };
            order.swap(lo + j, lo + i);
            permute_classes(order, classes, ci + 1, nodes, adj, best);
            cnt[i] += 1;
            i = 1;
        } else {
            cnt[i] = 0;
            i += 1;
        }
    }
}

/// Sorted Weisfeiler–Lehman colours after three refinements (an invariant, not complete).
fn wl_code(nodes: usize, adj: &[usize], deg: &[usize]) -> Vec<usize> {
    let mut colour: Vec<usize> = deg.to_vec();
    for _ in 0..3 {
        let sigs: Vec<(usize, Vec<(usize, usize)>)> = (0..nodes)
            .map(|a| {
                let mut nb: Vec<(usize, usize)> =
                    (0..nodes).filter(|&b| adj[a * nodes + b] > 0).map(|b| (colour[b], adj[a * nodes + b])).collect();
                nb.sort_unstable();
                (colour[a], nb)
            })
            .collect();
        let mut uniq = sigs.clone();
        uniq.sort();
        uniq.dedup();
        colour = sigs.iter().map(|s| uniq.binary_search(s).unwrap_or(0)).collect();
    }
    let mut counts = vec![0usize; nodes];
    for c in colour {
        counts[c] += 1;
    }
    counts
}

/// Distance between two signatures, a metric: summed over conditions (a missing condition
/// counts as an empty scaffold), the L1 distance of the count vectors (stable, saddles by
/// index, sources, cycles) plus the L1 distance of the sorted, zero-padded degree sequences
/// plus 1 when the graphs are not isomorphic. 0 iff the signatures are equal.
pub fn signature_distance(a: &Signature, b: &Signature) -> f64 {
    let empty =
        ConditionSignature { stable: 0, saddles: Vec::new(), sources: 0, cycles: 0, graph: canonical_graph(0, &[]) };
    let n = a.conditions.len().max(b.conditions.len());
    let mut d = 0usize;
    for i in 0..n {
        let x = a.conditions.get(i).unwrap_or(&empty);
        let y = b.conditions.get(i).unwrap_or(&empty);
        d += x.stable.abs_diff(y.stable) + x.sources.abs_diff(y.sources) + x.cycles.abs_diff(y.cycles);
        for k in 0..x.saddles.len().max(y.saddles.len()) {
            d += x.saddles.get(k).copied().unwrap_or(0).abs_diff(y.saddles.get(k).copied().unwrap_or(0));
        }
        for k in 0..x.graph.degrees.len().max(y.graph.degrees.len()) {
            d += x.graph.degrees.get(k).copied().unwrap_or(0).abs_diff(y.graph.degrees.get(k).copied().unwrap_or(0));
        }
        if x.graph != y.graph {
            d += 1;
        }
    }
    d as f64
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 3-bit flip-flop scaffold by hand: three self-exciting tanh units (`w = 2`, so
    /// `x = tanh(2x)` has roots `0, ±x*`) plus two decaying units. Its 27 fixed points are the
    /// corners (8 stable), edge midpoints (12 index-1 saddles), face centres (6 index-2
    /// saddles) and the origin (a source in the three bistable directions, index 3 of 5).
    fn flip_flop_map(h: &[f64]) -> Vec<f64> {
        let w = [2.0, 2.0, 2.0, 0.5, 0.3];
        // A weak coupling of the decaying units to the bistable ones, so the map is not a
        // product of identical copies.
        let mut out: Vec<f64> = h.iter().zip(w).map(|(x, w)| (w * x).tanh()).collect();
        out[3] = (0.5 * h[3] + 0.1 * h[0]).tanh();
        out[4] = (0.3 * h[4] + 0.1 * h[1] - 0.1 * h[2]).tanh();
        out
    }

    fn grid_starts() -> Matrix {
        // 5^3 starts over the bistable cube, decaying units at 0.
        let vals = [-1.2, -0.6, 0.0, 0.6, 1.2];
        let mut rows = Vec::new();
        for a in vals {
            for b in vals {
                for c in vals {
                    rows.push(vec![a, b, c, 0.0, 0.0]);
                }
            }
        }
        Matrix::from_rows(&rows).unwrap()
    }

    #[test]
    fn flip_flop_scaffold_recovers_the_cube() {
        let sc = scaffold(&flip_flop_map, None, &grid_starts(), &TopologyConfig::default()).unwrap();
        let sig = condition_signature(&sc);
        // Index 3 of 5 dimensions: the origin is a saddle of index 3, not a source.
        assert_eq!((sig.stable, sig.saddles.clone(), sig.sources, sig.cycles), (8, vec![12, 6, 1], 0, 0), "{sig:?}");
        // Every index-1 saddle's two branches end on the two corners of its edge.
        for b in sc.branches.iter().filter(|b| sc.points[b.saddle].kind == PointKind::Saddle(1)) {
            let end = b.end.expect("index-1 branch ends on a stable point");
            let (s, e) = (&sc.points[b.saddle].state, &sc.points[end].state);
            let zero = (0..3).find(|&k| s[k].abs() < 1e-6).unwrap();
            for k in (0..3).filter(|&k| k != zero) {
                assert!((s[k] - e[k]).abs() < 1e-6, "saddle {s:?} → {e:?}");
            }
            assert!(e[zero].abs() > 0.9);
        }
        // The transition graph is the cube Q3.
        let cube: Vec<(usize, usize)> =
            (0..8usize).flat_map(|a| (0..3).map(move |k| (a, a ^ (1 << k)))).filter(|(a, b)| a < b).collect();
        let q3 = canonical_graph(8, &cube);
        assert_eq!(sig.graph, q3);
        assert_eq!((q3.edges, q3.degrees.clone(), q3.exact), (12, vec![3; 8], true));
        // A ring of 8 has the same counts and degrees but is not the cube.
        let ring: Vec<(usize, usize)> = (0..8).map(|a| (a, (a + 1) % 8)).collect();
        assert_ne!(canonical_graph(8, &ring).code, canonical_graph(8, &cube).code);
    }

    #[test]
    fn pair_seeds_find_the_saddles_that_corner_starts_miss() {
        // Starts only at the 8 corners: the first search finds the stable points alone; the
        // midpoint search finds the 12 edge saddles, 6 face saddles and the origin.
        let corners: Vec<Vec<f64>> = (0..8)
            .map(|k| {
                let c = |bit: usize| if k >> bit & 1 == 1 { 1.2 } else { -1.2 };
                vec![c(0), c(1), c(2), 0.0, 0.0]
            })
            .collect();
        let starts = Matrix::from_rows(&corners).unwrap();
        let off = TopologyConfig { discovery_rounds: 0, ..TopologyConfig::default() };
        let sig = condition_signature(&scaffold(&flip_flop_map, None, &starts, &off).unwrap());
        assert_eq!((sig.stable, sig.saddles.clone(), sig.graph.edges), (8, vec![], 0), "{sig:?}");
        let sig = condition_signature(&scaffold(&flip_flop_map, None, &starts, &TopologyConfig::default()).unwrap());
        assert_eq!((sig.stable, sig.saddles.clone(), sig.sources), (8, vec![12, 6, 1], 0), "{sig:?}");
        let cube: Vec<(usize, usize)> =
            (0..8usize).flat_map(|a| (0..3).map(move |k| (a, a ^ (1 << k)))).filter(|(a, b)| a < b).collect();
        assert_eq!(sig.graph, canonical_graph(8, &cube));
        // Without one corner among the starts, the saddle branches lead to it.
        let seven = Matrix::from_rows(&corners[1..]).unwrap();
        let sig = condition_signature(&scaffold(&flip_flop_map, None, &seven, &TopologyConfig::default()).unwrap());
        assert_eq!((sig.stable, sig.saddles.clone()), (8, vec![12, 6, 1]), "{sig:?}");
        assert_eq!(sig.graph, canonical_graph(8, &cube));
    }

    #[test]
    fn canonical_form_ignores_node_labels() {
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 3), (3, 4), (4, 4)];
        let perm = [3, 0, 4, 1, 2];
        let relabelled: Vec<(usize, usize)> = edges.iter().map(|&(a, b)| (perm[b], perm[a])).collect();
        assert_eq!(canonical_graph(5, &edges), canonical_graph(5, &relabelled));
        let mut other = edges.to_vec();
        other[6] = (4, 0);
        assert_ne!(canonical_graph(5, &edges), canonical_graph(5, &other));
    }

    /// A rotation by `ω` with radial saturation towards `r = 1`:
    /// `h' = R(ω) h (1 + μ (1 − |h|²))`, plus a decaying third unit.
    fn oscillator(h: &[f64]) -> Vec<f64> {
        const OMEGA: f64 = 0.3;
        const MU: f64 = 0.2;
        let g = 1.0 + MU * (1.0 - h[0] * h[0] - h[1] * h[1]);
        let (c, s) = (OMEGA.cos(), OMEGA.sin());
        vec![g * (c * h[0] - s * h[1]), g * (s * h[0] + c * h[1]), 0.5 * h[2] + 0.1 * h[0]]
    }

    #[test]
    fn oscillator_has_one_limit_cycle_around_a_spiral_source() {
        let starts = Matrix::from_rows(&[
            vec![0.1, 0.0, 0.0],
            vec![0.0, 1.5, 0.2],
            vec![-0.7, -0.7, -0.3],
            vec![1.2, -0.4, 0.0],
            vec![0.02, 0.05, 0.1],
        ])
        .unwrap();
        let sc = scaffold(&oscillator, None, &starts, &TopologyConfig::default()).unwrap();
        let sig = condition_signature(&sc);
        assert_eq!(sig.cycles, 1, "{:?}", sc.cycles);
        // The origin: a spiral with two unstable (complex) modes of three: a saddle of index 2
        // whose unstable plane has no real branch.
        assert_eq!((sig.stable, sig.saddles.clone(), sig.sources), (0, vec![0, 1], 0));
        let c = &sc.cycles[0];
        // 2π / ω = 20.94 steps: the first close return is at 21.
        assert_eq!(c.period, 21);
        assert!((c.amplitude - 1.0).abs() < 0.05, "{c:?}");
    }

    #[test]
    fn signature_distance_is_a_metric_on_examples() {
        let sig = |stable: usize, saddles: Vec<usize>, edges: &[(usize, usize)]| Signature {
            conditions: vec![ConditionSignature {
                stable,
                saddles,
                sources: 0,
                cycles: 0,
                graph: canonical_graph(stable, edges),
            }],
        };
        let a = sig(2, vec![1], &[(0, 1)]);
        let b = sig(3, vec![2], &[(0, 1), (1, 2)]);
        let c = sig(3, vec![2], &[(0, 1), (0, 1)]);
        assert_eq!(signature_distance(&a, &a), 0.0);
        assert_eq!(signature_distance(&a, &b), signature_distance(&b, &a));
        // counts 1 + 1, degrees [1,1] vs [2,1,1]: 1 + 0 + 1, graphs differ: 1.
        assert_eq!(signature_distance(&a, &b), 5.0);
        // Same counts, degrees [2,2] vs [2,1,1] padded: |0|+|1|+|1| ... differ.
        assert!(signature_distance(&b, &c) > 0.0);
        for (x, y, z) in [(&a, &b, &c), (&b, &c, &a), (&c, &a, &b)] {
            assert!(signature_distance(x, z) <= signature_distance(x, y) + signature_distance(y, z));
        }
    }
}
