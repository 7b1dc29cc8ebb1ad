#!/usr/bin/env python3
"""Throwaway: record MotorNet 0.3.0's RigidTendonArm26 for engram's cross-check test.

    python -m venv /tmp/mn && /tmp/mn/bin/pip install torch==2.15.0 gymnasium motornet==0.3.0
    /tmp/mn/bin/python scripts/motornet_fixture.py tests/data/motornet/arm26_rigid.json

Also `--bench` times MotorNet's effector stepping (batch 1 and 64, one torch thread).

Each case: an initial joint state [q1, q2, q1', q2'] and 100 excitation vectors (1 s at
10 ms); recorded after the reset and after every step: joint state, the six muscle forces,
activations and the fingertip position. Values are MotorNet's float32, written as floats.
"""
import json
import math
import sys
import time

import numpy as np
import torch
import motornet as mn

N = 100
DT = 0.01


def excitations(kind):
    t = np.arange(N) * DT
    if kind == "rest":
        return np.zeros((N, 6))
    if kind == "cocontract":
        return np.full((N, 6), 0.2)
    if kind == "pulses":
        u = np.zeros((N, 6))
        for k in range(N):
            u[k, (k // 15) % 6] = 0.6
        return u
    if kind == "sines":
        ph = np.arange(6)[None, :]
        return 0.25 + 0.25 * np.sin(2 * math.pi * (1.0 + 0.5 * ph) * t[:, None] + ph)
    if kind == "flex_then_extend":
        u = np.full((N, 6), 0.05)
        u[:30, [0, 2, 4]] = 0.5
        u[30:60, [1, 3, 5]] = 0.5
        return u
    if kind == "out_of_range":
        # Clipped by MotorNet to [min_activation, 1].
        u = np.full((N, 6), -0.5)
        u[:, 0] = 1.5
        u[50:, 3] = 2.0
        return u
    raise ValueError(kind)


CASES = [
    ("rest", [60, 90], [0, 0]),
    ("cocontract", [60, 90], [0, 0]),
    ("pulses", [60, 90], [0, 0]),
    ("sines", [30, 60], [0, 0]),
    ("flex_then_extend", [90, 120], [0.5, -0.5]),
    ("out_of_range", [45, 100], [0, 0]),
]


def make():
    return mn.effector.RigidTendonArm26(muscle=mn.muscle.RigidTendonHillMuscle(), timestep=DT)


def record(kind, q_deg, qd):
    eff = make()
    js = torch.tensor([[math.radians(q_deg[0]), math.radians(q_deg[1]), qd[0], qd[1]]], dtype=torch.float32)
    eff.reset(options={"batch_size": 1, "joint_state": js})
    u = excitations(kind)
    out = {"joint": [], "force": [], "activation": [], "hand": []}

    def snap():
        out["joint"].append(eff.states["joint"][0].tolist())
        out["force"].append(eff.states["muscle"][0, 6, :].tolist())
        out["activation"].append(eff.states["muscle"][0, 0, :].tolist())
        out["hand"].append(eff.states["fingertip"][0].tolist())

    snap()
    for k in range(N):
        eff.step(torch.tensor(u[k][None, :], dtype=torch.float32))
        snap()
    return {"name": kind, "joint0": js[0].tolist(), "excitation": u.tolist(), **out}


def bench():
    torch.set_num_threads(1)
    for batch in (1, 64):
        eff = make()
        eff.reset(options={"batch_size": batch})
        u = torch.full((batch, 6), 0.2)
        n = 2000 if batch == 1 else 500
        with torch.no_grad():
            for _ in range(50):
                eff.step(u)
            t0 = time.perf_counter()
            for _ in range(n):
                eff.step(u)
            dt = time.perf_counter() - t0
        print(f"motornet RigidTendonArm26 effector.step batch {batch}: {n / dt:.0f} calls/s, {n * batch / dt:.0f} arm-steps/s")


if __name__ == "__main__":
    if "--bench" in sys.argv:
        bench()
        sys.exit(0)
    path = sys.argv[1]
    with torch.no_grad():
        cases = [record(*c) for c in CASES]
    doc = {
        "source": "motornet==0.3.0 RigidTendonArm26(RigidTendonHillMuscle), timestep 0.01, torch " + torch.__version__,
        "dt_s": DT,
        "cases": cases,
    }
    def r(x):
        if isinstance(x, list):
            return [r(y) for y in x]
        if isinstance(x, dict):
            return {k: r(v) for k, v in x.items()}
        return float(f"{x:.7g}") if isinstance(x, float) else x

    with open(path + ".tmp", "w") as f:
        json.dump(r(doc), f, separators=(",", ":"))
    import os
    os.replace(path + ".tmp", path)
    print("wrote", path)
