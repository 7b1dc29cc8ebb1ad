//! The dfdx actor-critic: MLP or recurrent trunks, Gaussian or categorical head, value head.
//!
//! Parameter names (the safetensors keys; weights are `[in, out]`, the transpose of
//! `torch.nn.Linear.weight`; biases `[1, out]`):
//!
//! | key | shape | meaning |
//! |---|---|---|
//! | `actor.rnn{l}.weight_ih`, `.weight_hh`, `.bias` (GRU: `.bias_ih`, `.bias_hh`) | see [`crate::nn::cells`] | recurrent layer `l` of the actor trunk |
//! | `actor.mlp{k}.weight`, `.bias` | `[in, out]`, `[1, out]` | tanh layer `k` of the actor trunk |
//! | `critic.…` | same | the critic trunk (absent when `shared_trunk`) |
//! | `pi.weight`, `pi.bias` | `[feat, A]` | Gaussian mean or categorical logits |
//! | `pi.log_std` | `[1, A]` | Gaussian log standard deviation (state-independent) |
//! | `v.weight`, `v.bias` | `[feat, 1]` | value head |
//!
//! Initialization is the PPO recipe: orthogonal weights with gain √2 in the trunks, 0.01 on
//! the policy head, 1 on the value head (and 1 in recurrent layers), zero biases.

use super::config::PolicyConfig;
use super::dist::{self, ActionDist, HALF_LN_2PI};
use super::state::{HiddenState, StateSlot};
use super::{ActMode, ActOutput, Policy};
use crate::nn::cells::{Cell, CellState};
use crate::nn::{Dev, Linear, ParamId, Params, T2, T2T};
use dfdx::prelude::*;
use rand::{RngCore, SeedableRng};

/// Gain of trunk layers.
const TRUNK_GAIN: f32 = std::f32::consts::SQRT_2;
/// Gain of the policy head.
const PI_GAIN: f32 = 0.01;
/// Gain of the value head.
const V_GAIN: f32 = 1.0;

#[derive(Clone, Debug)]
struct Trunk {
    cells: Vec<Cell>,
    mlp: Vec<Linear>,
    /// Offset of this trunk's state inside a [`HiddenState`] row.
    state_offset: usize,
    out_width: usize,
}

impl Trunk {
    fn new(
        params: &mut Params,
        name: &str,
        cfg: &PolicyConfig,
        obs_dim: usize,
        state_offset: usize,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) -> Self {
        let mut width = obs_dim;
        let mut cells = Vec::new();
        if let Some(kind) = cfg.kind.cell() {
            for l in 0..cfg.rnn_layers {
                cells.push(Cell::new(params, &format!("{name}.rnn{l}"), kind, width, cfg.rnn_hidden, rng));
                width = cfg.rnn_hidden;
            }
        }
        let mut mlp = Vec::new();
        for (k, &w) in cfg.hidden.iter().enumerate() {
            mlp.push(Linear::new(params, &format!("{name}.mlp{k}"), width, w, TRUNK_GAIN, rng));
            width = w;
        }
        Self { cells, mlp, state_offset, out_width: width }
    }

    fn state_width(&self) -> usize {
        self.cells.iter().map(|c| c.kind.states() * c.hidden).sum()
    }

    fn slots(&self, name: &str) -> Vec<StateSlot> {
        let mut out = Vec::new();
        let mut off = self.state_offset;
        for (l, c) in self.cells.iter().enumerate() {
            for s in ["h", "c"].iter().take(c.kind.states()) {
                out.push(StateSlot { name: format!("{name}.rnn{l}.{s}"), offset: off, len: c.hidden });
                off += c.hidden;
            }
        }
        out
    }
}

/// A batch of sequences as the forward pass sees it.
pub(crate) struct SeqInput<'a> {
    /// Observations `[time, batch, obs_dim]` (time-major), already normalized.
    pub obs: &'a [f32],
    /// Sequence length.
    pub time: usize,
    /// Number of sequences.
    pub batch: usize,
    /// State entering step 0, `[batch, width]`.
    pub state0: &'a [f32],
    /// Episode-start flags `[time, batch]`: the state is zeroed before steps `t >= 1` that
    /// start an episode (step 0's state is `state0` as given).
    pub starts: Option<&'a [bool]>,
}

/// A PPO minibatch on the flat `[time, batch]` sample order of a [`SeqInput`].
pub(crate) struct LossInput<'a> {
    pub seq: SeqInput<'a>,
    /// Actions `[N, action_len]`.
    pub actions: &'a [f32],
    /// Log-probabilities at collection, `[N]`.
    pub old_log_probs: &'a [f32],
    /// Advantages (already normalized if asked), `[N]`.
    pub advantages: &'a [f32],
    /// Value targets, `[N]`.
    pub returns: &'a [f32],
    /// Values at collection, `[N]`.
    pub old_values: &'a [f32],
    pub clip_coef: f32,
    pub clip_vloss: Option<f32>,
    pub ent_coef: f32,
    pub vf_coef: f32,
}

/// Loss terms and diagnostics of one minibatch.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LossStats {
    pub loss: f32,
    pub pg_loss: f32,
    pub v_loss: f32,
    pub entropy: f32,
    pub approx_kl: f32,
    pub clip_frac: f32,
}

/// An actor-critic on dfdx with runtime sizes. See the module docs for the parameter names.
#[derive(Clone, Debug)]
pub struct ActorCritic {
    cfg: PolicyConfig,
    obs_dim: usize,
    dist: ActionDist,
    params: Params,
    actor: Trunk,
    critic: Option<Trunk>,
    pi_head: Linear,
    v_head: Linear,
    log_std: Option<ParamId>,
    slots: Vec<StateSlot>,
    width: usize,
}

impl ActorCritic {
    /// Builds and initializes a network for `obs_dim` inputs and the action distribution
    /// `dist`; the initialization is a function of `seed` alone.
    pub fn new(cfg: &PolicyConfig, obs_dim: usize, dist: ActionDist, seed: u64) -> Self {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut params = Params::new(Dev::default());
        let actor = Trunk::new(&mut params, "actor", cfg, obs_dim, 0, &mut rng);
        let critic =
            (!cfg.shared_trunk).then(|| Trunk::new(&mut params, "critic", cfg, obs_dim, actor.state_width(), &mut rng));
        let pi_head = Linear::new(&mut params, "pi", actor.out_width, dist.head_width(), PI_GAIN, &mut rng);
        let log_std = match dist {
            ActionDist::Gaussian { dim } => {
                let id = params.add_zeros("pi.log_std".into(), 1, dim);
                params.set(id, &vec![cfg.log_std_init; dim]);
                Some(id)
            }
            ActionDist::Categorical { .. } => None,
        };
        let v_in = critic.as_ref().map_or(actor.out_width, |c| c.out_width);
        let v_head = Linear::new(&mut params, "v", v_in, 1, V_GAIN, &mut rng);
        let mut slots = actor.slots("actor");
        if let Some(c) = &critic {
            slots.extend(c.slots("critic"));
        }
        let width = slots.iter().map(|s| s.len).sum();
        Self { cfg: cfg.clone(), obs_dim, dist, params, actor, critic, pi_head, v_head, log_std, slots, width }
    }

    /// The architecture.
    pub fn config(&self) -> &PolicyConfig {
        &self.cfg
    }
    /// The action distribution.
    pub fn dist(&self) -> ActionDist {
        self.dist
    }
    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
    /// Mutable parameters (the optimizer writes them).
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }
    /// Width of a hidden-state row.
    pub fn state_width(&self) -> usize {
        self.width
    }
    /// Whether the policy has recurrent layers.
    pub fn is_recurrent(&self) -> bool {
        self.width > 0
    }
    /// Current log-std values (Gaussian head), else empty.
    pub fn log_std(&self) -> Vec<f32> {
        self.log_std.map(|id| self.params.get(id).as_vec()).unwrap_or_default()
    }

    fn trunk_forward<T: Tape<f32, Cpu> + Merge<T>>(
        &self,
        trunk: &Trunk,
        obs: &T2,
        s: &SeqInput,
        mut new_state: Option<&mut [f32]>,
    ) -> T2T<T> {
        let p = &self.params;
        let dev = p.dev();
        let (tn, bn, width) = (s.time, s.batch, self.width);
        let mut x: T2T<T> = obs.retaped::<T>();
        let mut off = trunk.state_offset;
        for cell in &trunk.cells {
            let hd = cell.hidden;
            let read = |o: usize| -> T2T<T> {
                let mut v = Vec::with_capacity(bn * hd);
                for b in 0..bn {
                    v.extend_from_slice(&s.state0[b * width + o..b * width + o + hd]);
                }
                dev.tensor_from_vec(v, (bn, hd)).retaped::<T>()
            };
            let c_off = off + hd;
            let mut st = CellState { h: read(off), c: (cell.kind.states() == 2).then(|| read(c_off)) };
            let mut xp = Some(cell.input_proj(p, x));
            let mut outs = Vec::with_capacity(tn);
            for t in 0..tn {
                let rows = t * bn..(t + 1) * bn;
                let xt = if t + 1 < tn {
                    xp.as_ref().expect("xp kept until the last step").retaped::<T>().slice((rows, ..))
                } else {
                    xp.take().expect("xp moved once").slice((rows, ..))
                };
                if let Some(starts) = s.starts.filter(|_| t > 0) {
                    let row = &starts[t * bn..(t + 1) * bn];
                    if row.iter().any(|&f| f) {
                        let keep: Vec<f32> =
                            row.iter().flat_map(|&f| std::iter::repeat_n(if f { 0.0 } else { 1.0 }, hd)).collect();
                        let keep = dev.tensor_from_vec(keep, (bn, hd));
                        st.h = st.h * keep.clone();
                        st.c = st.c.map(|c| c * keep);
                    }
                }
                st = cell.step(p, xt, st);
                outs.push(st.h.retaped::<T>());
            }
            if let Some(ns) = new_state.as_deref_mut() {
                let hv = st.h.as_vec();
                let cv = st.c.as_ref().map(|c| c.as_vec());
                for b in 0..bn {
                    ns[b * width + off..b * width + off + hd].copy_from_slice(&hv[b * hd..(b + 1) * hd]);
                    if let Some(cv) = &cv {
                        ns[b * width + c_off..b * width + c_off + hd].copy_from_slice(&cv[b * hd..(b + 1) * hd]);
                    }
                }
            }
            // The final h and c carry the tapes of the whole recurrence: put them back in.
            outs.pop();
            let h = match st.c {
                Some(c) => {
                    let (_, ct) = c.split_tape();
                    let (hd_, ht) = st.h.split_tape();
                    hd_.put_tape(ht.merge(ct))
                }
                None => st.h,
            };
            outs.push(h);
            x = if tn == 1 { outs.pop().expect("one step") } else { outs.stack().reshape_like(&(tn * bn, hd)) };
            off += cell.kind.states() * hd;
        }
        for lin in &trunk.mlp {
            x = crate::nn::linear::tanh(lin.forward(p, x));
        }
        x
    }

    /// Policy-head output `[N, head]` and values `[N, 1]`; writes the state after the last
    /// step into `new_state` when given.
    fn forward<T: Tape<f32, Cpu> + Merge<T>>(
        &self,
        s: &SeqInput,
        mut new_state: Option<&mut [f32]>,
    ) -> (T2T<T>, T2T<T>) {
        let n = s.time * s.batch;
        assert_eq!(s.obs.len(), n * self.obs_dim, "observation buffer length");
        assert_eq!(s.state0.len(), s.batch * self.width, "state buffer length");
        if let Some(ns) = new_state.as_deref_mut() {
            ns.copy_from_slice(s.state0);
        }
        let obs = self.params.dev().tensor_from_vec(s.obs.to_vec(), (n, self.obs_dim));
        let fa = self.trunk_forward::<T>(&self.actor, &obs, s, new_state.as_deref_mut());
        match &self.critic {
            Some(c) => {
                let fc = self.trunk_forward::<T>(c, &obs, s, new_state);
                (self.pi_head.forward(&self.params, fa), self.v_head.forward(&self.params, fc))
            }
            None => {
                let fv = fa.retaped::<T>();
                (self.pi_head.forward(&self.params, fa), self.v_head.forward(&self.params, fv))
            }
        }
    }

    /// Head outputs and values of a sequence batch without gradients (tests, reference
    /// checks): `(head [N, head_width], values [N])`.
    pub(crate) fn evaluate(&self, s: &SeqInput, new_state: Option<&mut [f32]>) -> (Vec<f32>, Vec<f32>) {
        let (pi, v) = self.forward::<NoneTape>(s, new_state);
        (pi.as_vec(), v.as_vec())
    }

    /// The PPO loss of a minibatch and the gradient of every parameter (in [`Params`] order).
    pub(crate) fn loss_and_grads(&self, li: &LossInput) -> (Vec<Vec<f32>>, LossStats) {
        let n = li.seq.time * li.seq.batch;
        let dev = self.params.dev().clone();
        let (head, v) = self.forward::<OwnedTape<f32, Cpu>>(&li.seq, None);
        let vec1 = |x: &[f32]| dev.tensor_from_vec(x.to_vec(), (n,));
        let (log_prob, entropy) = match self.dist {
            ActionDist::Gaussian { dim } => {
                let ls_id = self.log_std.expect("Gaussian head has log_std");
                let ls_row = self.params.get(ls_id).retaped::<OwnedTape<f32, Cpu>>();
                let ls_b = ls_row
                    .retaped::<OwnedTape<f32, Cpu>>()
                    .reshape_like(&(dim,))
                    .broadcast_like::<_, Axis<0>>(&(n, dim));
                let a = dev.tensor_from_vec(li.actions.to_vec(), (n, dim));
                let inv_std = ls_b.retaped::<OwnedTape<f32, Cpu>>().negate().exp();
                let z = (head - a) * inv_std;
                let lp = (z.square() * -0.5 - ls_b - HALF_LN_2PI).sum::<(usize,), Axis<1>>();
                let ent = ls_row.sum::<(), _>() + dim as f32 * (0.5 + HALF_LN_2PI);
                (lp, ent)
            }
            ActionDist::Categorical { n: k } => {
                let mut onehot = vec![0.0f32; n * k];
                for (i, &a) in li.actions.iter().enumerate() {
                    onehot[i * k + a as usize] = 1.0;
                }
                let onehot = dev.tensor_from_vec(onehot, (n, k));
                let lsm = head.log_softmax::<Axis<1>>();
                let lp = (lsm.retaped::<OwnedTape<f32, Cpu>>() * onehot).sum::<(usize,), Axis<1>>();
                let plogp = lsm.retaped::<OwnedTape<f32, Cpu>>().exp() * lsm;
                let ent = plogp.sum::<(usize,), Axis<1>>().mean::<(), _>().negate();
                (lp, ent)
            }
        };
        let logratio = log_prob - vec1(li.old_log_probs);
        let lr_vals = logratio.retaped::<NoneTape>().as_vec();
        let ratio = logratio.exp();
        let adv = vec1(li.advantages);
        let surr1 = ratio.retaped::<OwnedTape<f32, Cpu>>() * adv.clone();
        let surr2 = ratio.clamp(1.0 - li.clip_coef, 1.0 + li.clip_coef) * adv;
        let pg_loss = surr1.minimum(surr2).mean::<(), _>().negate();
        let v = v.reshape_like(&(n,));
        let ret = vec1(li.returns);
        let v_loss = match li.clip_vloss {
            None => (v - ret).square().mean::<(), _>() * 0.5,
            Some(c) => {
                let old = vec1(li.old_values);
                let unclipped = (v.retaped::<OwnedTape<f32, Cpu>>() - ret.clone()).square();
                let clipped = ((v - old.clone()).clamp(-c, c) + old - ret).square();
                unclipped.maximum(clipped).mean::<(), _>() * 0.5
            }
        };
        let stats_pg = pg_loss.retaped::<NoneTape>().array();
        let stats_v = v_loss.retaped::<NoneTape>().array();
        let stats_ent = entropy.retaped::<NoneTape>().array();
        let loss = pg_loss - entropy * li.ent_coef + v_loss * li.vf_coef;
        let loss_val = loss.retaped::<NoneTape>().array();
        let grads = loss.backward();
        let g = self.params.items().iter().map(|p| grads.get(&p.tensor).as_vec()).collect();
        let (mut kl, mut clipped) = (0.0f64, 0usize);
        for &lr in &lr_vals {
            let r = lr.exp();
            kl += ((r - 1.0) - lr) as f64;
            if (r - 1.0).abs() > li.clip_coef {
                clipped += 1;
            }
        }
        let stats = LossStats {
            loss: loss_val,
            pg_loss: stats_pg,
            v_loss: stats_v,
            entropy: stats_ent,
            approx_kl: (kl / n as f64) as f32,
            clip_frac: clipped as f32 / n as f32,
        };
        (g, stats)
    }
}

impl Policy for ActorCritic {
    fn obs_dim(&self) -> usize {
        self.obs_dim
    }
    fn action_len(&self) -> usize {
        self.dist.action_len()
    }
    fn initial_state(&self, n_envs: usize) -> HiddenState {
        HiddenState::zeros(n_envs, self.slots.clone())
    }
    fn act(&self, obs: &[f32], state: &mut HiddenState, mode: ActMode, rng: &mut dyn RngCore, out: &mut ActOutput) {
        let b = state.n_envs;
        let s = SeqInput { obs, time: 1, batch: b, state0: &state.data, starts: None };
        let mut next = vec![0.0; state.data.len()];
        let (head, values) = self.evaluate(&s, Some(&mut next));
        state.data.copy_from_slice(&next);
        let al = self.dist.action_len();
        out.actions.resize(b * al, 0.0);
        out.log_probs.resize(b, 0.0);
        out.values.clear();
        out.values.extend_from_slice(&values);
        let hw = self.dist.head_width();
        match self.dist {
            ActionDist::Gaussian { .. } => {
                let ls = self.log_std();
                for i in 0..b {
                    let mean = &head[i * hw..(i + 1) * hw];
                    let a = &mut out.actions[i * al..(i + 1) * al];
                    out.log_probs[i] = match mode {
                        ActMode::Sample => dist::gaussian_sample(rng, mean, &ls, a),
                        ActMode::Deterministic => {
                            a.copy_from_slice(mean);
                            dist::gaussian_log_prob(a, mean, &ls)
                        }
                    };
                }
            }
            ActionDist::Categorical { .. } => {
                let mut scratch = vec![0.0; hw];
                for i in 0..b {
                    let logits = &head[i * hw..(i + 1) * hw];
                    let (k, lp) = match mode {
                        ActMode::Sample => dist::categorical_sample(rng, logits, &mut scratch),
                        ActMode::Deterministic => dist::categorical_mode(logits, &mut scratch),
                    };
                    out.actions[i] = k as f32;
                    out.log_probs[i] = lp;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyKind;
    use rand::Rng;

    fn net(kind: PolicyKind, layers: usize, shared: bool, dist: ActionDist) -> ActorCritic {
        let cfg = PolicyConfig {
            kind,
            hidden: vec![6],
            rnn_hidden: 5,
            rnn_layers: layers,
            shared_trunk: shared,
            log_std_init: -0.3,
        };
        ActorCritic::new(&cfg, 3, dist, 7)
    }

    /// A sequence batch: `time` × `batch`, episode starts at (t=2, b=0) and (t=3, b=1).
    fn data(net: &ActorCritic, time: usize, batch: usize, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<bool>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let obs = (0..time * batch * 3).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let state0 = (0..batch * net.state_width()).map(|_| rng.gen_range(-0.5..0.5)).collect();
        let mut starts = vec![false; time * batch];
        if time > 2 {
            starts[2 * batch] = true;
        }
        if batch > 1 && time > 3 {
            starts[3 * batch + 1] = true;
        }
        (obs, state0, starts)
    }

    #[test]
    fn sequence_forward_equals_step_by_step_with_resets() {
        // Training replays a rollout as one sequence with episode-start masks; the rollout
        // ran step by step, zeroing the state at each start. Both must agree.
        const SEQ_TOL: f32 = 1e-5;
        for kind in [PolicyKind::Rnn, PolicyKind::Gru, PolicyKind::Lstm] {
            let n = net(kind, 2, false, ActionDist::Gaussian { dim: 2 });
            let (time, batch, w) = (5, 2, n.state_width());
            let (obs, state0, starts) = data(&n, time, batch, 1);
            let s = SeqInput { obs: &obs, time, batch, state0: &state0, starts: Some(&starts) };
            let mut end_seq = vec![0.0; batch * w];
            let (head_seq, v_seq) = n.evaluate(&s, Some(&mut end_seq));
            let mut state = state0.clone();
            for t in 0..time {
                for b in 0..batch {
                    if t > 0 && starts[t * batch + b] {
                        state[b * w..(b + 1) * w].iter_mut().for_each(|x| *x = 0.0);
                    }
                }
                let o = &obs[t * batch * 3..(t + 1) * batch * 3];
                let mut next = vec![0.0; batch * w];
                let (head, v) =
                    n.evaluate(&SeqInput { obs: o, time: 1, batch, state0: &state, starts: None }, Some(&mut next));
                state = next;
                for (a, b) in head.iter().zip(&head_seq[t * batch * 2..(t + 1) * batch * 2]) {
                    assert!((a - b).abs() < SEQ_TOL, "{kind:?} head at t={t}");
                }
                for (a, b) in v.iter().zip(&v_seq[t * batch..(t + 1) * batch]) {
                    assert!((a - b).abs() < SEQ_TOL, "{kind:?} value at t={t}");
                }
            }
            for (a, b) in state.iter().zip(&end_seq) {
                assert!((a - b).abs() < SEQ_TOL, "{kind:?} final state");
            }
        }
    }

    #[test]
    fn pinned_state_makes_the_step_independent_of_history() {
        // A probe overwrites the caller-owned state buffer between steps: the next step must
        // then depend only on the pinned values and the observation.
        let n = net(PolicyKind::Lstm, 1, false, ActionDist::Gaussian { dim: 2 });
        let obs = [0.3f32, -0.2, 0.5, 0.1, 0.0, -0.4];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut out = ActOutput::default();
        let pinned: Vec<f32> = (0..2 * n.state_width()).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut results = Vec::new();
        for history in 0..3 {
            let mut s = n.initial_state(2);
            for _ in 0..history * 4 {
                n.act(&obs, &mut s, ActMode::Deterministic, &mut rng, &mut out);
            }
            s.data.copy_from_slice(&pinned);
            n.act(&obs, &mut s, ActMode::Deterministic, &mut rng, &mut out);
            results.push((out.actions.clone(), out.values.clone(), s.data.clone()));
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]));
        // And the state matters: a zero state gives another action.
        let mut s = n.initial_state(2);
        n.act(&obs, &mut s, ActMode::Deterministic, &mut rng, &mut out);
        assert_ne!(out.actions, results[0].0);
        assert_eq!(n.initial_state(2).slot("critic.rnn0.c").map(|s| s.len), Some(5));
    }

    #[test]
    fn gradients_match_finite_differences() {
        // Central differences of the PPO loss (clip range wide enough to stay smooth) against
        // dfdx's backward, through BPTT with episode-start masks, both heads, both trunks.
        const EPS: f32 = 1e-2;
        const REL_TOL: f32 = 0.03;
        const ABS_TOL: f32 = 2e-3;
        let cases = [
            (PolicyKind::Mlp, 1, false, ActionDist::Gaussian { dim: 2 }),
            (PolicyKind::Gru, 2, false, ActionDist::Gaussian { dim: 2 }),
            (PolicyKind::Lstm, 2, true, ActionDist::Categorical { n: 3 }),
            (PolicyKind::Rnn, 1, false, ActionDist::Categorical { n: 3 }),
        ];
        for (kind, layers, shared, dist) in cases {
            let mut n = net(kind, layers, shared, dist);
            let (time, batch) = if kind == PolicyKind::Mlp { (1, 6) } else { (4, 2) };
            let (obs, state0, starts) = data(&n, time, batch, 2);
            let m = time * batch;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
            let actions: Vec<f32> = match dist {
                ActionDist::Gaussian { dim } => (0..m * dim).map(|_| rng.gen_range(-1.0..1.0)).collect(),
                ActionDist::Categorical { n } => (0..m).map(|_| rng.gen_range(0..n) as f32).collect(),
            };
            let old_lp: Vec<f32> = (0..m).map(|_| rng.gen_range(-2.0..-1.0)).collect();
            let adv: Vec<f32> = (0..m).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let ret: Vec<f32> = (0..m).map(|_| rng.gen_range(-1.0..1.0)).collect();
            let loss_of = |n: &ActorCritic| {
                let li = LossInput {
                    seq: SeqInput { obs: &obs, time, batch, state0: &state0, starts: Some(&starts) },
                    actions: &actions,
                    old_log_probs: &old_lp,
                    advantages: &adv,
                    returns: &ret,
                    old_values: &ret,
                    clip_coef: 100.0,
                    clip_vloss: None,
                    ent_coef: 0.1,
                    vf_coef: 0.5,
                };
                n.loss_and_grads(&li)
            };
            let (grads, _) = loss_of(&n);
            let vals = n.params().to_vecs();
            for (pi, g) in grads.iter().enumerate() {
                let name = n.params().items()[pi].name.clone();
                // A few entries of every parameter.
                for &j in &[0, g.len() / 2, g.len() - 1] {
                    let mut v = vals[pi].clone();
                    v[j] += EPS;
                    n.params_mut().set(pi, &v);
                    let up = loss_of(&n).1.loss;
                    v[j] -= 2.0 * EPS;
                    n.params_mut().set(pi, &v);
                    let down = loss_of(&n).1.loss;
                    n.params_mut().set(pi, &vals[pi]);
                    let fd = (up - down) / (2.0 * EPS);
                    let err = (fd - g[j]).abs();
                    assert!(
                        err < ABS_TOL || err < REL_TOL * g[j].abs().max(fd.abs()),
                        "{kind:?} {name}[{j}]: backward {} vs finite difference {fd}",
                        g[j]
                    );
                }
            }
        }
    }
}
