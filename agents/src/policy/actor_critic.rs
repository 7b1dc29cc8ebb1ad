//! The dfdx actor-critic: MLP or recurrent trunks, Gaussian or categorical head, value head.
//!
//! Engines: the recurrent layers run by hand on plain buffers, forward and backward through
//! time ([`crate::nn::bptt`]: batched GEMMs, per step only the recurrent product); the MLP
//! layers, heads and PPO loss run on dfdx. The two meet at the last recurrent outputs: they
//! enter the dfdx graph as a leaf tensor, and the gradient dfdx computes for that leaf is
//! what the hand BPTT propagates back (same gradients as an all-dfdx graph, see the tests).
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

use super::config::{Engine, PolicyConfig};
use super::dist::{self, ActionDist, HALF_LN_2PI};
use super::fused::{MlpNet, MlpWork};
use super::state::{HiddenState, StateSlot};
use super::{ActMode, ActOutput, Policy};
use crate::nn::bptt::{self, BackwardOut, BpttScratch, CellGrads, CellWeights, LayerTrace, SeqLayout};
use crate::nn::cells::Cell;
use crate::nn::{Dev, Linear, ParamId, Params, Scalar, Tp, T2, T2T};
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
pub struct SeqInput<'a> {
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

/// What [`ActorCritic::grads_of`] hands the loss: the policy's evaluation of given actions on
/// the dfdx tape, in the flat `[time, batch]` sample order of a [`SeqInput`] (`N = time · batch`).
pub struct ActionEval {
    /// `log π(a | s)` of each given action, `[N]`.
    pub log_prob: Tensor<(usize,), f32, Dev, Tp>,
    /// Mean entropy of the action distributions over the batch (scalar).
    pub entropy: Scalar,
    /// Value estimates, `[N, 1]` (reshape where the loss uses them: a reshape is a tape
    /// operation, and the loss's order of operations fixes the gradients' rounding).
    pub values: T2T<Tp>,
    /// Gaussian heads: the means `[N, dim]` and the log-std row `[1, dim]` on the tape (for
    /// regularizers of the distribution itself; `None` for a categorical head).
    pub gaussian: Option<(T2T<Tp>, T2T<Tp>)>,
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
    work: WorkCell,
}

/// Output of [`ActorCritic::forward`].
struct Forward<T> {
    head: T2T<T>,
    value: T2T<T>,
    /// Last recurrent outputs of the actor trunk (None: no recurrent layers).
    leaf_a: Option<T2>,
    /// Same for the critic trunk.
    leaf_c: Option<T2>,
}

/// Buffers of one trunk's hand-run recurrent layers.
#[derive(Debug, Default)]
struct TrunkWork {
    traces: Vec<LayerTrace>,
    h0: Vec<f32>,
    c0: Vec<f32>,
}

/// Buffers reused across forward and backward calls.
#[derive(Debug, Default)]
struct Workspace {
    actor: TrunkWork,
    critic: TrunkWork,
    scratch: BpttScratch,
    /// The critic's BPTT scratch, so its backward can run beside the actor's.
    scratch_critic: BpttScratch,
    mlp: MlpWork,
}

/// The workspace behind a lock, so `&self` methods can reuse it. A concurrent caller (the
/// lock is taken) gets a fresh workspace instead of waiting. Cloning gives an empty one.
#[derive(Debug, Default)]
struct WorkCell(std::sync::Mutex<Workspace>);

impl Clone for WorkCell {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl WorkCell {
    fn with<R>(&self, f: impl FnOnce(&mut Workspace) -> R) -> R {
        match self.0.try_lock() {
            Ok(mut ws) => f(&mut ws),
            Err(_) => f(&mut Workspace::default()),
        }
    }
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
        Self {
            cfg: cfg.clone(),
            obs_dim,
            dist,
            params,
            actor,
            critic,
            pi_head,
            v_head,
            log_std,
            slots,
            width,
            work: WorkCell::default(),
        }
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

    /// The weights of a recurrent layer as plain slices.
    fn cell_weights(&self, cell: &Cell) -> CellWeights<'_> {
        let p = &self.params;
        CellWeights {
            kind: cell.kind,
            inp: cell.inp,
            hidden: cell.hidden,
            w_ih: p.values(cell.w_ih),
            w_hh: p.values(cell.w_hh),
            b_ih: p.values(cell.b_ih),
            b_hh: cell.b_hh.map(|id| p.values(id)),
        }
    }

    /// Runs the recurrent layers of `trunk` by hand ([`crate::nn::bptt`]), leaving their
    /// traces in `work`; writes the state after the last step into `new_state` when given.
    fn run_cells(&self, trunk: &Trunk, s: &SeqInput, new_state: Option<&mut [f32]>, work: &mut TrunkWork) {
        let (bn, width) = (s.batch, self.width);
        let seq = SeqLayout { time: s.time, batch: bn, starts: s.starts, noise: None };
        work.traces.resize_with(trunk.cells.len(), LayerTrace::default);
        let mut off = trunk.state_offset;
        let mut new_state = new_state;
        for (l, cell) in trunk.cells.iter().enumerate() {
            let hd = cell.hidden;
            let lstm = cell.kind.states() == 2;
            let rows = |o: usize, v: &mut Vec<f32>| {
                v.clear();
                for b in 0..bn {
                    v.extend_from_slice(&s.state0[b * width + o..b * width + o + hd]);
                }
            };
            rows(off, &mut work.h0);
            if lstm {
                rows(off + hd, &mut work.c0);
            }
            let (done, rest) = work.traces.split_at_mut(l);
            let x = if l == 0 { s.obs } else { &done[l - 1].out[..] };
            let tr = &mut rest[0];
            bptt::forward(&self.cell_weights(cell), x, seq, &work.h0, lstm.then_some(&work.c0[..]), tr);
            if let Some(ns) = new_state.as_deref_mut() {
                let last = &tr.out[(s.time - 1) * bn * hd..];
                for b in 0..bn {
                    ns[b * width + off..b * width + off + hd].copy_from_slice(&last[b * hd..(b + 1) * hd]);
                    if lstm {
                        ns[b * width + off + hd..b * width + off + 2 * hd]
                            .copy_from_slice(&tr.c_last[b * hd..(b + 1) * hd]);
                    }
                }
            }
            off += cell.kind.states() * hd;
        }
    }

    /// Backpropagates `d_top = ∂L/∂(last recurrent output)` through the recurrent layers of
    /// `trunk` (traces in `work`), writing their parameter gradients into `grads`.
    fn backward_cells(
        &self,
        trunk: &Trunk,
        s: &SeqInput,
        d_top: Vec<f32>,
        work: &TrunkWork,
        scratch: &mut BpttScratch,
        grads: &mut [Vec<f32>],
    ) {
        let seq = SeqLayout { time: s.time, batch: s.batch, starts: s.starts, noise: None };
        let n = s.time * s.batch;
        let mut d_out = d_top;
        let mut cg = CellGrads::default();
        for (l, cell) in trunk.cells.iter().enumerate().rev() {
            let x = if l == 0 { s.obs } else { &work.traces[l - 1].out[..] };
            let mut dx = if l > 0 { vec![0.0; n * cell.inp] } else { Vec::new() };
            let w = self.cell_weights(cell);
            let out = BackwardOut { grads: &mut cg, dx: (l > 0).then_some(&mut dx[..]) };
            bptt::backward(&w, x, seq, &work.traces[l], &d_out, out, scratch);
            grads[cell.w_ih] = std::mem::take(&mut cg.w_ih);
            grads[cell.w_hh] = std::mem::take(&mut cg.w_hh);
            grads[cell.b_ih] = std::mem::take(&mut cg.b_ih);
            if let Some(id) = cell.b_hh {
                grads[id] = std::mem::take(&mut cg.b_hh);
            }
            d_out = dx;
        }
    }

    /// A trunk's features `[N, out_width]`: the outputs of its recurrent layers (already run
    /// by [`Self::run_cells`] into `work`), then the tanh MLP on dfdx. For a recurrent trunk
    /// also returns the untaped tensor of the last recurrent outputs, whose gradient the
    /// backward reads.
    fn trunk_forward<T: Tape<f32, Cpu> + Merge<T>>(
        &self,
        trunk: &Trunk,
        obs: &T2,
        s: &SeqInput,
        work: &TrunkWork,
    ) -> (T2T<T>, Option<T2>) {
        let p = &self.params;
        let (mut x, leaf): (T2T<T>, Option<T2>) = match trunk.cells.last() {
            None => (obs.retaped::<T>(), None),
            Some(cell) => {
                let out = &work.traces.last().expect("one trace per layer").out;
                let feat = p.dev().tensor_from_vec(out.clone(), (s.time * s.batch, cell.hidden));
                (feat.retaped::<T>(), Some(feat))
            }
        };
        for lin in &trunk.mlp {
            x = crate::nn::linear::tanh(lin.forward(p, x));
        }
        (x, leaf)
    }

    /// Policy-head output `[N, head]` and values `[N, 1]`, and the recurrent-output leaves
    /// of the actor and critic trunks; writes the state after the last step into `new_state`
    /// when given. With a `pool` (and no `new_state`), a separate critic's recurrent layers run
    /// on it beside the actor's: disjoint buffers, the same bits either way.
    fn forward<T: Tape<f32, Cpu> + Merge<T>>(
        &self,
        s: &SeqInput,
        mut new_state: Option<&mut [f32]>,
        ws: &mut Workspace,
        pool: Option<&rayon::ThreadPool>,
    ) -> Forward<T> {
        let n = s.time * s.batch;
        assert_eq!(s.obs.len(), n * self.obs_dim, "observation buffer length");
        assert_eq!(s.state0.len(), s.batch * self.width, "state buffer length");
        if let Some(ns) = new_state.as_deref_mut() {
            ns.copy_from_slice(s.state0);
        }
        // The recurrent layers of both trunks, by hand (a trunk without them does nothing).
        let (wa, wc) = (&mut ws.actor, &mut ws.critic);
        match (pool, &self.critic) {
            (Some(pool), Some(c)) if new_state.is_none() && !self.actor.cells.is_empty() && !c.cells.is_empty() => {
                pool.in_place_scope(|scope| {
                    scope.spawn(|_| self.run_cells(c, s, None, wc));
                    self.run_cells(&self.actor, s, None, wa);
                });
            }
            (_, critic) => {
                self.run_cells(&self.actor, s, new_state.as_deref_mut(), wa);
                if let Some(c) = critic {
                    self.run_cells(c, s, new_state, wc);
                }
            }
        }
        let obs = self.params.dev().tensor_from_vec(s.obs.to_vec(), (n, self.obs_dim));
        let (fa, leaf_a) = self.trunk_forward::<T>(&self.actor, &obs, s, &ws.actor);
        match &self.critic {
            Some(c) => {
                let (fc, leaf_c) = self.trunk_forward::<T>(c, &obs, s, &ws.critic);
                Forward {
                    head: self.pi_head.forward(&self.params, fa),
                    value: self.v_head.forward(&self.params, fc),
                    leaf_a,
                    leaf_c,
                }
            }
            None => {
                let fv = fa.retaped::<T>();
                Forward {
                    head: self.pi_head.forward(&self.params, fa),
                    value: self.v_head.forward(&self.params, fv),
                    leaf_a,
                    leaf_c: None,
                }
            }
        }
    }

    /// Head outputs and values of a sequence batch without gradients (tests, reference
    /// checks): `(head [N, head_width], values [N])`.
    pub(crate) fn evaluate(&self, s: &SeqInput, new_state: Option<&mut [f32]>) -> (Vec<f32>, Vec<f32>) {
        if let Some(net) = self.fused_net() {
            return self.work.with(|ws| {
                net.forward(s.obs, s.time * s.batch, &mut ws.mlp);
                (ws.mlp.head.clone(), ws.mlp.value.clone())
            });
        }
        let f = self.work.with(|ws| self.forward::<NoneTape>(s, new_state, ws, None));
        (f.head.as_vec(), f.value.as_vec())
    }

    /// Log-probabilities `[N]`, mean entropy and values `[N]` of the given actions
    /// (`[N, action_len]`) for the observations and hidden states of `s`, without gradients.
    pub fn evaluate_actions(&self, s: &SeqInput, actions: &[f32]) -> (Vec<f32>, f32, Vec<f32>) {
        self.work.with(|ws| {
            let Forward { head, value, .. } = self.forward::<Tp>(s, None, ws, None);
            let ev = self.action_eval(head, value, actions, s.time * s.batch);
            (ev.log_prob.retaped::<NoneTape>().as_vec(), ev.entropy.retaped::<NoneTape>().array(), ev.values.as_vec())
        })
    }

    /// Evaluates `actions` on the tape, hands the evaluation to `loss` (which returns a scalar
    /// loss and anything it wants to report) and returns the gradient of that loss for every
    /// parameter, in [`Params`] order. The loss itself belongs to the algorithm
    /// ([`crate::ppo::loss`]); the policy only runs forward and backward.
    pub fn grads_of<S>(
        &self,
        s: &SeqInput,
        actions: &[f32],
        loss: impl FnOnce(ActionEval) -> (Scalar, S),
    ) -> (Vec<Vec<f32>>, S) {
        self.grads_of_on(s, actions, loss, None)
    }

    /// [`Self::grads_of`] with the critic's recurrent forward and backward on `pool` beside
    /// the actor's (a recurrent policy with a separate critic; otherwise the pool is unused).
    /// The two trunks touch disjoint parameters and buffers and each runs single-threaded, so
    /// the gradients are the same bits with or without the pool.
    pub fn grads_of_on<S>(
        &self,
        s: &SeqInput,
        actions: &[f32],
        loss: impl FnOnce(ActionEval) -> (Scalar, S),
        pool: Option<&rayon::ThreadPool>,
    ) -> (Vec<Vec<f32>>, S) {
        self.work.with(|ws| self.grads_with(s, actions, loss, ws, pool))
    }

    /// Log-probabilities and entropy of `actions` under the head output, on the tape.
    fn action_eval(&self, head: T2T<Tp>, value: T2T<Tp>, actions: &[f32], n: usize) -> ActionEval {
        let dev = self.params.dev().clone();
        let gaussian = self.log_std.map(|id| (head.retaped::<Tp>(), self.params.get(id).retaped::<Tp>()));
        let (log_prob, entropy) = match self.dist {
            ActionDist::Gaussian { dim } => {
                let ls_id = self.log_std.expect("Gaussian head has log_std");
                let ls_row = self.params.get(ls_id).retaped::<OwnedTape<f32, Cpu>>();
                let ls_b = ls_row
                    .retaped::<OwnedTape<f32, Cpu>>()
                    .reshape_like(&(dim,))
                    .broadcast_like::<_, Axis<0>>(&(n, dim));
                let a = dev.tensor_from_vec(actions.to_vec(), (n, dim));
                let inv_std = ls_b.retaped::<OwnedTape<f32, Cpu>>().negate().exp();
                let z = (head - a) * inv_std;
                let lp = (z.square() * -0.5 - ls_b - HALF_LN_2PI).sum::<(usize,), Axis<1>>();
                let ent = ls_row.sum::<(), _>() + dim as f32 * (0.5 + HALF_LN_2PI);
                (lp, ent)
            }
            ActionDist::Categorical { n: k } => {
                let mut onehot = vec![0.0f32; n * k];
                for (i, &a) in actions.iter().enumerate() {
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
        ActionEval { log_prob, entropy, values: value, gaussian }
    }

    fn grads_with<S>(
        &self,
        s: &SeqInput,
        actions: &[f32],
        loss: impl FnOnce(ActionEval) -> (Scalar, S),
        ws: &mut Workspace,
        pool: Option<&rayon::ThreadPool>,
    ) -> (Vec<Vec<f32>>, S) {
        let n = s.time * s.batch;
        let Forward { head, value, leaf_a, leaf_c } = self.forward::<Tp>(s, None, ws, pool);
        let (loss, out) = loss(self.action_eval(head, value, actions, n));
        let grads = loss.backward();
        // Recurrent layers: hand BPTT from the gradient at their last outputs.
        let n_params = self.params.items().len();
        let mut g = vec![Vec::new(); n_params];
        let Workspace { actor, critic, scratch, scratch_critic, .. } = ws;
        let d_actor = leaf_a.as_ref().map(|leaf| grads.get(leaf).as_vec());
        let d_critic = leaf_c.as_ref().map(|leaf| grads.get(leaf).as_vec());
        match (d_actor, d_critic, &self.critic, pool) {
            (Some(da), Some(dc), Some(c), Some(pool)) => {
                let mut gc = vec![Vec::new(); n_params];
                pool.in_place_scope(|scope| {
                    scope.spawn(|_| self.backward_cells(c, s, dc, critic, scratch_critic, &mut gc));
                    self.backward_cells(&self.actor, s, da, actor, scratch, &mut g);
                });
                for (gi, ci) in g.iter_mut().zip(gc) {
                    if !ci.is_empty() {
                        *gi = ci;
                    }
                }
            }
            (da, dc, critic_trunk, _) => {
                if let Some(da) = da {
                    self.backward_cells(&self.actor, s, da, actor, scratch, &mut g);
                }
                if let (Some(dc), Some(c)) = (dc, critic_trunk) {
                    self.backward_cells(c, s, dc, critic, scratch_critic, &mut g);
                }
            }
        }
        // Everything else: dfdx.
        for (gi, p) in g.iter_mut().zip(self.params.items()) {
            if gi.is_empty() {
                *gi = grads.get(&p.tensor).as_vec();
            }
        }
        (g, out)
    }

    /// Whether this policy trains on the fused engine (an MLP with `engine = "fused"`).
    pub fn trains_fused(&self) -> bool {
        self.fused_net().is_some()
    }

    /// The fused engine's view of this network: `Some` for an MLP policy whose config asks
    /// for [`Engine::Fused`].
    fn fused_net(&self) -> Option<MlpNet<'_>> {
        (self.cfg.engine == Engine::Fused && !self.is_recurrent() && self.actor.cells.is_empty()).then(|| MlpNet {
            params: &self.params,
            actor: &self.actor.mlp,
            critic: self.critic.as_ref().map(|c| &c.mlp[..]),
            pi: self.pi_head,
            v: self.v_head,
            log_std: self.log_std,
            dist: self.dist,
            obs_dim: self.obs_dim,
        })
    }

    /// The fused engine's [`MlpNet::grads_of`] on `n` observations `obs` (an MLP batch),
    /// with this network's workspace: the gradient of `loss` (which reads the outputs and
    /// writes their gradients) for every parameter into `grads`. `None` when this policy does
    /// not train on the fused engine (recurrent, or `engine = "dfdx"`).
    pub fn fused_grads_of<S>(
        &self,
        obs: &[f32],
        n: usize,
        grads: &mut Vec<Vec<f32>>,
        loss: impl FnOnce(super::fused::HeadGrads) -> S,
    ) -> Option<S> {
        self.work.with(|ws| self.fused_grads_with(obs, n, grads, &mut ws.mlp, loss))
    }

    /// [`ActorCritic::fused_grads_of`] with a caller-owned workspace, so several row blocks of
    /// one minibatch can run at once (gradient shards).
    pub(crate) fn fused_grads_with<S>(
        &self,
        obs: &[f32],
        n: usize,
        grads: &mut Vec<Vec<f32>>,
        work: &mut MlpWork,
        loss: impl FnOnce(super::fused::HeadGrads) -> S,
    ) -> Option<S> {
        Some(self.fused_net()?.grads_of(obs, n, grads, work, loss))
    }

    /// Copies `weights` (in [`Params`] order) into the parameters, checking their count and
    /// each one's size: how a checkpoint's weights are loaded.
    pub fn load_weights(&mut self, weights: &[Vec<f32>]) -> Result<(), crate::error::AgentError> {
        use crate::error::AgentError;
        let params = &mut self.params;
        if weights.len() != params.items().len() {
            return Err(AgentError::Checkpoint(format!(
                "{} tensors stored, the policy has {}",
                weights.len(),
                params.items().len()
            )));
        }
        for (i, w) in weights.iter().enumerate() {
            let want = params.items()[i].len();
            if w.len() != want {
                return Err(AgentError::Checkpoint(format!(
                    "`{}` has {} values, the policy needs {want}",
                    params.items()[i].name,
                    w.len()
                )));
            }
            params.set(i, w);
        }
        Ok(())
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
            engine: Engine::Dfdx,
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
                let li = crate::ppo::loss::LossInput {
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
                    kl: crate::ppo::kl_reg::KlReg::OFF,
                };
                crate::ppo::loss::loss_and_grads(n, &li)
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
