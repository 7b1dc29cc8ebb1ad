"""A run's policy as a ``torch.nn.Module`` (PyTorch is optional: imported only here).

    module = engram.torch.to_torch(engram.load_run("runs/curl-reach-gru"))
    head, value, state = module(obs, state)   # obs [n, obs_dim] float32 tensor, state [n, W] or None

``head`` is the Gaussian mean (Box actions: the deterministic action) or the categorical
logits (Discrete: ``head.argmax(-1)``); ``value`` is ``[n]``; ``state`` has engram's
hidden-state layout (``Policy.state_slots``: actor then critic, per layer ``h`` then, for
an LSTM, ``c``). The module applies the run's observation normalizer first, as engram does.
Weights are engram's, transposed into PyTorch's layout; the gate equations are PyTorch's
(``nn.RNNCell``, ``nn.GRUCell``, ``nn.LSTMCell``), so the module reproduces engram's forward
pass up to float rounding (``python/tests/test_torch.py``).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover - exercised only without PyTorch
    raise ImportError("engram.torch needs PyTorch: pip install torch") from e

from engram.runs import Run

_EPS = 1e-8


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


class _Trunk(nn.Module):
    def __init__(self, w: dict, prefix: str, kind: str, layers: int, hidden: list):
        super().__init__()
        self.kind = kind
        self.cells = nn.ModuleList()
        for l in range(layers if kind != "mlp" else 0):
            p = f"{prefix}.rnn{l}"
            w_ih, w_hh = w[f"{p}.weight_ih"], w[f"{p}.weight_hh"]
            inp, hd = w_ih.shape[0], w_hh.shape[0]
            cell = {"rnn": nn.RNNCell, "gru": nn.GRUCell, "lstm": nn.LSTMCell}[kind](inp, hd)
            with torch.no_grad():
                cell.weight_ih.copy_(_t(w_ih.T))
                cell.weight_hh.copy_(_t(w_hh.T))
                if kind == "gru":
                    cell.bias_ih.copy_(_t(w[f"{p}.bias_ih"][0]))
                    cell.bias_hh.copy_(_t(w[f"{p}.bias_hh"][0]))
                else:
                    cell.bias_ih.copy_(_t(w[f"{p}.bias"][0]))
                    cell.bias_hh.zero_()
            self.cells.append(cell)
        self.mlp = nn.ModuleList()
        k = 0
        while f"{prefix}.mlp{k}.weight" in w:
            wt = w[f"{prefix}.mlp{k}.weight"]
            lin = nn.Linear(wt.shape[0], wt.shape[1])
            with torch.no_grad():
                lin.weight.copy_(_t(wt.T))
                lin.bias.copy_(_t(w[f"{prefix}.mlp{k}.bias"][0]))
            self.mlp.append(lin)
            k += 1

    def width(self) -> int:
        per = 2 if self.kind == "lstm" else 1
        return sum(per * c.hidden_size for c in self.cells)

    def forward(self, x: torch.Tensor, state: torch.Tensor):
        new = []
        off = 0
        for cell in self.cells:
            hd = cell.hidden_size
            h = state[:, off : off + hd]
            off += hd
            if self.kind == "lstm":
                c = state[:, off : off + hd]
                off += hd
                h, c = cell(x, (h, c))
                new += [h, c]
            else:
                h = cell(x, h)
                new.append(h)
            x = h
        for lin in self.mlp:
            x = torch.tanh(lin(x))
        return x, new


class EngramPolicyModule(nn.Module):
    """The actor-critic of an engram checkpoint; see the module docs."""

    def __init__(self, run: Run):
        super().__init__()
        cfg = run.config
        w = run.weights
        pc = cfg["policy"]
        kind = str(pc["kind"]).lower()
        layers = int(pc.get("rnn_layers", 1))
        self.shared = bool(pc.get("shared_trunk", False))
        self.actor = _Trunk(w, "actor", kind, layers, pc.get("hidden", []))
        self.critic = None if self.shared else _Trunk(w, "critic", kind, layers, pc.get("hidden", []))
        self.pi = nn.Linear(*w["pi.weight"].shape)
        self.v = nn.Linear(*w["v.weight"].shape)
        with torch.no_grad():
            self.pi.weight.copy_(_t(w["pi.weight"].T))
            self.pi.bias.copy_(_t(w["pi.bias"][0]))
            self.v.weight.copy_(_t(w["v.weight"].T))
            self.v.bias.copy_(_t(w["v.bias"][0]))
        self.log_std = nn.Parameter(_t(w["pi.log_std"][0])) if "pi.log_std" in w else None
        rms = run.obs_rms
        obs_dim = w[next(k for k in w if k.endswith("weight_ih") or k.endswith("mlp0.weight"))].shape[0]
        mean = np.zeros(obs_dim) if rms is None else rms["mean"]
        var = np.ones(obs_dim) - _EPS if rms is None else rms["var"]
        if rms is not None and rms.get("passthrough"):
            # Components the normalizer passes through unchanged (engram's RunningMeanStd).
            mean, var = np.array(mean, dtype=np.float64), np.array(var, dtype=np.float64)
            mean[rms["passthrough"]] = 0.0
            var[rms["passthrough"]] = 1.0 - _EPS
        self.normalize = rms is not None
        self.register_buffer("obs_mean", torch.tensor(mean, dtype=torch.float64))
        self.register_buffer("obs_std", torch.sqrt(torch.tensor(var, dtype=torch.float64) + _EPS))
        self.obs_clip = float(cfg.get("ppo", {}).get("obs_clip", 10.0))
        self.state_width = self.actor.width() + (0 if self.critic is None else self.critic.width())

    def initial_state(self, n: int) -> torch.Tensor:
        return torch.zeros(n, self.state_width)

    def forward(self, obs: torch.Tensor, state: Optional[torch.Tensor] = None):
        if self.normalize:
            z = (obs.to(torch.float64) - self.obs_mean) / self.obs_std
            obs = z.to(torch.float32).clamp(-self.obs_clip, self.obs_clip)
        if state is None:
            state = self.initial_state(obs.shape[0])
        wa = self.actor.width()
        xa, new_a = self.actor(obs, state[:, :wa])
        if self.critic is None:
            xc, new_c = xa, []
        else:
            xc, new_c = self.critic(obs, state[:, wa:])
        parts = new_a + new_c
        new_state = torch.cat(parts, dim=1) if parts else state
        return self.pi(xa), self.v(xc)[:, 0], new_state


def to_torch(run) -> EngramPolicyModule:
    """The policy of ``run`` (a :class:`engram.Run` or a path) as a ``torch.nn.Module``."""
    if not isinstance(run, Run):
        run = Run(run)
    return EngramPolicyModule(run).eval()
