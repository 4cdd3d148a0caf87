"""The schema a config's values are checked against, as a function of the chart it names.

Today every chart gets the project's contract, schemas/config.schema.json (the chart's
values.schema.json is a byte-identical copy). The lookup takes the resolved chart so that
checking each config against the schema of the chart it names is a change of this module only.
Patterns match as Helm matches them (go_regex.py: `$` is the end of the text).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .. import schema_store
from . import go_regex

if TYPE_CHECKING:  # jsonschema is imported when a document fails the fast path
    import jsonschema


def validator_for(chart_dir: Path | None) -> jsonschema.protocols.Validator:
    """The validator of the values of a config whose chart is `chart_dir` (None: unresolved)."""
    return _contract()


@lru_cache(maxsize=1)
def _contract() -> jsonschema.protocols.Validator:
    validator: jsonschema.protocols.Validator = go_regex.draft7_validator(
        schema_store.load(schema_store.CONFIG_SCHEMA))
    return validator
