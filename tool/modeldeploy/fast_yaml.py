"""PyYAML's safe loader and dumper classes: the C ones (libyaml, ~10x faster) when the build has them.

The one place that falls back to the pure-Python classes: every reader of configs (the strict
loader, the editor), of helm's output and of git blobs, and the canonical dump of objects for
diffs, take their class from here. Both read and write YAML 1.1 the same way.
"""

from __future__ import annotations

from typing import Any

import yaml

try:
    SafeLoader: Any = yaml.CSafeLoader
    SafeDumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    SafeLoader = yaml.SafeLoader
    SafeDumper = yaml.SafeDumper
