"""The differentiable operations, one family per file, as ``Function`` subclasses on arrays."""
