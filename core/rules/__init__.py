"""The rule library; importing this package registers every rule set with its phase."""

from graphwright.rules import canonicalize, specialize, stabilize  # noqa: F401  (each registers its rules)
