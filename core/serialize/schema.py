"""The JSON Schema of graphwright's documents (``graphwright.schema.json``, next to this module)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from graphwright.serialize.values import SerializeError

__all__ = ["SCHEMA_PATH", "schema", "validate"]

SCHEMA_PATH = Path(__file__).with_name("graphwright.schema.json")


@cache
def _schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that graph, trace and session documents follow (a fresh copy).

    Examples
    --------
    >>> sorted(schema()["$defs"])[:3]
    ['delta', 'graphDocument', 'graphRefs']
    """
    return json.loads(_schema_text())


def validate(doc: Any) -> None:
    """Raise :class:`SerializeError` naming the first problem when ``doc`` does not follow :func:`schema`
    (needs the ``jsonschema`` package).

    Examples
    --------
    >>> try:
    ...     validate({"format": "graphwright-graph", "version": 2})
    ... except SerializeError as exc:
    ...     print(exc)
    not a valid graphwright document: 'nodes' is a required property (at the top level)
    """
    import jsonschema

    kind = doc.get("format", "") if isinstance(doc, dict) else ""
    definitions = {"graphwright-graph": "graphDocument", "graphwright-trace": "traceDocument",
                   "graphwright-session": "sessionDocument"}
    if kind not in definitions:
        raise SerializeError(f"not a graphwright document: format {kind!r} is not one of {sorted(definitions)}")
    whole = schema()
    whole.pop("oneOf")
    whole["$ref"] = f"#/$defs/{definitions[kind]}"
    validator = jsonschema.Draft202012Validator(whole)
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "the top level"
        raise SerializeError(f"not a valid graphwright document: {error.message} (at {where})")
