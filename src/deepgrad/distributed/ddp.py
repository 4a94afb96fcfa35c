"""``DistributedDataParallel``: the same model on every rank, gradients averaged over ranks.

Each rank runs forward and backward on its own shard of the batch; the
wrapper makes every rank's ``.grad`` the average of all ranks' gradients
before ``optimizer.step()``, so the ranks take identical steps and stay
identical. With equal shards of a global batch ``B`` and a loss that is a
mean over the batch, the average is exactly the gradient one process
would compute on all ``B`` samples (tests/distributed prove it in float64).

How, as torch does it:

- *Same start.* At construction every parameter and buffer is broadcast
  from rank 0 (coalesced: one ``Bcast`` per dtype), after checking that all
  ranks built the same parameter names, shapes and dtypes.
- *Buckets.* Parameters are packed, in reverse registration order (about
  the order backward produces their gradients), into flat buffers of at
  most ``bucket_cap_mb``. A hook on each parameter (``Tensor.register_hook``)
  copies its gradient into its bucket's slot as backward computes it; a
  full bucket is reduced with one ``Allreduce``.
- *Overlap.* With ``overlap=True`` a full bucket's ``Iallreduce`` starts at
  once and runs while backward goes on computing the earlier layers'
  gradients. The default, ``overlap=False``, reduces all buckets when the
  last gradient arrives: on this project's 2-core machine overlap measured
  no faster (820 samples/s with it, 823 without; docs/distributed.md), as it must
  be there: OpenMPI moves shared-memory data only inside MPI calls, with
  the CPU cores that backward is using, and report 001's CNN has 13.1 MB
  of gradients, one 25 MB bucket, which fills only when backward ends.
  Over a network with an offloading NIC and smaller buckets it may pay.
  deepgrad's autograd has no end-of-backward callback, so
  the last parameter's hook finishes the reduction: it waits for the
  buckets, divides by the world size and writes the averages into
  ``.grad``.
- *Buffers* (batch norm's running statistics) are broadcast from rank 0 at
  the start of every forward that records a graph (``broadcast_buffers``,
  torch's default), so in DDP the running statistics are rank 0's own,
  computed from rank 0's shard. ``SyncBatchNorm`` instead normalises with
  the statistics of the whole global batch, and then the running
  statistics equal those of one process with batch ``B``.
- *no_sync()* skips the reduction: gradients accumulate locally and the
  next synchronised backward averages the accumulated sums (torch's
  gradient accumulation).

A parameter that gets no gradient in a backward (not used in that forward)
leaves its bucket incomplete; as in torch, the next forward raises unless
``find_unused_parameters=True``, which walks the output's graph after each
forward and counts unreached parameters as ready (a parameter unused on
every rank keeps its ``.grad`` untouched).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.nn.module import Module
from deepgrad.tensor import Tensor

from .collectives import Work, all_reduce, broadcast, check_same
from .process_group import ProcessGroup, default_group


@dataclass
class Bucket:
    """A flat buffer holding the gradients of a few parameters, reduced in one call."""

    dtype: np.dtype
    indices: list[int]
    offsets: list[int]
    buffer: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pending: int = 0
    work: Work | None = None


def _buckets(params: Sequence[Tensor], cap_bytes: int) -> list[Bucket]:
    """Parameters in reverse order, split into buckets of at most ``cap_bytes`` per dtype."""
    open_buckets: dict[np.dtype, Bucket] = {}
    sizes: dict[np.dtype, int] = {}
    done: list[Bucket] = []
    for i in reversed(range(len(params))):
        p = params[i]
        dtype = np.dtype(p.dtype)
        bucket = open_buckets.get(dtype)
        nbytes = p.numel() * dtype.itemsize
        if bucket is not None and sizes[dtype] + nbytes > cap_bytes and bucket.indices:
            done.append(bucket)
            bucket = None
        if bucket is None:
            bucket = open_buckets[dtype] = Bucket(dtype, [], [])
            sizes[dtype] = 0
        bucket.indices.append(i)
        bucket.offsets.append(sizes[dtype] // dtype.itemsize)
        sizes[dtype] += nbytes
    done.extend(open_buckets.values())
    for bucket in done:
        total = sum(params[i].numel() for i in bucket.indices)
        bucket.buffer = np.zeros(total, bucket.dtype)
    return done


def _coalesced_broadcast(tensors: list[Tensor], group: ProcessGroup, src: int = 0) -> None:
    """Broadcast many tensors in one call per dtype (packed into a flat buffer)."""
    by_dtype: dict[np.dtype, list[Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(np.dtype(t.dtype), []).append(t)
    for dtype, group_tensors in by_dtype.items():
        flat = np.concatenate([t._array.reshape(-1) for t in group_tensors]).astype(
            dtype, copy=False)
        broadcast(flat, src, group)
        offset = 0
        with autograd.no_grad():
            for t in group_tensors:
                n = t.numel()
                t._array[...] = flat[offset:offset + n].reshape(t._array.shape)
                t._version_counter.value += 1
                offset += n


class DistributedDataParallel(Module):
    """Wrap ``module`` so that backward averages its gradients over all ranks.

    The arguments are torch's. ``device_ids``/``output_device`` must be None
    (CPU), ``dim`` is the batch dimension (0). deepgrad's own, keyword-only:
    ``overlap=True`` starts each bucket's allreduce as soon as it is full (off by
    default: see the module docstring for what was measured).
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True,
                 process_group: ProcessGroup | None = None, bucket_cap_mb: float | None = 25.0,
                 find_unused_parameters: bool = False, check_reduction: bool = False,
                 gradient_as_bucket_view: bool = False, static_graph: bool = False, *,
                 overlap: bool = False) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a deepgrad nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids not in (None, [], ()) or output_device is not None:
            raise ValueError("DistributedDataParallel: deepgrad runs on the CPU; leave "
                             f"device_ids and output_device None (got device_ids={device_ids}, "
                             f"output_device={output_device})")
        if dim != 0:
            raise ValueError(f"DistributedDataParallel: dim must be 0 (the batch dimension), "
                             f"got {dim}")
        cap = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        if not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb}")
        self.module = module
        self.process_group = process_group or default_group("DistributedDataParallel")
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.overlap = overlap
        self.bucket_cap_mb = cap
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._param_names = [n for n, _ in named]
        self._params = [p for _, p in named]
        signature = "; ".join(f"{n} {tuple(p.shape)} {p.dtype}"
                              for n, p in module.named_parameters())
        check_same("DistributedDataParallel: the model's parameters", signature,
                   self.process_group)
        self._buffers_to_sync = [b for b in module.buffers() if b is not None]
        _coalesced_broadcast(list(module.parameters()) + self._buffers_to_sync,
                             self.process_group)
        self._bucket_list = _buckets(self._params, int(cap * 1024 * 1024))
        self._where: list[tuple[Bucket, int]] = [(self._bucket_list[0], 0)] * len(self._params)
        for bucket in self._bucket_list:
            for i, offset in zip(bucket.indices, bucket.offsets, strict=True):
                self._where[i] = (bucket, offset)
        self._require_sync = True  # False inside no_sync()
        self._sync_pending = False  # a forward ran that the next backward must reduce
        self._ready = [False] * len(self._params)
        self._used = np.zeros(len(self._params), np.int32)
        self._remaining = 0
        self.sync_count = 0  # synchronised backward passes so far
        self.sync_seconds = 0.0  # time the last hook waited for the reductions (not hidden)
        self.sync_cpu_seconds = 0.0  # the same in this process's CPU time (MPI polls)
        self._handles = [p.register_hook(self._make_hook(i)) for i, p in enumerate(self._params)]
        self._reset()

    # ---------------------------------------------------------------- forward
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        self._check_previous_reduction()
        grad_enabled = autograd.is_grad_enabled()
        if grad_enabled and self._require_sync and self.process_group.size > 1:
            if self.broadcast_buffers and self._buffers_to_sync:
                _coalesced_broadcast(self._buffers_to_sync, self.process_group)
        output = self.module(*inputs, **kwargs)
        self._sync_pending = grad_enabled and self._require_sync
        self._reset()
        if self._sync_pending and self.find_unused_parameters:
            self._mark_unused(output)
        return output

    def _check_previous_reduction(self) -> None:
        if self._sync_pending and self._used.any():  # a backward began but did not finish
            missing = [self._param_names[i] for i, r in enumerate(self._ready) if not r]
            self._reset()
            raise RuntimeError(
                "DistributedDataParallel: expected to have finished reduction in the prior "
                "iteration before starting a new one; these parameters got no gradient in "
                f"that backward: {', '.join(missing)}. Pass find_unused_parameters=True if "
                "some parameters are not used in every forward, or make the loss depend on "
                "all of the outputs.")

    def _reset(self) -> None:
        self._ready = [False] * len(self._params)
        self._used[:] = 0
        self._remaining = len(self._params)
        for bucket in self._bucket_list:
            bucket.pending = len(bucket.indices)
            bucket.work = None

    def _mark_unused(self, output: Any) -> None:
        """Count parameters the output's graph does not reach as ready now."""
        reached: set[int] = set()
        stack = [t.grad_fn for t in _tensors(output) if t.grad_fn is not None]
        seen: set[int] = set()
        leaves = {id(p): i for i, p in enumerate(self._params)}
        for t in _tensors(output):  # an output that is itself a parameter
            if id(t) in leaves:
                reached.add(leaves[id(t)])
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            for child, _ in node.next_functions:
                if child is None:
                    continue
                variable = getattr(child, "variable", None)
                if variable is not None and id(variable) in leaves:
                    reached.add(leaves[id(variable)])
                else:
                    stack.append(child)
        for i in range(len(self._params)):
            if i not in reached:
                self._mark_ready(i, None)

    # --------------------------------------------------------------- backward
    def _make_hook(self, index: int) -> Any:
        def hook(grad: Tensor) -> Tensor | None:
            if not self._sync_pending or self._ready[index]:
                return None
            return self._mark_ready(index, grad)

        return hook

    def _mark_ready(self, index: int, grad: Tensor | None) -> Tensor | None:
        """Put parameter ``index``'s local gradient (accumulated ``.grad`` + this backward's)
        into its bucket; reduce full buckets; the last one finishes the step."""
        p = self._params[index]
        bucket, offset = self._where[index]
        slot = bucket.buffer[offset:offset + p.numel()].reshape(p._array.shape)
        current = p.grad
        if grad is not None:
            self._used[index] = 1
            if current is None:
                slot[...] = grad._array
            else:
                np.add(current._array, grad._array, out=slot, casting="unsafe")
        elif current is not None:
            slot[...] = current._array
        else:
            slot[...] = 0
        self._ready[index] = True
        self._remaining -= 1
        bucket.pending -= 1
        if bucket.pending == 0 and self.overlap and self.process_group.size > 1:
            bucket.work = all_reduce(bucket.buffer, group=self.process_group, async_op=True)
        if self.overlap:  # drive MPI's progress engine for the buckets in flight
            for other in self._bucket_list:
                if other.work is not None:
                    other.work.is_completed()
        if self._remaining:
            return None
        self._finish(index)
        # The current parameter's hook result is added to its .grad after we return: .grad
        # now holds the average already, so add nothing.
        return None if grad is None else Tensor(np.zeros_like(grad._array), _copy=False)

    def _finish(self, current: int) -> None:
        group = self.process_group
        started, started_cpu = time.perf_counter(), time.process_time()
        for bucket in self._bucket_list:
            if group.size > 1:
                if bucket.work is not None:
                    bucket.work.wait()
                else:
                    all_reduce(bucket.buffer, group=group)
            bucket.buffer /= group.size
        self.sync_count += 1
        self.sync_seconds += time.perf_counter() - started
        self.sync_cpu_seconds += time.process_time() - started_cpu
        used = self._used
        if self.find_unused_parameters and group.size > 1:
            all_reduce(used, group=group)
        with autograd.no_grad():
            for i, p in enumerate(self._params):
                if self.find_unused_parameters and not used[i] and p.grad is None:
                    continue  # unused on every rank: torch leaves its grad alone
                bucket, offset = self._where[i]
                averaged = bucket.buffer[offset:offset + p.numel()].reshape(p._array.shape)
                if self.gradient_as_bucket_view:
                    p.grad = Tensor(averaged, _copy=False)
                elif p.grad is not None and p.grad._array.flags.writeable and i != current:
                    np.copyto(p.grad._array, averaged)
                    p.grad._version_counter.value += 1
                else:
                    p.grad = Tensor(averaged.copy(), _copy=False)
        self._sync_pending = False

    # ------------------------------------------------------------------ torch's
    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside: backward accumulates local gradients without any communication."""
        previous = self._require_sync
        self._require_sync = False
        try:
            yield
        finally:
            self._require_sync = previous

    def state_dict(self, *args: Any, **kwargs: Any) -> Any:
        """torch's keys (``module.``-prefixed); save ``ddp.module.state_dict()`` for a file
        that loads into the bare model."""
        return super().state_dict(*args, **kwargs)

    def extra_repr(self) -> str:
        return (f"world_size={self.process_group.size}, buckets={len(self._bucket_list)}, "
                f"overlap={self.overlap}, broadcast_buffers={self.broadcast_buffers}")

    @property
    def bucket_sizes(self) -> list[int]:
        """Elements per bucket, in the order they are reduced."""
        return [b.buffer.size for b in self._bucket_list]


def _tensors(output: Any) -> Iterator[Tensor]:
    """The tensors inside a forward's output (a tensor, or tuples/lists/dicts of them)."""
    if isinstance(output, Tensor):
        yield output
    elif isinstance(output, (list, tuple)):
        for item in output:
            yield from _tensors(item)
    elif isinstance(output, dict):
        for item in output.values():
            yield from _tensors(item)
