"""``gw.nn``: neural-network functions, as in ``jax.nn`` (softmax, log_softmax, logsumexp, sigmoid,
softplus). Each is also ``gw.<name>``.

Examples
--------
>>> import graphwright as gw
>>> gw.nn.softmax is gw.softmax
True
"""

from graphwright.tensor.elemwise import sigmoid, softplus
from graphwright.tensor.nn import log_softmax, softmax
from graphwright.tensor.reduce_special import logsumexp

__all__ = ["log_softmax", "logsumexp", "sigmoid", "softmax", "softplus"]
