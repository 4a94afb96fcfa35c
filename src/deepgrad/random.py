"""``deepgrad.Generator``: a torch-style random generator that is also a NumPy one.

It subclasses ``numpy.random.Generator`` (PCG64) so that every place that
already takes a NumPy generator (``DataLoader(generator=)``, ``random_split``,
``nn.init``, the random factories) takes it unchanged. On top it has torch's
methods: ``manual_seed`` (returns self, so ``Generator().manual_seed(0)``
chains), ``seed``, ``initial_seed``, ``get_state``/``set_state`` (a uint8
tensor, so it saves in a safetensors checkpoint) and ``device``.

``Generator().manual_seed(s)`` draws exactly what the global generator draws
after ``deepgrad.manual_seed(s)``, as torch's do. The global generator stays
``backend.get_generator()``: it is the default wherever ``generator=None``.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgrad import backend, devices
from deepgrad.backend import get_rng_state, initial_seed, manual_seed, set_rng_state

if TYPE_CHECKING:
    from deepgrad.tensor import Tensor

__all__ = ["Generator", "get_rng_state", "initial_seed", "manual_seed", "resolve", "seed",
           "set_rng_state"]  # torch.random's global functions are here too

DEFAULT_SEED = 67280421310721
"""torch's seed for a fresh ``Generator()``: unseeded generators are reproducible too."""

_U64 = 1 << 64
_STATE_BYTES = 16 + 16 + 1 + 4 + 8  # PCG64 state, increment, has_uint32, uinteger, seed


def _check_seed(seed: Any) -> int:
    """torch's rule: a Python int in [-2**63, 2**64); negative seeds wrap modulo 2**64."""
    if isinstance(seed, np.integer):  # torch refuses these too; int(seed) is the fix
        raise TypeError(f"manual_seed: an integer is required, got {type(seed).__name__}; "
                        f"pass int(seed)")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    value = int(seed)
    if not -(1 << 63) <= value < _U64:
        raise ValueError(f"manual_seed: seed {value} is out of range [-2**63, 2**64)")
    return value % _U64


class Generator(np.random.Generator):
    """A seeded stream of random numbers for the ``generator=`` of random functions."""

    def __init__(self, device: Any = "cpu") -> None:
        # As torch, a generator belongs to a device type: "cpu:0" is "cpu".
        self._device = devices.device(devices.check_device(device, "Generator").type)
        self._initial_seed = DEFAULT_SEED
        super().__init__(np.random.PCG64(DEFAULT_SEED))

    @property
    def device(self) -> devices.device:
        return self._device

    def manual_seed(self, seed: int) -> Generator:
        """Reseed in place; the stream equals the global one after ``manual_seed(seed)``."""
        value = _check_seed(seed)
        self.bit_generator.state = np.random.PCG64(value).state
        self._initial_seed = value
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        value = secrets.randbits(64)
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> Tensor:
        """The full state as a 1-D uint8 tensor (for ``set_state`` or a checkpoint)."""
        from deepgrad.tensor import Tensor

        state = self.bit_generator.state
        raw = (int(state["state"]["state"]).to_bytes(16, "little")
               + int(state["state"]["inc"]).to_bytes(16, "little")
               + bytes([int(state["has_uint32"])])
               + int(state["uinteger"]).to_bytes(4, "little")
               + self._initial_seed.to_bytes(8, "little"))
        return Tensor(np.frombuffer(raw, dtype=np.uint8).copy(), _copy=False)

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from ``get_state`` (the initial seed comes back with it)."""
        from deepgrad.tensor import Tensor

        if not isinstance(new_state, Tensor):
            raise TypeError(f"set_state: expected a uint8 Tensor, got "
                            f"{type(new_state).__name__}")
        if new_state.dtype != np.uint8:
            raise TypeError(f"set_state: RNG state must be a uint8 tensor, got dtype "
                            f"{new_state.dtype}")
        raw = new_state.detach().numpy().tobytes()
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(f"set_state: expected a state of {_STATE_BYTES} bytes (from "
                               f"Generator.get_state), got {len(raw)}")
        self.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[0:16], "little"),
                      "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": raw[32],
            "uinteger": int.from_bytes(raw[33:37], "little"),
        }
        self._initial_seed = int.from_bytes(raw[37:45], "little")
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # NumPy's own reduce would rebuild a plain numpy Generator; keep the class.
        return (_rebuild, (str(self._device), self.get_state().detach().numpy().tobytes()))

    def __repr__(self) -> str:
        return f"<deepgrad.Generator device='{self._device}' initial_seed={self._initial_seed}>"

    __str__ = __repr__


def _rebuild(dev: str, raw: bytes) -> Generator:
    from deepgrad.tensor import Tensor

    g = Generator(dev)
    return g.set_state(Tensor(np.frombuffer(raw, dtype=np.uint8).copy(), _copy=False))


def resolve(generator: Any, op: str) -> np.random.Generator:
    """The NumPy generator to draw from: the given one, else the global one (read now,
    so ``manual_seed`` takes effect)."""
    if generator is None:
        return backend.get_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{op}(): argument 'generator' must be a deepgrad.Generator, not "
                    f"{type(generator).__name__}")


def seed() -> int:
    """Seed the global generator from the operating system's entropy; return the seed."""
    value = secrets.randbits(63)
    backend.manual_seed(value)
    return value
