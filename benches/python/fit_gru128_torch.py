"""PyTorch twin of `engram fit --config scripts/configs/fit_flipflop_gru128_bench.toml`:
a GRU-128 + linear readout trained by BPTT with Adam on the 3-bit flip-flop (100 steps,
batch 64, pulse probability 0.05), one thread. Prints sequence-steps/s (trial steps × trials
per second of training, batch generation included, as in engram's metric).

    pip install torch numpy   # CPU wheel
    python3 benches/python/fit_gru128_torch.py
"""
import time

import numpy as np
import torch

torch.set_num_threads(1)
B, T, H, BITS, P, STEPS = 64, 100, 128, 3, 0.05, 200
rng = np.random.default_rng(0)


def batch():
    pulse = rng.random((B, T, BITS)) < P
    sign = np.where(rng.random((B, T, BITS)) < 0.5, 1.0, -1.0)
    x = (pulse * sign).astype(np.float32)
    y = np.zeros_like(x)
    m = np.zeros_like(x)
    last = np.zeros((B, BITS), np.float32)
    for t in range(T):
        last = np.where(pulse[:, t], sign[:, t], last)
        y[:, t] = last
        m[:, t] = last != 0
    return map(torch.from_numpy, (x, y, m))


gru = torch.nn.GRU(BITS, H, batch_first=True)
out = torch.nn.Linear(H, BITS)
opt = torch.optim.Adam(list(gru.parameters()) + list(out.parameters()), lr=1e-3)
t0 = time.perf_counter()
for step in range(STEPS):
    x, y, m = batch()
    h, _ = gru(x)
    loss = ((out(h) - y) ** 2 * m).sum() / m.sum().clamp(min=1)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(gru.parameters()) + list(out.parameters()), 1.0)
    opt.step()
dt = time.perf_counter() - t0
print(f"torch {torch.__version__}: {STEPS * B * T / dt:.0f} seq-steps/s, loss {loss.item():.4f}")
