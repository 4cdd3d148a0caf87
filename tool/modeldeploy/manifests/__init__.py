"""Rendered objects: parsing helm's output, schemas, checks, object diffs."""
