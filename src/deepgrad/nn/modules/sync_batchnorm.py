"""``SyncBatchNorm``: batch norm whose statistics are those of the whole global batch.

Under ``DistributedDataParallel`` each rank sees only its shard of the
batch. Plain ``BatchNorm`` normalises with the shard's mean and variance
(torch's default, and deepgrad's); ``SyncBatchNorm`` gathers every rank's
count, mean and sum of squared deviations (one ``Allgather``, combined
with Chan's parallel formula, which is stable where ``E[x^2] - E[x]^2`` is
not), so each rank normalises with the global batch's statistics and
updates the running statistics with them: the same numbers as one process
with the whole batch. The backward allreduces the two per-channel sums it
needs (``sum(dy)``, ``sum(dy * xhat)``), so input gradients are exact too.

Outside a process group, with one rank, or in eval mode it is plain batch
norm. ``SyncBatchNorm.convert_sync_batchnorm(model)`` swaps every
``BatchNorm*d`` of a model for one, keeping its parameters and buffers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.autograd import Context, Function
from deepgrad.nn.module import Module
from deepgrad.nn.modules.batchnorm import _BatchNorm
from deepgrad.tensor import Tensor


class _SyncBatchNormFunction(Function):
    """``(x - mean) * invstd * weight + bias`` with the statistics of all ranks' batches."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any = None, bias: Any = None, *,
                running_mean: Any, running_var: Any, momentum: float, eps: float,
                group: Any) -> Any:
        from deepgrad.distributed.collectives import all_gather_array

        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        channels = x.shape[1]
        local_n = x.size // channels
        local_mean = x.mean(axis=axes, dtype=np.float64)
        local_m2 = ((x - local_mean.reshape(shape).astype(x.dtype)) ** 2).sum(
            axis=axes, dtype=np.float64)
        mine = np.concatenate([[float(local_n)], local_mean, local_m2])
        every = all_gather_array(mine, group)  # (world size, 1 + 2C)
        counts, means, m2s = every[:, :1], every[:, 1:1 + channels], every[:, 1 + channels:]
        count = counts.sum()
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when "
                             f"training over all ranks, got input of shape {tuple(x.shape)} "
                             f"on this rank and {int(count)} values per channel in all")
        mean = (counts * means).sum(axis=0) / count
        m2 = (m2s + counts * (means - mean) ** 2).sum(axis=0)
        var = m2 / count
        if running_mean is not None and running_var is not None:
            running_mean *= 1 - momentum
            running_mean += (momentum * mean).astype(running_mean.dtype)
            running_var *= 1 - momentum
            running_var += (momentum * var * (count / (count - 1))).astype(running_var.dtype)
        invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype).reshape(shape)
        xhat = (x - mean.astype(x.dtype).reshape(shape)) * invstd
        out = xhat * weight.reshape(shape) if weight is not None else xhat.copy()
        if bias is not None:
            out += bias.reshape(shape)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.count, ctx.group, ctx.has_bias = count, group, bias is not None
        return out

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        from deepgrad.distributed.collectives import all_reduce

        xhat, invstd, weight = ctx.saved_tensors
        axes = (0,) + tuple(range(2, grad.ndim))
        shape = (1, -1) + (1,) * (grad.ndim - 2)
        grad_bias = grad.sum(axis=axes)
        grad_weight = (grad * xhat).sum(axis=axes)
        grad_x = None
        if ctx.needs_input_grad[0]:
            sums = np.concatenate([grad_bias, grad_weight]).astype(np.float64)
            all_reduce(sums, group=ctx.group)  # the global batch's sum(dy), sum(dy * xhat)
            channels = grad_bias.size
            mean_dy = (sums[:channels] / ctx.count).astype(grad.dtype).reshape(shape)
            mean_dy_xhat = (sums[channels:] / ctx.count).astype(grad.dtype).reshape(shape)
            scale = invstd if weight is None else invstd * weight.reshape(shape)
            grad_x = scale * (grad - mean_dy - xhat * mean_dy_xhat)
        return (grad_x,
                grad_weight if weight is not None else None,
                grad_bias if ctx.has_bias else None)


class SyncBatchNorm(_BatchNorm):
    """Batch norm over ``(N, C, ...)`` inputs with the statistics of every rank's batch."""

    _accepted_ndims = (2, 3, 4, 5)
    _layout = "(N, C, ...)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any = None, device: Any = None, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)
        self.process_group = process_group

    def _group(self) -> Any:
        from deepgrad import distributed

        if self.process_group is not None:
            return self.process_group
        if distributed.is_available() and distributed.is_initialized():
            return distributed.default_group("SyncBatchNorm")
        return None

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        group = self._group()
        if not self.training or group is None or group.size == 1:
            return super().forward(input)
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            with autograd.no_grad():
                self.num_batches_tracked._array += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._array)
        tracked = self.track_running_stats
        return _SyncBatchNormFunction.apply(
            input, self.weight, self.bias,
            running_mean=self.running_mean._array if tracked else None,
            running_var=self.running_var._array if tracked else None,
            momentum=factor, eps=self.eps, group=group)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every ``BatchNorm*d`` replaced by a ``SyncBatchNorm`` that keeps
        its parameters and buffers (the same objects); returns the module (or its
        replacement when ``module`` itself is a batch norm), as torch does."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, process_group)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            if module.track_running_stats:
                out.running_mean = module.running_mean
                out.running_var = module.running_var
                out.num_batches_tracked = module.num_batches_tracked
            out.train(module.training)
        for name, child in list(module.named_children()):
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
