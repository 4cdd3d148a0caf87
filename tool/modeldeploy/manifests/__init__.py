"""Rendered objects: parsing helm's output, schemas, checks, object diffs.

- parse.py: helm's output as objects, fast and bounded (`helm-output`);
- schema_registry.py: kubeconform-style schema locations, KServe and core Kubernetes schemas;
  memo_validator.py: validators that remember valid sub-objects within a run;
- check.py: objects against their schemas (`manifest-*`), KServe's semantics
  (kserve_rules.py, `kserve-*`) and the kubelet's reading of container images (image_refs.py,
  `image-reference`); kubeconform.py (`kubeconform`); locate.py: a field's line;
  checker.py: the checks of a whole run, in worker processes for big runs;
  files.py: manifest files rendered elsewhere, for `check` (`manifest-file`);
- object_diff.py: object-keyed unified diffs of two manifest streams, each object written
  as canonical YAML (canonical_yaml.py: PyYAML's text, written directly for simple objects).

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    checker | files | object_diff
    check
    image_refs
    kserve_rules | kubeconform | locate | memo_validator | parse
    canonical_yaml | schema_registry
"""
