"""Graph-to-graph transformations: reverse-mode autodiff (grad), gradient checks."""

from graphwright.transforms.grad import PRE_GRAD_PHASES, DisconnectedInputError, backprop, grad
from graphwright.transforms.verify_grad import GradientCheck, GradientCheckError, verify_grad

__all__ = ["grad", "backprop", "DisconnectedInputError", "PRE_GRAD_PHASES", "verify_grad", "GradientCheck",
           "GradientCheckError"]
