"""The benchmark suite: micrograd-ref against Karpathy's micrograd and PyTorch, side by side."""
