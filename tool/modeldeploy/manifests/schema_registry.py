"""A local schema registry with kubeconform's templated locations.

Each location is a path template such as
`schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`; the first one
that names an existing file for an object's apiVersion and kind wins, exactly as
kubeconform's `-schema-location` does, so kubeconform and the in-process check
read the same files. Compiled validators are cached per file.

Two locations are built in: the project's KServe schemas (shipped with the package)
and the core Kubernetes schemas of the `kubernetes-validate` package, strict
variant, for a pinned Kubernetes version.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..diagnostics import ToolError
from ..schema_store import schemas_dir

if TYPE_CHECKING:  # imported on first use: `validate` never needs them (cli reads this module)
    import jsonschema
    import referencing

DEFAULT_KUBERNETES_VERSION = "1.35.0"
KSERVE_LOCATION_TEMPLATE = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
K8S_LOCATION_TEMPLATE = (
    "{{.NormalizedKubernetesVersion}}-local{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json"
)
_VAR = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


@dataclass(frozen=True)
class SchemaRef:
    path: Path
    location: str


def kubernetes_schemas_root() -> Path:
    # Found, not imported: importing it imports jsonschema (~60 ms), and only its files are read.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a declared dependency
        raise ToolError("the kubernetes-validate package is missing: pip install modeldeploy")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def default_locations() -> list[str]:
    return [
        str(schemas_dir() / KSERVE_LOCATION_TEMPLATE),
        str(kubernetes_schemas_root() / K8S_LOCATION_TEMPLATE),
    ]


@cache
def _built_in_names() -> dict[str, str]:
    kserve, kubernetes = default_locations()
    return {kserve: "modeldeploy's KServe schemas",
            kubernetes: "the Kubernetes {version} schemas of kubernetes-validate"}


@cache
def kserve_groups() -> frozenset[str]:
    """The API groups modeldeploy's own schemas cover (a folder each)."""
    return frozenset(p.name for p in schemas_dir().iterdir() if p.is_dir())


def is_known_group(api_version: str) -> bool:
    """Kubernetes' own API groups (the core group, names without a dot, `*.k8s.io`,
    `*.kubernetes.io`) and those of modeldeploy's KServe schemas: a kind of theirs without a
    schema is a wrong apiVersion or kind, not a custom resource nobody gave a schema for."""
    group = api_version.rpartition("/")[0]
    return ("." not in group or group.endswith((".k8s.io", ".kubernetes.io"))
            or group in kserve_groups())


DEFAULT_LOCATION = "default"
KUBECONFORM_DIR_TEMPLATE = ("/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}"
                            "/{{.ResourceKind}}{{.KindSuffix}}.json")


def kubeconform_style_locations(given: list[str]) -> list[str]:
    """`check --schema-location`, read as kubeconform reads `-schema-location`: the locations given
    replace the built-in ones, `default` names them (here: the KServe and core Kubernetes schemas),
    and a location not ending in `json` is a folder laid out as kubernetes-json-schema."""
    if not given:
        return default_locations()
    locations: list[str] = []
    for location in given:
        if location == DEFAULT_LOCATION:
            locations += default_locations()
        elif location.startswith(("http://", "https://")):
            raise ToolError(f"--schema-location {location}: modeldeploy reads schemas from files only "
                            "(it never downloads); download them and name the folder")
        elif not location.endswith("json"):
            locations.append(location.rstrip("/") + KUBECONFORM_DIR_TEMPLATE)
        else:
            locations.append(location)
    return locations


def check_kubernetes_version(version: str) -> str:
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ToolError(f"--kubernetes-version {version!r}: expected MAJOR.MINOR.PATCH such as 1.35.0")
    available = sorted(p.name.split("-")[0] for p in kubernetes_schemas_root().glob("v*-local-strict"))
    if f"v{version}" not in available:
        raise ToolError(f"no Kubernetes schemas for {version}; kubernetes-validate ships "
                        f"{', '.join(v[1:] for v in available)}")
    return version


def expand(template: str, api_version: str, kind: str, kubernetes_version: str,
           strict: bool = True) -> str:
    group, _, version = api_version.rpartition("/")
    values = {
        "Group": group,
        "ResourceKind": kind.lower(),
        "ResourceAPIVersion": version,
        "KindSuffix": f"-{group.split('.')[0]}-{version}" if group else f"-{version}",
        "NormalizedKubernetesVersion": f"v{kubernetes_version}",
        "StrictSuffix": "-strict" if strict else "",
        "KubernetesVersion": kubernetes_version,
    }
    return _VAR.sub(lambda m: values.get(m.group(1), m.group(0)), template)


class SchemaRegistry:
    def __init__(self, locations: list[str], kubernetes_version: str) -> None:
        self.locations = locations
        self.kubernetes_version = kubernetes_version

    def find(self, api_version: str, kind: str) -> SchemaRef | None:
        for location in self.locations:
            path = Path(expand(location, api_version, kind, self.kubernetes_version))
            try:
                if path.is_file():
                    return SchemaRef(path, location)
            except OSError:  # a name too long for a file name (a 300-character kind): no schema
                continue
        return None

    def described(self) -> str:
        """The locations in words: the built-in ones by name (their install paths say nothing
        to a reader of a PR comment), the others as given."""
        names = _built_in_names()
        return ", ".join(names.get(location, location).format(version=self.kubernetes_version)
                         for location in self.locations)

    def validator(self, ref: SchemaRef) -> jsonschema.protocols.Validator:
        return _compiled(str(ref.path))


# kubernetes-validate's "local" schemas carry `$id: https://kubernetes.io/api/<kind>/<v>`
# and refer to `/api/_definitions.json`; that file sits beside them, so serve it from disk.
K8S_ID_PREFIX = "https://kubernetes.io/api/"


def _load_json(path: Path) -> Any:
    # Schema files may be the user's (--schema-location): unreadable or not JSON is exit 2, not a bug.
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise ToolError(f"schema {path}: cannot read it: {exc.strerror}") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ToolError(f"schema {path}: not a JSON schema file: {exc}") from exc


@cache
def _registry(schema_dir: str) -> referencing.Registry[Any]:
    import referencing
    import referencing.exceptions
    import referencing.jsonschema

    # Cached: a validator keeps the registry it was built with, so without the cache every
    # object of a core kind would read and parse `_definitions.json` (2 MB) again.
    @cache
    def retrieve(uri: str) -> referencing.Resource[Any]:
        if uri.startswith(K8S_ID_PREFIX):
            local = Path(schema_dir) / uri[len(K8S_ID_PREFIX):]
        elif uri.startswith("file://"):
            local = Path(uri[len("file://"):])
        else:  # never fetch from the network
            raise referencing.exceptions.NoSuchResource(uri)
        return referencing.Resource.from_contents(
            _load_json(local), default_specification=referencing.jsonschema.DRAFT7)

    return referencing.Registry(retrieve=retrieve)  # type: ignore[call-arg]


@lru_cache(maxsize=256)
def _compiled(path: str) -> jsonschema.protocols.Validator:
    import jsonschema
    import jsonschema.validators

    schema = _load_json(Path(path))
    if not isinstance(schema, dict):
        raise ToolError(f"schema {path}: not a JSON schema (its top level is not an object)")
    schema.setdefault("$id", Path(path).resolve().as_uri())
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    if not _shipped(Path(path)):  # a user's schema (--schema-location): checked once, here
        try:
            cls.check_schema(schema)
        except jsonschema.exceptions.SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
            raise ToolError(f"schema {path}: not a valid JSON schema at {where}: {exc.message}") from exc
    return cls(schema, registry=_registry(str(Path(path).parent)))


def _shipped(path: Path) -> bool:
    """A schema that comes with modeldeploy (its own or kubernetes-validate's): valid by construction."""
    return any(path.is_relative_to(root) for root in (schemas_dir(), kubernetes_schemas_root()))


def standalone_copy(ref: SchemaRef, target_dir: Path) -> Path:
    """A self-contained copy of a kubernetes-validate schema, for kubeconform.

    kubeconform would try to download `/api/_definitions.json`; the copy embeds
    the definitions and points its references inside itself, same content.
    """
    target = target_dir / ref.path.parent.name / ref.path.name
    if target.is_file():
        return target
    schema = _load_json(ref.path)
    text = json.dumps(schema)
    if "/api/_definitions.json#" in text:
        schema = json.loads(text.replace("/api/_definitions.json#", "#"))
        schema["$defs"] = _load_json(ref.path.parent / "_definitions.json")["$defs"]
    schema.pop("$id", None)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(schema), encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        raise ToolError(f"cannot write a schema copy for kubeconform into the cache {target_dir}: "
                        f"{exc.strerror}; set MODELDEPLOY_CACHE to a writable folder") from exc
    return target


def kubeconform_locations(registry: SchemaRegistry, kinds: list[tuple[str, str]], cache: Path) -> list[str]:
    """The registry's locations for kubeconform, core kinds swapped for standalone copies."""
    core_root = kubernetes_schemas_root()
    standalone_root = cache / "kubeconform-schemas"
    for api_version, kind in kinds:
        ref = registry.find(api_version, kind)
        if ref is not None and ref.path.is_relative_to(core_root):
            standalone_copy(ref, standalone_root)
    return [location.replace(str(core_root), str(standalone_root)) for location in registry.locations]
