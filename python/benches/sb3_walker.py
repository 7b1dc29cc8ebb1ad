"""SB3 PPO training throughput on MuJoCo's Walker2d-v5, the anchor for issue 17's
`engram bench train --env PlanarBipedDR-v0` (docs/benchmarks.md).

Set-up (a throwaway virtualenv; stable-baselines3 pulls torch, about 5.5 GB of wheels):

    python3 -m venv /tmp/sb3env
    /tmp/sb3env/bin/pip install stable-baselines3 'gymnasium[mujoco]'
    /tmp/sb3env/bin/python python/benches/sb3_walker.py --threads 1 --policy mlp

Settings are engram's walking recipe (scripts/configs/biped_mlp_walk.toml): 16 envs x
256 steps = 4,096 samples per update, 10 epochs, minibatch 512, 64x64 tanh MLP (SB3's
default net) for `--policy mlp`; sb3-contrib's RecurrentPPO with an LSTM of 64 units for
`--policy lstm` (only if sb3-contrib is installed). Prints env steps/s of training
(rollout + update) over `--updates` updates after one warm-up update, median of `--repeats`,
and per CPU-second of this process (the fair figure on a shared machine).
"""

import argparse
import statistics
import time


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--policy", choices=["mlp", "lstm"], default="mlp")
    p.add_argument("--updates", type=int, default=3, help="timed updates per repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--n-envs", type=int, default=16)
    p.add_argument("--n-steps", type=int, default=256)
    args = p.parse_args()

    import torch
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(args.threads)
    venv = make_vec_env("Walker2d-v5", n_envs=args.n_envs, seed=0)
    batch = args.n_envs * args.n_steps
    if args.policy == "mlp":
        from stable_baselines3 import PPO

        model = PPO("MlpPolicy", venv, n_steps=args.n_steps, batch_size=512, n_epochs=10, gamma=0.998,
                    device="cpu", seed=0, verbose=0)
    else:
        from sb3_contrib import RecurrentPPO

        model = RecurrentPPO("MlpLstmPolicy", venv, n_steps=args.n_steps, batch_size=1024, n_epochs=10,
                             gamma=0.998, policy_kwargs={"lstm_hidden_size": 64}, device="cpu", seed=0, verbose=0)
    model.learn(total_timesteps=batch)  # warm-up update
    rates, cpu_rates = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model.learn(total_timesteps=batch * args.updates, reset_num_timesteps=False)
        rates.append(batch * args.updates / (time.perf_counter() - t0))
        cpu_rates.append(batch * args.updates / (time.process_time() - c0))
    print(f"SB3 PPO {args.policy} Walker2d-v5, {args.n_envs}x{args.n_steps}, torch threads {args.threads}: "
          f"median {statistics.median(rates):.0f} env steps/s of training, {statistics.median(cpu_rates):.0f} per CPU-s "
          "(runs: " + ", ".join(f"{r:.0f}" for r in rates) + ")")


if __name__ == "__main__":
    main()
