#!/usr/bin/env python3
"""Per-seed null-field reach kinematics of trained CurlReach runs (issue 16).

Produces, for each run directory given, one table row (markdown) with: success over 200
`engram eval` episodes (the run's own env config, 20 % catch trials), success over 32 rendered
null-field reaches, and the medians over those 32 reaches (8 targets x render seeds 0, 100, 200,
300; `engram render --policy checkpoint --field null --json`, the default CurlReach-v0 task) of
peak speed, movement duration, peak-time fraction, path ratio and |max lateral deviation|, plus
the shares of reaches with the peak at 35-65 % of the movement, single-peaked, and both
("bell"). Kinematics are those of envs/src/tasks/reach/metrics.rs (onset/offset and peaks at
10 % of peak speed); the pass flags follow its `KinematicsSummary` (targets::*), with the bell
target both as the code states it (>= 90 % of reaches bell-shaped) and as medians (median peak
time in 35-65 % and >= 90 % single-peaked).

Usage: python3 scripts/reach_kinematics.py [--engram ./target/release/engram] RUN [RUN ...]
Render JSON and eval output are cached in RUN/kinematics/ (delete it to recompute).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

RENDER_SEEDS = [0, 100, 200, 300]
EVAL_EPISODES = 200
PEAK_SPEED = (0.25, 0.5)
DURATION = (0.3, 0.7)
PEAK_FRACTION = (0.35, 0.65)
BELL_SHARE_MIN = 0.9
SUCCESS_MIN = 0.95
MAX_DEV_M = 0.01
PATH_RATIO_MAX = 1.1


def run_cmd(cmd, out_path):
    if not os.path.exists(out_path):
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        tmp = out_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(res.stdout)
        os.replace(tmp, out_path)
    with open(out_path) as f:
        return f.read()


def median(xs):
    xs = [x for x in xs if x is not None and x == x]
    return statistics.median(xs) if xs else float("nan")


def measure(run, engram):
    cache = os.path.join(run, "kinematics")
    os.makedirs(cache, exist_ok=True)
    ev = json.loads(run_cmd([engram, "eval", "--checkpoint", run, "--episodes", str(EVAL_EPISODES), "--json"],
                            os.path.join(cache, "eval.json")))
    trials = []
    for s in RENDER_SEEDS:
        path = os.path.join(cache, f"render_{s}.json")
        if not os.path.exists(path):
            subprocess.run([engram, "render", "--policy", "checkpoint", "--checkpoint", run, "--field", "null",
                            "--seed", str(s), "--out", os.path.join(cache, f"paths_{s}.png"), "--json", path],
                           check=True, capture_output=True)
        with open(path) as f:
            trials += [m for m in json.load(f)["run"]["metrics"] if not m["catch"]]
    n = len(trials)
    within = lambda x, r: x is not None and r[0] <= x <= r[1]
    row = {
        "eval_success": ev["success_rate"],
        "render_success": sum(m["success"] for m in trials) / n,
        "peak_speed": median([m["peak_speed_m_s"] for m in trials]),
        "duration": median([m["movement_duration_s"] for m in trials]),
        "peak_frac": median([m["peak_time_fraction"] for m in trials]),
        "in_window": sum(within(m["peak_time_fraction"], PEAK_FRACTION) for m in trials) / n,
        "single": sum(m["speed_peaks"] == 1 for m in trials) / n,
        "bell": sum(m["speed_peaks"] == 1 and within(m["peak_time_fraction"], PEAK_FRACTION) for m in trials) / n,
        "path_ratio": median([m["path_ratio"] for m in trials]),
        "max_dev_mm": 1e3 * median([abs(m["max_lateral_deviation_m"]) for m in trials
                                    if m["max_lateral_deviation_m"] is not None]),
        "trials": n,
    }
    ok = {
        "success": row["eval_success"] >= SUCCESS_MIN,
        "speed": within(row["peak_speed"], PEAK_SPEED),
        "duration": within(row["duration"], DURATION),
        "bell": row["bell"] >= BELL_SHARE_MIN,
        "bell_median": within(row["peak_frac"], PEAK_FRACTION) and row["single"] >= BELL_SHARE_MIN,
        "straight": row["max_dev_mm"] <= 1e3 * MAX_DEV_M or row["path_ratio"] <= PATH_RATIO_MAX,
    }
    row["fails"] = ",".join(k for k, v in ok.items() if not v) or "-"
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engram", default="./target/release/engram")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    print("| run | success, 200 eval episodes | success, 32 rendered | peak speed (m/s) | duration (s) "
          "| peak time (fraction) | peak at 35-65 % | single-peaked | bell (both) | path ratio "
          "| max \\|lateral dev.\\| (mm) | targets missed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in a.runs:
        try:
            r = measure(run.rstrip("/"), a.engram)
        except (subprocess.CalledProcessError, OSError, KeyError, ValueError) as e:
            print(f"| {run} | error: {e} |", file=sys.stderr)
            continue
        print(f"| {run} | {100 * r['eval_success']:.1f} % | {100 * r['render_success']:.0f} % | "
              f"{r['peak_speed']:.2f} | {r['duration']:.2f} | {r['peak_frac']:.2f} | {100 * r['in_window']:.0f} % | "
              f"{100 * r['single']:.0f} % | {100 * r['bell']:.0f} % | {r['path_ratio']:.2f} | {r['max_dev_mm']:.1f} | "
              f"{r['fails']} |", flush=True)


if __name__ == "__main__":
    main()
