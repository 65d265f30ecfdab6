"""The rule library; importing this package registers every rule set with its phase."""

from graphwright.rules import (  # noqa: F401  (each registers its rules)
    assume,
    blockwise,
    broadcast,
    canonicalize,
    folding,
    fusion,
    grad_control,
    inplace,
    lifting,
    specialize,
    specialize_reduce,
    split_join,
    stabilize,
    stabilize_algebra,
    stabilize_softmax,
    stabilize_special,
    stabilize_taylor,
    tidy,
    useless,
)
