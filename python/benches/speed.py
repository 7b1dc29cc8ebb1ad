"""Steps/s from Python: engram beside Gymnasium's own envs and SyncVectorEnv.

    python python/benches/speed.py            # the table in docs/benchmarks.md
    python python/benches/speed.py --quick    # a short run

Random actions are drawn before timing; every number is the best of 3 repeats.
"""

import argparse
import time

import gymnasium as gym
import numpy as np

import engram


def best_of(fn, repeats=3):
    return max(fn() for _ in range(repeats))


def single(make, steps, discrete=True):
    env = make()
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 2, steps) if discrete else rng.uniform(-1, 1, (steps, *env.action_space.shape)).astype(np.float32)
    acts = [int(a) for a in acts] if discrete else list(acts)

    def run():
        env.reset(seed=0)
        t = time.perf_counter()
        for a in acts:
            _, _, term, trunc, _ = env.step(a)
            if term or trunc:
                env.reset()
        return steps / (time.perf_counter() - t)

    return best_of(run)


def vector(venv, steps):
    venv.reset(seed=0)
    venv.action_space.seed(0)
    acts = [venv.action_space.sample() for _ in range(min(steps, 64))]

    def run():
        t = time.perf_counter()
        for i in range(steps):
            venv.step(acts[i % len(acts)])
        return steps * venv.num_envs / (time.perf_counter() - t)

    return best_of(run)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    k = 0.1 if args.quick else 1.0
    rows = []
    n1 = int(200_000 * k)
    g = single(lambda: gym.make("CartPole-v1").unwrapped, n1)
    e = single(lambda: engram.make("CartPole-v1"), n1)
    rows.append(("CartPole-v1, 1 env, Python loop", "gymnasium CartPole-v1", g, e))
    ge = single(lambda: gym.make("engram/CartPole-v1"), n1)
    rows.append(("CartPole-v1, 1 env, gymnasium.make wrappers", "gymnasium CartPole-v1 (make)", single(lambda: gym.make("CartPole-v1"), n1), ge))
    nv = int(200 * k) or 20
    sync = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(1024)])
    g = vector(sync, max(nv // 4, 5))
    for threads in (1, None):
        e = vector(engram.make_vec("CartPole-v1", 1024, threads=threads), nv)
        rows.append((f"CartPole-v1, 1,024 envs, threads={threads or 'all'}", "SyncVectorEnv(gymnasium)", g, e))
    sync_b = gym.vector.SyncVectorEnv([lambda: engram.make("PlanarBiped-v0") for _ in range(64)])
    g = vector(sync_b, max(nv // 4, 5))
    for threads in (1, None):
        e = vector(engram.make_vec("PlanarBiped-v0", 64, threads=threads), nv)
        rows.append((f"PlanarBiped-v0, 64 envs, threads={threads or 'all'}", "SyncVectorEnv(engram.make)", g, e))
    try:
        import envpool
    except ImportError:
        envpool = None
    if envpool is not None:
        # EnvPool's synchronous mode (batch_size == num_envs) is the same contract as make_vec.
        for n, threads in ((1, 1), (1024, 1), (1024, 2)):
            ep = envpool.make("CartPole-v1", env_type="gymnasium", num_envs=n, batch_size=n, num_threads=threads, seed=0)
            ep.reset()
            steps = n1 // 4 if n == 1 else nv
            acts = np.random.default_rng(0).integers(0, 2, (steps, n))

            def run_ep():
                t = time.perf_counter()
                for a in acts:
                    ep.step(a)
                return steps * n / (time.perf_counter() - t)

            e_ep = best_of(run_ep)
            ours = engram.make_vec("CartPole-v1", n, threads=threads)
            e = vector(ours, steps)
            rows.append((f"CartPole-v1, {n:,} env{'s' if n > 1 else ''}, {threads} thread{'s' if threads > 1 else ''}", f"EnvPool {envpool.__version__}", e_ep, e))
    print("| case | baseline | baseline steps/s | engram steps/s | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    for case, base, b, e in rows:
        print(f"| {case} | {base} | {b:,.0f} | {e:,.0f} | {e / b:.1f}× |")


if __name__ == "__main__":
    main()
