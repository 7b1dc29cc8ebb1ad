"""engram from Python.

- ``engram.make(id, **config)``: a ``gymnasium.Env`` backed by engram's Rust env;
- ``engram.make_vec(id, num_envs, threads=None, autoreset="next_step", **config)``: a
  ``gymnasium.vector.VectorEnv`` whose arrays are NumPy views on engram's buffers;
- every engram id is registered with Gymnasium as ``engram/<id>`` on ``import engram``;
- ``engram.load_run(path)``: config, metrics, weights and a ``Policy`` of a run directory;
- ``engram.load_recording(path)``: a recording's arrays and manifest.
"""

from engram import _engram
from engram.env import EngramEnv, make
from engram.vector import EngramVectorEnv, make_vec
from engram.runs import Policy, Run, Recording, load_run, load_recording, read_safetensors
from engram.gym import register_envs, ids

__version__ = _engram.__version__

__all__ = [
    "EngramEnv",
    "EngramVectorEnv",
    "Policy",
    "Recording",
    "Run",
    "ids",
    "load_recording",
    "load_run",
    "make",
    "make_vec",
    "read_safetensors",
    "register_envs",
]

register_envs()


def __getattr__(name):
    # `engram.torch` (PyTorch helpers) is imported on first use: PyTorch is optional.
    if name == "torch":
        import importlib

        return importlib.import_module("engram.torch")
    raise AttributeError(f"module 'engram' has no attribute {name!r}")
