"""Reading configs the way Helm reads them: the loaders, below every check.

- yaml_loader.py: YAML as go-yaml v2 (Helm) reads it, with positions (the `yaml-*` ids);
- discovery.py: finding configs, their environment and repository (`file-name`);
- environments.py: environment.yaml (`environment-namespace`);
- schema_diagnostics.py: JSON Schema errors as diagnostics (`schema-*`), go_regex.py: patterns
  as Go matches them; values_schema.py: the deployment contract and the chart's own schema
  (`chart-no-schema`, `chart-schema`);
- settings_file.py: a repository's `.modeldeploy.yaml` and the disable comments of a file
  (`disable-comment`);
- editing.py: byte-preserving edits; deployment_refs.py: ENV/NAME -> config; sharding.py;
- chart_sources.py: where the chart a config names comes from (`chart_sources`).

Imports inside the package go down these layers (`|`: independent; lint-imports checks it):

    deployment_refs | editing | environments | settings_file | sharding | values_schema
    chart_sources | discovery | schema_diagnostics
    go_regex | yaml_loader
"""
