"""Shared fixtures: the `engram` binary (for training and recording runs from Rust)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def engram_bin() -> Path:
    """`ENGRAM_BIN`, else the workspace's release binary (built if missing)."""
    env = os.environ.get("ENGRAM_BIN")
    if env:
        return Path(env)
    exe = ROOT / "target" / "release" / "engram"
    if not exe.exists():
        subprocess.run(
            ["cargo", "build", "--release", "-p", "engram-agents", "--bin", "engram"], cwd=ROOT, check=True
        )
    return exe


def run(engram_bin: Path, *args: str) -> str:
    out = subprocess.run([str(engram_bin), *args], capture_output=True, text=True)
    assert out.returncode == 0, f"engram {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


@pytest.fixture(scope="session")
def gru_run(tmp_path_factory, engram_bin):
    """A small GRU run on CurlReach trained by `engram train`, and a recording of it. One
    observation component passes through the normalizer, so every consumer must honour it."""
    d = tmp_path_factory.mktemp("runs")
    run_dir, rec = d / "gru", d / "gru_rec"
    run(
        engram_bin, "train", "--env", "CurlReach-v0", "--policy", "gru",
        "--set", "total_timesteps=2048", "--set", "ppo.n_envs=4", "--set", "ppo.n_steps=256",
        "--set", "ppo.minibatch_size=256", "--set", "ppo.obs_norm_passthrough=[2]",
        "--out", str(run_dir), "--quiet",
    )  # fmt: skip
    run(engram_bin, "record", "--checkpoint", str(run_dir), "--out", str(rec), "--episodes", "4", "--seed", "7")
    run(engram_bin, "record", "--checkpoint", str(run_dir), "--out", str(d / "gru_rec1"), "--episodes", "1", "--seed", "9")
    return run_dir, rec


@pytest.fixture(scope="session")
def mlp_run(tmp_path_factory, engram_bin):
    """A small MLP run on CartPole (Discrete actions) and a recording of it."""
    d = tmp_path_factory.mktemp("runs")
    run_dir, rec = d / "mlp", d / "mlp_rec"
    run(
        engram_bin, "train", "--env", "CartPole-v1", "--policy", "mlp",
        "--set", "total_timesteps=4096", "--set", "ppo.n_envs=4", "--set", "ppo.n_steps=256",
        "--set", "ppo.minibatch_size=256", "--out", str(run_dir), "--quiet",
    )  # fmt: skip
    run(engram_bin, "record", "--checkpoint", str(run_dir), "--out", str(rec), "--episodes", "3", "--seed", "3")
    run(engram_bin, "record", "--checkpoint", str(run_dir), "--out", str(d / "mlp_rec1"), "--episodes", "1", "--seed", "4")
    return run_dir, rec
