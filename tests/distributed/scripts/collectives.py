"""Checks of the collectives and of DDP's rules on 2 ranks; any failed check raises, which
aborts the job (the excepthook), so the test sees a non-zero exit with the traceback."""

from __future__ import annotations

import numpy as np

import deepgrad
import deepgrad.distributed as dist
from deepgrad import nn

dist.init_process_group(backend="mpi", timeout=60)
deepgrad.set_default_dtype(deepgrad.float64)
rank, world = dist.get_rank(), dist.get_world_size()
assert world == 2, world
checks: list[str] = []


def check(name: str, ok: bool, detail: object = "") -> None:
    if not ok:
        raise AssertionError(f"rank {rank}: {name} failed {detail}")
    checks.append(name)


# ---- all_reduce, every op, tensors and arrays, blocking and async
for op, expected in [(dist.ReduceOp.SUM, [3.0, 5.0]), (dist.ReduceOp.AVG, [1.5, 2.5]),
                     (dist.ReduceOp.MAX, [2.0, 3.0]), (dist.ReduceOp.MIN, [1.0, 2.0]),
                     (dist.ReduceOp.PRODUCT, [2.0, 6.0])]:
    t = deepgrad.tensor([1.0 + rank, 2.0 + rank], dtype=deepgrad.float64)
    version = t._version
    dist.all_reduce(t, op=op)
    check(f"all_reduce {op.name}", t.tolist() == expected, t.tolist())
    check(f"all_reduce {op.name} bumps the version", t._version > version)
t = deepgrad.tensor([rank + 1], dtype=deepgrad.int64)
work = dist.all_reduce(t, async_op=True)
assert work is not None
work.wait()
check("async all_reduce", t.tolist() == [3] and work.is_completed(), t.tolist())

# ---- broadcast, all_gather, barrier
t = deepgrad.tensor(np.full(3, float(rank)))
dist.broadcast(t, src=1)
check("broadcast from rank 1", t.tolist() == [1.0, 1.0, 1.0], t.tolist())
out = [deepgrad.zeros(2), deepgrad.zeros(2)]
dist.all_gather(out, deepgrad.tensor([rank, 10.0 + rank]))
check("all_gather", [o.tolist() for o in out] == [[0.0, 10.0], [1.0, 11.0]])
dist.barrier()
try:
    dist.broadcast(deepgrad.zeros(2), src=5)
    check("broadcast refuses a bad src", False)
except ValueError as error:
    check("broadcast refuses a bad src", "src must be a rank in 0..1" in str(error), error)

# ---- DDP: rank 0's weights everywhere, then the same model on both ranks
deepgrad.manual_seed(100 + rank)  # different initial weights per rank on purpose
model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
ddp = dist.DistributedDataParallel(model)
w = model[0].weight.detach().numpy().copy()
dist.broadcast(w, src=0)
check("DDP broadcasts rank 0's parameters", np.array_equal(w, model[0].weight.detach().numpy()))
check("state_dict keys are torch's", next(iter(ddp.state_dict())) == "module.0.weight")

# ---- no_sync: local accumulation, then the next backward averages the accumulated sums
x = deepgrad.tensor(np.random.default_rng(rank).normal(size=(3, 8, 3)))
clone = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
clone.load_state_dict(model.state_dict())
for micro in range(3):
    (clone(x[micro]) ** 2).sum().backward()
expected = {n: p.grad.numpy().copy() for n, p in clone.named_parameters()}
for n in expected:
    dist.all_reduce(expected[n], op=dist.ReduceOp.AVG)
ddp.zero_grad()
with ddp.no_sync():
    for micro in range(2):
        (ddp(x[micro]) ** 2).sum().backward()
local = model[0].weight.grad.numpy().copy()
(ddp(x[2]) ** 2).sum().backward()
check("no_sync leaves gradients local", not np.allclose(local, expected["0.weight"]))
worst = max(float(np.abs(p.grad.numpy() - expected[n]).max())
            for n, p in model.named_parameters())
check("no_sync accumulates, then the synced backward averages", worst < 1e-5, worst)


# ---- unused parameters
class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.never = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2)

    def forward(self, x: deepgrad.Tensor, use_b: bool) -> deepgrad.Tensor:
        return self.b(self.a(x)) if use_b else self.a(x)


deepgrad.manual_seed(0)
branchy = Branchy()
ddp = dist.DistributedDataParallel(branchy, find_unused_parameters=True)
ddp(deepgrad.ones(4, 2), use_b=rank == 0).sum().backward()  # b is used on rank 0 only
check("an unused-everywhere parameter keeps grad None", branchy.never.weight.grad is None)
b_grad = branchy.b.weight.grad
check("a parameter used on one rank gets the average", b_grad is not None)
mine = b_grad.numpy().copy()
dist.broadcast(mine, src=0)
check("... the same on both ranks", np.array_equal(mine, b_grad.numpy()))

strict = dist.DistributedDataParallel(Branchy())
strict(deepgrad.ones(4, 2), use_b=True).sum().backward()  # never has no grad: unfinished
try:
    strict(deepgrad.ones(4, 2), use_b=True)
    check("an unfinished reduction raises at the next forward", False)
except RuntimeError as error:
    check("an unfinished reduction raises at the next forward",
          "never.weight" in str(error) and "find_unused_parameters=True" in str(error), error)

# ---- different models on the ranks: a clear error on every rank, no hang
try:
    dist.DistributedDataParallel(nn.Linear(3, 4 + rank))
    check("different models are refused", False)
except RuntimeError as error:
    check("different models are refused",
          "rank 0 has weight (4, 3)" in str(error) and "rank 1 has weight (5, 3)" in str(error),
          error)

dist.barrier()
print(f"rank {rank}: {len(checks)} checks passed", flush=True)
dist.destroy_process_group()
