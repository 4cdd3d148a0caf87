"""Check a built sdist and wheel (`./noxw -s build`): what a user installing them gets.

- the version is modeldeploy.__version__ (the one source; pyproject reads it dynamically);
- License-Expression: Apache-2.0, with the LICENSE text in the wheel and the sdist;
- project URLs and a classifier for each supported Python (3.10 to 3.13);
- the schemas, templates and rule catalog the tool reads at run time are in the wheel.

    python tool/scripts/check_dist.py DIST_DIR
"""

from __future__ import annotations

import ast
import email.parser
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
WHEEL_FILES = ("modeldeploy/_schemas/config.schema.json", "modeldeploy/_schemas/environment.schema.json",
               "modeldeploy/_schemas/settings.schema.json",
               "modeldeploy/_schemas/serving.kserve.io/inferenceservice_v1beta1.json",
               "modeldeploy/report/templates/diff.md.j2", "modeldeploy/py.typed",
               "modeldeploy/report/rule_docs.json")


def source_version() -> str:
    tree = ast.parse((ROOT / "tool" / "modeldeploy" / "__init__.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__version__"
                                                for t in node.targets):
            return str(ast.literal_eval(node.value))
    raise SystemExit("tool/modeldeploy/__init__.py has no __version__")


def problems(dist: Path) -> list[str]:
    version = source_version()
    wheels, sdists = sorted(dist.glob("modeldeploy-*.whl")), sorted(dist.glob("modeldeploy-*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        return [f"{dist}: expected one wheel and one sdist, found {[p.name for p in dist.iterdir()]}"]
    found = []
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        info = f"modeldeploy-{version}.dist-info"
        if f"{info}/METADATA" not in names:
            return [f"{wheels[0].name}: no {info}/METADATA: the wheel's version is not {version}"]
        meta = email.parser.Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
        found += [f"wheel lacks {name}" for name in (*WHEEL_FILES, f"{info}/licenses/LICENSE")
                  if name not in names]
    if meta["Version"] != version:
        found.append(f"metadata version {meta['Version']} != __version__ {version}")
    if meta["License-Expression"] != "Apache-2.0":
        found.append(f"License-Expression is {meta['License-Expression']!r}")
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    found += [f"no Project-URL {key}" for key in ("Homepage", "Source", "Issues") if key not in urls]
    classifiers = meta.get_all("Classifier") or []
    found += [f"no classifier for Python {v}" for v in PYTHONS
              if f"Programming Language :: Python :: {v}" not in classifiers]
    with tarfile.open(sdists[0]) as sdist:
        if f"modeldeploy-{version}/LICENSE" not in sdist.getnames():
            found.append("sdist lacks LICENSE")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    found = problems(Path(argv[0]))
    for problem in found:
        print(f"check_dist: {problem}", file=sys.stderr)
    if not found:
        print(f"check_dist: {argv[0]}: sdist and wheel of modeldeploy {source_version()} look right")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
