"""Train Stable-Baselines3 PPO on engram's CurlReach through `gymnasium.make`, then plot the
hand paths to the 8 targets (null field, then the curl field) with matplotlib.

    pip install ./python stable-baselines3 matplotlib
    python python/examples/sb3_curl_reach.py --steps 200000 --out curl_reach_sb3.png

SB3's PPO is memoryless (an MLP), so it sees the delayed go cue only through the observation
(`obs[2]`); engram's own GRU agents (`engram train --config
scripts/configs/curl_reach_gru.toml`) are the reference for this task.
"""

import argparse

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

import engram  # noqa: E402,F401  (registers the engram/ ids with Gymnasium)

ENV_ID = "engram/CurlReach-v0"


def hand_path(model, target: int, field: bool, seed: int):
    """One deterministic trial to `target`; returns the hand positions and the target."""
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=seed, options={"target": target, "field": float(field), "catch": 0.0})
    xs, ys = [info["hand_x"]], [info["hand_y"]]
    done = False
    while not done:
        action, _ = model.predict(obs, deterministic=True)
        obs, _, terminated, truncated, info = env.step(action)
        xs.append(info["hand_x"])
        ys.append(info["hand_y"])
        done = terminated or truncated
    return np.array(xs), np.array(ys), (info["target_x"], info["target_y"]), bool(info["success"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="curl_reach_sb3.png")
    args = ap.parse_args()
    venv = make_vec_env(ENV_ID, n_envs=8, seed=args.seed)
    model = PPO("MlpPolicy", venv, n_steps=256, batch_size=256, seed=args.seed, verbose=0)
    model.learn(total_timesteps=args.steps)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), sharex=True, sharey=True)
    for ax, field in zip(axes, (False, True)):
        hits = 0
        for target in range(8):
            xs, ys, (tx, ty), success = hand_path(model, target, field, seed=1000 + target)
            hits += success
            ax.plot(xs, ys, lw=1.2)
            ax.add_patch(plt.Circle((tx, ty), 0.01, fill=False, color="k"))
        ax.set_title(f"{'curl field' if field else 'null field'}: {hits}/8 targets")
        ax.set_aspect("equal")
        ax.set_xlabel("hand x (m)")
    axes[0].set_ylabel("hand y (m)")
    fig.suptitle(f"SB3 PPO on {ENV_ID}, {args.steps:,} steps")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
