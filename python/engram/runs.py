"""Runs, checkpoints and recordings written by the ``engram`` CLI, loaded into NumPy."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from engram import _engram

PathLike = Union[str, Path]

_SAFETENSORS_DTYPES = {
    "F32": np.float32,
    "F64": np.float64,
    "I64": np.int64,
    "I32": np.int32,
    "U8": np.uint8,
}


def read_safetensors(path: PathLike) -> Dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file as NumPy arrays (no extra dependency)."""
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header of {n} bytes runs past the end of the file ({len(data)} bytes)")
    header = json.loads(data[8 : 8 + n])
    body = memoryview(data)[8 + n :]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(t["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor `{name}` has dtype {t['dtype']}, not one engram writes")
        start, end = t["data_offsets"]
        out[name] = np.frombuffer(body[start:end], dtype=dtype).reshape(t["shape"]).copy()
    return out


def _resolve_checkpoint(path: Path) -> Path:
    """The checkpoint directory of a run dir, a ``checkpoints/`` dir or a checkpoint dir."""
    if (path / "meta.json").exists():
        return path
    for root in (path / "checkpoints", path):
        latest = root / "latest.json"
        if latest.exists():
            return root / json.loads(latest.read_text())["dir"]
    raise FileNotFoundError(
        f"no checkpoint at {path} (expected meta.json, checkpoints/latest.json or latest.json)"
    )


def _read_metrics(run_dir: Path) -> Dict[str, np.ndarray]:
    """``metrics.csv`` as a dict of float arrays, one per column (empty when absent)."""
    p = run_dir / "metrics.csv"
    if not p.exists():
        return {}
    with p.open() as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    cols = rows[0]
    values = np.array([[float(x) for x in r] for r in rows[1:] if r], dtype=np.float64).reshape(-1, len(cols))
    return {c: values[:, j].copy() for j, c in enumerate(cols)}


class Policy:
    """A trained engram policy acting from NumPy observations through engram's own forward
    pass (the Rust network, the checkpoint's observation normalizer, recurrent state).

    ``act(obs, state=None, deterministic=True)`` takes ``obs`` of shape ``[obs_dim]`` or
    ``[n, obs_dim]`` and returns ``(actions, state)``; pass the returned state back on the next
    step (``None`` or :meth:`initial_state` at an episode start). For a Discrete action space
    the actions are integers.
    """

    def __init__(self, path: PathLike, seed: int = 0):
        self._core = _engram.Policy(str(path), seed)
        self.obs_dim = self._core.obs_dim
        self.action_len = self._core.action_len
        self.state_width = self._core.state_width
        self.env_id = self._core.env_id
        self.checkpoint = Path(self._core.checkpoint)
        self.state_slots = self._core.state_slots()
        self.env_config = json.loads(self._core.env_config_json())
        self._discrete = self._make_env().action_space.__class__.__name__ == "Discrete"

    def _make_env(self):
        from engram.env import make

        return make(self.env_id, **self.env_config)

    def make_env(self):
        """The env the policy was trained on, with the run's env config."""
        return self._make_env()

    def initial_state(self, n: int = 1) -> np.ndarray:
        """A zero hidden state ``[n, state_width]``."""
        return self._core.initial_state(n)

    def act(self, obs, state: Optional[np.ndarray] = None, deterministic: bool = True):
        x = np.asarray(obs, dtype=np.float32)
        single = x.ndim == 1
        if single:
            x = x[None, :]
        if x.ndim != 2:
            raise ValueError(f"policy: observations have shape {np.shape(obs)}, expected [obs_dim] or [n, obs_dim]")
        actions, _values, state = self._core.act(np.ascontiguousarray(x), state, deterministic)
        if self._discrete:
            actions = actions[:, 0].astype(np.int64)
        return (actions[0] if single else actions), state

    def values(self, obs, state: Optional[np.ndarray] = None) -> np.ndarray:
        """Value estimates ``[n]`` of observations ``[n, obs_dim]``."""
        x = np.ascontiguousarray(np.asarray(obs, dtype=np.float32).reshape(-1, self.obs_dim))
        return self._core.act(x, state, True)[1]

    def __repr__(self) -> str:
        return f"Policy<{self.env_id}, {self.checkpoint}>"


class Run:
    """A run directory: ``config`` (the resolved training config of its latest checkpoint),
    ``metrics`` (``metrics.csv`` as a dict of arrays), ``weights`` (name -> NumPy array),
    ``obs_rms`` (the observation normalizer, if any) and :meth:`policy`."""

    def __init__(self, path: PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such run directory or checkpoint")
        self.checkpoint = _resolve_checkpoint(self.path)
        meta = json.loads((self.checkpoint / "meta.json").read_text())
        self.meta = meta
        self.config = meta["config"]
        self.state = meta.get("state", {})
        self.param_names = [p["name"] for p in meta["params"]]
        run_dir = self.checkpoint.parent.parent if self.checkpoint.parent.name == "checkpoints" else self.path
        self.run_dir = run_dir
        self.metrics = _read_metrics(run_dir)
        self._weights = None

    @property
    def weights(self) -> Dict[str, np.ndarray]:
        """The parameters, in checkpoint order."""
        if self._weights is None:
            tensors = read_safetensors(self.checkpoint / "weights.safetensors")
            self._weights = {name: tensors[name] for name in self.param_names}
        return self._weights

    @property
    def obs_rms(self) -> Optional[dict]:
        """``{"mean", "var", "count"}`` of the observation normalizer (and ``"passthrough"``, the
        components it leaves unnormalized, when there are any), or None."""
        rms = self.state.get("obs_rms")
        if not rms:
            return None
        return {k: (np.asarray(v, dtype=np.float64) if isinstance(v, list) else v) for k, v in rms.items()}

    def policy(self, seed: int = 0) -> Policy:
        """The policy of this checkpoint (engram's forward pass)."""
        return Policy(self.checkpoint, seed=seed)

    def __repr__(self) -> str:
        return f"Run<{self.config.get('env')}, {self.checkpoint}>"


def load_run(path: PathLike) -> Run:
    """A run directory, its ``checkpoints/`` directory or one checkpoint directory."""
    return Run(path)


class Recording:
    """A recording written by ``engram record``: ``manifest`` (dict) and ``arrays`` (file stem
    -> NumPy array: ``obs``, ``actions``, ``rewards``, ``values``, ``hidden``, ``terminated``,
    ``truncated``, ``info``, ``episode``, ``t``); ``info_dict()`` splits ``info`` by key and
    ``episodes()`` yields each episode's rows."""

    def __init__(self, path: PathLike, mmap: bool = False):
        self.path = Path(path)
        mp = self.path / "manifest.json"
        if not mp.exists():
            raise FileNotFoundError(f"{self.path}: no manifest.json (not an engram recording)")
        self.manifest = json.loads(mp.read_text())
        self.arrays = {}
        for name in self.manifest.get("files", {}):
            self.arrays[Path(name).stem] = np.load(self.path / name, mmap_mode="r" if mmap else None)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def __getattr__(self, key: str) -> np.ndarray:
        arrays = self.__dict__.get("arrays", {})
        if key in arrays:
            return arrays[key]
        raise AttributeError(key)

    def info_dict(self) -> Dict[str, np.ndarray]:
        """The ``info`` columns by key."""
        info = self.arrays["info"]
        return {k: info[:, j] for j, k in enumerate(self.manifest.get("info_keys", []))}

    def episodes(self):
        """``(episode index, {name: rows of that episode})`` in order."""
        ep = self.arrays["episode"]
        for e in np.unique(ep):
            rows = ep == e
            yield int(e), {k: v[rows] for k, v in self.arrays.items()}


def load_recording(path: PathLike, mmap: bool = False) -> Recording:
    """A recording directory (``manifest.json`` and ``.npy`` files)."""
    return Recording(path, mmap=mmap)
