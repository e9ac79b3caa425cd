"""micrograd-ref: a reference scalar autograd engine, tested against PyTorch."""

from micrograd.engine import Value, gc_paused
from micrograd.gradcheck import GradcheckError, gradcheck, numerical_gradient

__all__ = [
    "GradcheckError",
    "Value",
    "__version__",
    "gc_paused",
    "gradcheck",
    "numerical_gradient",
]

__version__ = "0.1.0"
