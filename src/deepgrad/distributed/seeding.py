"""One documented seed per rank, for what must differ between ranks (dropout, augmentation).

In data-parallel training the ranks must start from the same weights (DDP
broadcasts rank 0's anyway) but must *not* draw the same dropout masks or
augmentations, or N ranks would do the work of one. The rule:

    rank_seed(seed, 0) == seed
    rank_seed(seed, r) == 63-bit int from numpy.random.SeedSequence([seed, r])   (r > 0)

Rank 0 keeps the run's own seed, so a one-rank distributed run draws
exactly what a plain run with that seed draws; the other ranks get
independent streams (SeedSequence hashes, so seed 1 on rank 0 and seed 0
on rank 1 do not collide, as ``seed + rank`` would).
"""

from __future__ import annotations

import numpy as np


def rank_seed(seed: int, rank: int) -> int:
    """The seed rank ``rank`` uses for its own random draws in a run seeded ``seed``."""
    if rank < 0:
        raise ValueError(f"rank_seed: rank must be >= 0, got {rank}")
    if rank == 0:
        return int(seed)
    state = np.random.SeedSequence([int(seed) % 2**63, int(rank)]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def manual_seed_per_rank(seed: int, rank: int | None = None) -> int:
    """Seed this rank's global generator with ``rank_seed(seed, rank)`` and return that seed.

    Call it after wrapping the model in DDP (the wrapper broadcasts rank 0's
    weights, so initialisation may use any seed) and before training.
    """
    import deepgrad

    if rank is None:
        from .process_group import default_group

        rank = default_group("manual_seed_per_rank").rank
    seeded = rank_seed(seed, rank)
    deepgrad.manual_seed(seeded)
    return seeded
