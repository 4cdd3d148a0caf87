"""Where a field of a manifest file is: line and column of a JSON path, for `check`'s diagnostics.

The fast parser (parse.py) keeps no positions; a file with findings is composed once more
by PyYAML, lazily, and each finding is placed on the deepest node of its path that exists
(a missing field: its parent; a mapping or list: its key; nothing found: the document's start).
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from ..fast_yaml import SafeLoader

PathPart = str | int


class Locator:
    """Positions in one manifest stream, its documents keyed by the line they start on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._roots: dict[int, yaml.Node] | None = None

    def _documents(self) -> dict[int, yaml.Node]:
        if self._roots is None:
            self._roots = {}
            loader = SafeLoader(self.text)
            try:
                while loader.check_node():
                    node = loader.get_node()
                    if node is not None:
                        self._roots[node.start_mark.line + 1] = node
            except yaml.YAMLError:  # only reached for text parse.py read: cannot happen, and harmless
                pass
            finally:
                loader.dispose()
        return self._roots

    def at(self, document_line: int, path: Sequence[PathPart]) -> tuple[int, int]:
        """(line, column), 1-based, of `path` inside the document starting on `document_line`."""
        node = self._documents().get(document_line)
        if node is None:
            return document_line, 1
        mark = node.start_mark
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            key, node = found
            # A mapping or list under a key: the key's line (`predictor:`), not its first entry's.
            mark = key.start_mark if key is not None and isinstance(node, yaml.CollectionNode) \
                else node.start_mark
        return mark.line + 1, mark.column + 1


def _child(node: yaml.Node, part: PathPart) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node or None, value node) of `part` in `node`."""
    if isinstance(node, yaml.MappingNode):
        found = None
        for key, value in node.value:  # the last one wins, as for the value read
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                found = (key, value)
        return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None
