"""What a change between two git refs touches.

- git.py: the read-only git plumbing `diff` needs, and extracting what it renders from a ref;
- affected.py: which deployments a change affects, and moves: pure functions of path sets.

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    git
    affected
"""
