//! Persistent homology of a point cloud by the Vietoris–Rips filtration, over Z/2, in
//! dimensions 0, 1 and 2 (simplices up to dimension 3), by the standard column reduction
//! with clearing (Edelsbrunner, Letscher & Zomorodian 2002; Chen & Kerber 2011), written
//! out here rather than taken from a crate because the clouds are small (~150 points).
//!
//! The filtration is truncated at `cap` (edges longer than `cap` never enter); a class
//! still alive at `cap` gets `death = ∞`. Sizes: a subsample by greedy max–min (farthest
//! point) selection keeps the complex small and the sampling even; its covering radius `δ`
//! (every cloud point lies within `δ` of the subsample) is the scale unit of
//! [`HomologyConfig`]. Betti numbers are counted as bars of persistence ≥
//! `min_persistence · δ` that are still alive at `min_death · δ` (an essential bar's
//! persistence is `cap − birth`), so sampling noise is not counted.
//!
//! Why a death threshold of 3δ and not 2δ: `δ` measures how well the subsample covers the
//! *cloud*, not the manifold the cloud samples. A cloud recorded on an orientation grid has
//! gaps of its own: a standard torus (R = 2, r = 1) on a 16 × 16 grid has outer-rim spacing
//! 2π·3/16 ≈ 1.18 ≈ 2.4δ, and the holes the grid leaves there are H1 classes of persistence
//! up to 1.2δ that die at 2.8–2.9δ; on a 24 × 24 grid they die by 2.4δ. A real circle of
//! radius r dies at ≈ √3·r in the Rips filtration (the inscribed equilateral triangle;
//! Adamaszek & Adams 2017), 3.2–3.8δ for the r = 1 circles of those tori, and the standard
//! torus's void dies at 3.6–4.1δ (measured over 6–12 draws each; see the tests).

use super::matrix::Matrix;
use crate::error::AgentError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Settings of [`cloud_homology`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HomologyConfig {
    /// Points kept by max–min subsampling (all when the cloud is smaller), ≥ 8.
    pub n_points: usize,
    /// Filtration cap in units of the covering radius `δ`, > 0.
    pub cap: f64,
    /// Persistence a bar needs to count, in units of `δ`, > 0.
    pub min_persistence: f64,
    /// Where a counted bar must still be alive, in units of `δ`, in (0, `cap`) (module docs).
    pub min_death: f64,
    /// Largest number of simplices (all dimensions) the complex may hold.
    pub max_simplices: usize,
}

impl Default for HomologyConfig {
    fn default() -> Self {
        Self { n_points: 150, cap: 4.5, min_persistence: 1.0, min_death: 3.0, max_simplices: 3_000_000 }
    }
}

/// One persistence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// Homology dimension (0, 1, 2).
    pub dim: usize,
    /// Filtration value (edge length) where the class is born.
    pub birth: f64,
    /// Where it dies; `f64::INFINITY` when alive at the cap (written as `null` in JSON).
    #[serde(with = "super::json::f64_or_null")]
    pub death: f64,
}

/// The result of [`cloud_homology`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Homology {
    /// Points in the subsample.
    pub n_points: usize,
    /// Covering radius `δ` of the subsample.
    pub delta: f64,
    /// The filtration cap (absolute).
    pub cap: f64,
    /// Simplices per dimension 0..=3.
    pub n_simplices: [usize; 4],
    /// Bars of persistence > 0, per dimension, longest first.
    pub bars: Vec<Bar>,
    /// Betti numbers 0, 1, 2 (bars of persistence ≥ `min_persistence · δ` alive at
    /// `min_death · δ`).
    pub betti: [usize; 3],
}

/// Greedy max–min subsample of the rows of `x`, starting from row 0: indices and the
/// covering radius (the largest distance of any row to the subsample). Stops early when every
/// remaining row coincides with a chosen one (duplicates, e.g. saturated units), so the
/// subsample holds distinct points only.
pub fn maxmin_subsample(x: &Matrix, m: usize) -> (Vec<usize>, f64) {
    let n = x.rows();
    let m = m.min(n);
    let mut chosen = vec![0usize];
    let mut dmin: Vec<f64> = (0..n).map(|i| dist(x.row(i), x.row(0))).collect();
    while chosen.len() < m {
        let (far, d_far) = dmin.iter().enumerate().fold((0, -1.0), |b, (i, &d)| if d > b.1 { (i, d) } else { b });
        if d_far <= 0.0 {
            break;
        }
        chosen.push(far);
        for (i, d) in dmin.iter_mut().enumerate() {
            *d = d.min(dist(x.row(i), x.row(far)));
        }
    }
    let cover = dmin.iter().cloned().fold(0.0, f64::max);
    (chosen, cover)
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt()
}

/// A column of a Z/2 boundary matrix: sorted row indices.
type Column = Vec<u32>;

/// `a ← a + b` over Z/2 (symmetric difference of sorted lists).
fn add_into(a: &mut Column, b: &Column, tmp: &mut Column) {
    tmp.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                tmp.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                tmp.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    tmp.extend_from_slice(&a[i..]);
    tmp.extend_from_slice(&b[j..]);
    std::mem::swap(a, tmp);
}

/// Reduces the boundary columns (in filtration order; rows are the faces' filtration
/// positions), skipping `cleared` columns. Returns `pivot_of_row[row] = Some(column)`.
fn reduce(cols: &mut [Column], cleared: &[bool]) -> Vec<Option<u32>> {
    let rows = cols.iter().flat_map(|c| c.last().copied()).max().map_or(0, |r| r as usize + 1);
    let mut pivot: Vec<Option<u32>> = vec![None; rows];
    let mut tmp = Vec::new();
    for j in 0..cols.len() {
        if cleared.get(j).copied().unwrap_or(false) {
            cols[j].clear();
            continue;
        }
        while let Some(&low) = cols[j].last() {
            match pivot[low as usize] {
                Some(k) => {
                    let other = std::mem::take(&mut cols[k as usize]);
                    add_into(&mut cols[j], &other, &mut tmp);
                    cols[k as usize] = other;
                }
                None => {
                    pivot[low as usize] = Some(j as u32);
                    break;
                }
            }
        }
    }
    pivot
}

/// Vietoris–Rips persistence of `points` (all rows) up to `cap`, dimensions 0–2.
pub fn rips_persistence(points: &Matrix, cap: f64, max_simplices: usize) -> Result<(Vec<Bar>, [usize; 4]), AgentError> {
    let m = points.rows();
    let mut d = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            d[i * m + j] = dist(points.row(i), points.row(j));
        }
    }
    let adj = |i: usize, j: usize| d[i * m + j] <= cap;
    let key = |v: f64| v.to_bits();
    // Edges, triangles, tetrahedra with their filtration values, sorted (value, lex).
    let mut edges: Vec<(f64, [u32; 2])> = vec![];
    for i in 0..m {
        for j in i + 1..m {
            if adj(i, j) {
                edges.push((d[i * m + j], [i as u32, j as u32]));
            }
        }
    }
    let nbrs: Vec<Vec<usize>> = (0..m).map(|i| (i + 1..m).filter(|&j| adj(i, j)).collect()).collect();
    let mut tris: Vec<(f64, [u32; 3])> = vec![];
    let mut tets: Vec<(f64, [u32; 4])> = vec![];
    for i in 0..m {
        for (a, &j) in nbrs[i].iter().enumerate() {
            for &k in &nbrs[i][a + 1..] {
                if !adj(j, k) {
                    continue;
                }
                let v3 = d[i * m + j].max(d[i * m + k]).max(d[j * m + k]);
                tris.push((v3, [i as u32, j as u32, k as u32]));
                for &l in nbrs[k].iter() {
                    if adj(i, l) && adj(j, l) {
                        let v4 = v3.max(d[i * m + l]).max(d[j * m + l]).max(d[k * m + l]);
                        tets.push((v4, [i as u32, j as u32, k as u32, l as u32]));
                    }
                }
                if m + edges.len() + tris.len() + tets.len() > max_simplices {
                    return Err(AgentError::Probe(format!(
                        "homology: the Rips complex at cap {cap:.4} exceeds max_simplices = {max_simplices}; \
                         lower the cap or the number of points ({m})"
                    )));
                }
            }
        }
    }
    edges.sort_by(|a, b| key(a.0).cmp(&key(b.0)).then(a.1.cmp(&b.1)));
    tris.sort_by(|a, b| key(a.0).cmp(&key(b.0)).then(a.1.cmp(&b.1)));
    tets.sort_by(|a, b| key(a.0).cmp(&key(b.0)).then(a.1.cmp(&b.1)));
    let edge_ix: HashMap<[u32; 2], u32> = edges.iter().enumerate().map(|(k, e)| (e.1, k as u32)).collect();
    let tri_ix: HashMap<[u32; 3], u32> = tris.iter().enumerate().map(|(k, t)| (t.1, k as u32)).collect();
    let sorted = |mut v: Vec<u32>| {
        v.sort_unstable();
        v
    };
    let mut d3: Vec<Column> = tets
        .iter()
        .map(|(_, [a, b, c, e])| {
            sorted(vec![tri_ix[&[*b, *c, *e]], tri_ix[&[*a, *c, *e]], tri_ix[&[*a, *b, *e]], tri_ix[&[*a, *b, *c]]])
        })
        .collect();
    let mut d2: Vec<Column> = tris
        .iter()
        .map(|(_, [a, b, c])| sorted(vec![edge_ix[&[*b, *c]], edge_ix[&[*a, *c]], edge_ix[&[*a, *b]]]))
        .collect();
    let mut d1: Vec<Column> = edges.iter().map(|(_, [a, b])| vec![*a, *b]).collect();
    // Clearing: a simplex that is some higher column's pivot has a zero reduced column.
    let p3 = reduce(&mut d3, &[]);
    let cleared2: Vec<bool> = (0..tris.len()).map(|t| p3.get(t).copied().flatten().is_some()).collect();
    let p2 = reduce(&mut d2, &cleared2);
    let cleared1: Vec<bool> = (0..edges.len()).map(|e| p2.get(e).copied().flatten().is_some()).collect();
    let p1 = reduce(&mut d1, &cleared1);
    let mut bars = vec![];
    // Dimension k: a k-simplex whose reduced column is zero is born; it dies at the
    // (k+1)-simplex whose pivot it is, or never.
    let births0 = (0..m).map(|_| 0.0);
    for (v, b) in births0.enumerate() {
        let death = p1.get(v).copied().flatten().map_or(f64::INFINITY, |e| edges[e as usize].0);
        bars.push(Bar { dim: 0, birth: b, death });
    }
    for (e, c) in d1.iter().enumerate() {
        if c.is_empty() {
            let death = p2.get(e).copied().flatten().map_or(f64::INFINITY, |t| tris[t as usize].0);
            bars.push(Bar { dim: 1, birth: edges[e].0, death });
        }
    }
    for (t, c) in d2.iter().enumerate() {
        if c.is_empty() {
            let death = p3.get(t).copied().flatten().map_or(f64::INFINITY, |q| tets[q as usize].0);
            bars.push(Bar { dim: 2, birth: tris[t].0, death });
        }
    }
    bars.retain(|b| b.death > b.birth);
    let pers = |b: &Bar| if b.death.is_finite() { b.death - b.birth } else { cap - b.birth + 1e300 };
    bars.sort_by(|a, b| a.dim.cmp(&b.dim).then(pers(b).total_cmp(&pers(a))));
    Ok((bars, [m, edges.len(), tris.len(), tets.len()]))
}

/// Subsamples `x` `[n, d]` by max–min, computes its Rips persistence up to `cfg.cap · δ` and
/// counts the Betti numbers (see the module docs).
pub fn cloud_homology(x: &Matrix, cfg: &HomologyConfig) -> Result<Homology, AgentError> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if cfg.n_points < 8 || !positive(cfg.cap) || !positive(cfg.min_persistence) || !positive(cfg.min_death) {
        return Err(AgentError::Probe(format!(
            "homology: n_points = {}, cap = {}, min_persistence = {}, min_death = {} (need ≥ 8, > 0, > 0, > 0)",
            cfg.n_points, cfg.cap, cfg.min_persistence, cfg.min_death
        )));
    }
    if cfg.min_death >= cfg.cap {
        return Err(AgentError::Probe(format!(
            "homology: min_death = {} must be below cap = {} (no bar could count)",
            cfg.min_death, cfg.cap
        )));
    }
    if x.rows() < 8 {
        return Err(AgentError::Probe(format!("homology: {} points (needs ≥ 8)", x.rows())));
    }
    if let Some(k) = x.first_non_finite() {
        return Err(AgentError::Probe(format!("homology: point entry {k} is not finite")));
    }
    let (idx, mut delta) = maxmin_subsample(x, cfg.n_points);
    if idx.len() < 8 {
        return Err(AgentError::Probe(format!(
            "homology: the cloud has {} distinct points of {} (needs ≥ 8)",
            idx.len(),
            x.rows()
        )));
    }
    if delta == 0.0 {
        // The whole cloud was kept: the scale unit is the largest nearest-neighbour distance.
        let sub = x.select_rows(&idx);
        delta = (0..sub.rows())
            .map(|i| (0..sub.rows()).filter(|&j| j != i).map(|j| dist(sub.row(i), sub.row(j))).fold(f64::MAX, f64::min))
            .fold(0.0, f64::max);
    }
    let sub = x.select_rows(&idx);
    let cap = cfg.cap * delta;
    let (bars, n_simplices) = rips_persistence(&sub, cap, cfg.max_simplices)?;
    let thr = cfg.min_persistence * delta;
    let mut betti = [0usize; 3];
    for b in &bars {
        let death = if b.death.is_finite() { b.death } else { cap };
        if death - b.birth >= thr && death > cfg.min_death * delta {
            betti[b.dim] += 1;
        }
    }
    Ok(Homology { n_points: idx.len(), delta, cap, n_simplices, bars, betti })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::torus::synthetic::torus;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    #[test]
    fn circle_and_sphere_have_their_betti_numbers() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let circle = Matrix::from_fn(60, 2, |i, j| {
            let a = 2.0 * std::f64::consts::PI * i as f64 / 60.0;
            [a.cos(), a.sin()][j]
        });
        let h = cloud_homology(&circle, &HomologyConfig { cap: 6.0, ..Default::default() }).unwrap();
        assert_eq!(h.betti, [1, 1, 0], "{:?}", &h.bars[..4.min(h.bars.len())]);
        let pts: Vec<Vec<f64>> = (0..400)
            .map(|_| {
                let v: Vec<f64> = (0..3).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
                let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                v.iter().map(|x| x / n).collect()
            })
            .collect();
        let sphere = Matrix::from_rows(&pts).unwrap();
        let h = cloud_homology(&sphere, &HomologyConfig { n_points: 100, ..Default::default() }).unwrap();
        assert_eq!(
            h.betti,
            [1, 0, 1],
            "{:?} delta {}",
            h.bars.iter().filter(|b| b.dim > 0).take(4).collect::<Vec<_>>(),
            h.delta
        );
    }

    /// Both tori, on the test grid (24 × 24 in R^30) and on the study's (16 × 16 in R^100):
    /// Betti (1, 2, 1), and the counted H1 bars are the r = 1 circles (alive
    /// until ≈ √3·r, or past the cap), not grid holes. Measured (δ units, 6–12 draws per grid):
    /// counted H1 deaths ≥ 3.2δ (standard) or essential (Clifford), H2 persistence ≥ 1.1δ;
    /// the longest uncounted H1 bar persists ≤ 1.2δ and dies by 2.9δ.
    #[test]
    fn clifford_and_standard_tori_have_betti_1_2_1() {
        const CIRCLE_DEATH: f64 = 1.732_050_807_568_877; // √3 · r, r = 1
        const DEATH_TOL: f64 = 0.05;
        let mut seen = vec![];
        for (grid, n, seed) in [(24, 30, 4), (16, 100, 6)] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for clifford in [true, false] {
                let g = torus(clifford, 2.0, 1.0, grid, grid, n, 0.02, &mut rng);
                let h = cloud_homology(&g.states, &HomologyConfig::default()).unwrap();
                let counted: Vec<Bar> = h.bars.iter().filter(|b| b.dim == 1).take(2).cloned().collect();
                for b in &counted {
                    let death = if b.death.is_finite() { b.death } else { f64::INFINITY };
                    assert!(
                        death >= (1.0 - DEATH_TOL) * CIRCLE_DEATH.min(h.cap),
                        "grid {grid} clifford {clifford}: H1 bar {b:?} dies before √3·r (cap {})",
                        h.cap
                    );
                }
                seen.push((grid, clifford, h.betti, h.delta, counted));
            }
        }
        for s in &seen {
            assert_eq!(s.2, [1, 2, 1], "{seen:?}");
        }
    }

    /// A cloud of repeated points (saturated units) is reduced to its distinct points: a
    /// circle of 40 points each repeated 5 times reads as the circle.
    #[test]
    fn duplicate_points_are_subsampled_once() {
        let circle = Matrix::from_fn(200, 2, |i, j| {
            let a = 2.0 * std::f64::consts::PI * (i / 5) as f64 / 40.0;
            [a.cos(), a.sin()][j]
        });
        let h = cloud_homology(&circle, &HomologyConfig { cap: 6.0, ..Default::default() }).unwrap();
        assert_eq!((h.n_points, h.betti), (40, [1, 1, 0]));
        let flat = Matrix::from_fn(100, 3, |i, _| (i % 4) as f64);
        let e = cloud_homology(&flat, &HomologyConfig::default()).unwrap_err().to_string();
        assert!(e.contains("4 distinct points of 100"), "{e}");
    }

    #[test]
    fn a_complex_above_the_simplex_budget_is_refused() {
        let x = Matrix::from_fn(30, 2, |i, j| if j == 0 { i as f64 } else { 0.0 });
        let e = rips_persistence(&x, 100.0, 1000).unwrap_err().to_string();
        assert!(e.contains("max_simplices = 1000"), "{e}");
        let bad = HomologyConfig { min_death: 5.0, ..Default::default() };
        let e = cloud_homology(&x, &bad).unwrap_err().to_string();
        assert!(e.contains("min_death = 5") && e.contains("cap = 4.5"), "{e}");
    }
}
