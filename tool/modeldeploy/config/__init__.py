"""Reading configs the way Helm does: YAML, discovery, environments, schema diagnostics, edits."""
