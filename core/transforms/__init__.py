"""Graph-to-graph transformations: autodiff (grad, vjp, jvp, jacobian, hessian), vectorization, gradient checks."""

from graphwright.transforms.grad import PRE_GRAD_PHASES, DisconnectedInputError, backprop, grad
from graphwright.transforms.jacobian import hessian, hessian_vector_product, jacobian, jvp, vjp
from graphwright.transforms.vectorize import vectorize, vectorize_graph
from graphwright.transforms.verify_grad import GradientCheck, GradientCheckError, verify_grad

__all__ = ["grad", "backprop", "DisconnectedInputError", "PRE_GRAD_PHASES", "verify_grad", "GradientCheck",
           "GradientCheckError", "vjp", "jvp", "jacobian", "hessian", "hessian_vector_product", "vectorize",
           "vectorize_graph"]
