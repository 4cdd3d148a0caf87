"""What a change between two git refs touches: read-only git plumbing and the affected configs."""
