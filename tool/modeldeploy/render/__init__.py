"""Running helm: finding and installing it, rendering one release or many, `render -o DIR`.

- helm.py: finding helm, `helm template` with a deadline and an output cap;
- helm_install.py: pinned, checksum-verified helm builds;
- single.py: one release in one helm process, helm's failures as diagnostics (`helm-template`);
- batch/: many releases per helm process, byte-identical to one process each;
- output_tree.py: `render -o DIR` as one transaction that keeps DIR a mirror;
- cache.py: helm's outputs content-addressed in the user's cache folder (`--no-cache`);
- binary_facts.py: helm's version and sha256 remembered per binary file.

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    batch
    single | output_tree | cache
    helm
    helm_install
    binary_facts
"""
