"""validate ≡ Helm: a differential test of modeldeploy's reading of configs against the real helm 4 and 3.

hypothesis writes config files from the space where YAML 1.1 and 1.2, Python and Go differ:
number forms (0, 0x, 0o, 0b, _, :, signs, exponents), booleans and nulls in every spelling,
trailing and embedded newlines, escapes, tags, `%YAML`/`%TAG` directives, `---` lines, block
scalars with every chomping indicator, tabs, CRLF, a BOM, unicode, control characters, every
quoting style. Each file goes through the checks `modeldeploy validate` runs (in process:
`checks.deployments.check_config`) and through both real helms, which print what reaches a template as
JSON (the probe chart in tests/data/helm-probe). The property:

- what validate accepts, helm 4 and helm 3 accept and read as the same values;
- what either helm refuses, validate refuses, at the line helm names (go-yaml's parser names the
  line before the problem) or, for a control character, at its exact line and column;
- for a sample of accepted files, the real chart renders the values where the config says
  (canaryTrafficPercent is the integer written, the storageUri tag is `version` as written...).

Cost: all files are read by one helm process per helm (the probe reads them with `fromYaml`, the
same sigs.k8s.io/yaml Unmarshal that reads a values file); a bounded sample also goes through
`helm template --values FILE` (helm 4 splits a values file at `---` lines before that Unmarshal,
so every file with such a line is in the sample) and through the real chart.

A fixed seed and EXAMPLES examples in the normal run; `./noxw -s fuzz-helm` runs many more
with a random seed (MODELDEPLOY_FUZZ_EXAMPLES, MODELDEPLOY_FUZZ_SEED to replay one). The same
seed gives the same configs for the same pytest selection (hypothesis' choices also depend on
what else the process has loaded), so a failure prints the offending files themselves: the two
shortest of each kind of problem, with what validate and each helm read.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from conftest import HELM_MAJORS, REPO_ROOT, helm_path
from modeldeploy.checks.deployments import DeploymentCheck, check_config
from modeldeploy.config.discovery import ConfigFile
from modeldeploy.config.environments import Environment
from modeldeploy.diagnostics import Severity
from modeldeploy.render import helm as helm_runner

PROBE_CHART = REPO_ROOT / "tests" / "data" / "helm-probe"
REAL_CHART = REPO_ROOT / "charts" / "model-deployment" / "music-transformer"
NAMESPACE = "team-a-test"
ENVIRONMENT = Environment("test", NAMESPACE, False, None)

EXAMPLES = int(os.environ.get("MODELDEPLOY_FUZZ_EXAMPLES", "300"))
SEED = int(os.environ.get("MODELDEPLOY_FUZZ_SEED", "20260921"))
VALUES_RUNS = int(os.environ.get("MODELDEPLOY_FUZZ_VALUES_RUNS", "10"))  # per helm: --values FILE
CHART_RUNS = int(os.environ.get("MODELDEPLOY_FUZZ_CHART_RUNS", "6"))  # per helm: the real chart
MIN_ACCEPTED_SHARE = 0.12  # the generator must keep producing valid configs, or the property is idle


# --- what to write ---------------------------------------------------------------------------

VERSIONS = ["4562a17c17", "1234e56", "0123", "1_000", "0x1F", "v1.2.3", "1.0", "latest", "1:20",
            "2001-12-14", "0o17", "0b101", "+12", ".5", "12e3", "~", "null", "Yes", "off", ".inf",
            ".NaN", "010", "1.", "-1", "_1", "abc_DEF-1.2", "4562a17c17\n", "x\ty", "é1", "0", "09",
            "a" * 128, "n", "=", "<<"]
NAMES = ["jukebox", "music-v2", "a", "x1", "jukebox\n", "Jukebox", "0123", "yes", "null", "1e3",
         "jükebox", "juke box", "-lead", "trail-", "on", "y"]
REPOSITORIES = ["image-registry.openshift-image-registry.svc:5000", "quay.io", "localhost:5000/team",
                "registry:5000", "quay.io\n", "Quay.io", "1.2", "0x10"]
IMAGE_NAMESPACES = ["team-a-test", "team-a", "a.b", "x__y", "on", "null", "0123", "team-a-test\n",
                    "team/a", "1e5"]
CHART_PATHS = ["charts/model-deployment/music-transformer", "charts/model-deployment/music-transformer\n",
               "charts/model-deployment/music-transformer/"]
MODES = ["Serverless", "RawDeployment", "serverless", "Serverless\n"]
BOOLS = ["true", "false", "True", "FALSE", "yes", "No", "on", "OFF", "y", "N", "tRUE", "1", "0", "~", ""]
QUANTITIES = ["500m", "1", "1.5", "2", "1Gi", "4Gi", "0.5", "1e3", "2Gi\n", "+1", "01", "0x10"]
TEXT_ALPHABET = "abz09._-/:# \n\t'\"\\é🎵"
CONTROL_CHARACTERS = ["\x07", "\x1b", "\x7f", "\x0b", "\x0c", "\x01", "\ufffe", "\x85", "\u2028", "\x9b"]
TAGS = ["!!str ", "! ", "!!int ", "!!float ", "!!bool ", "!!null ", "!e ", "!!binary ", "!!timestamp "]
DOCUMENT_STARTS = ["---", "--- # start", "---\t", "--- {}", "--- !!map", "----", "%YAML 1.1\n---",
                   "%YAML 1.2\n---", "%TAG !e! tag:example.com,2000:\n---", "# config", "..."]
DOCUMENT_ENDS = ["...", "---", "--- # next", "# end", "", "----x: 1"]
TRAILERS = [" ", "\t", " # note", "\t# note", " # ünï 🎵"]
KEY_SEPARATORS = [": ", ":\t", ":  ", " : ", ": \t"]
UNIT_INDENTS = [2, 4, 1, 3]


@dataclass
class Generated:
    """A config file as text, and where its unusual parts are."""

    lines: list[str] = field(default_factory=list)
    newline: str = "\n"
    bom: bool = False
    final_newline: bool = True
    control_character: str | None = None  # one injected character YAML forbids
    percent: str | None = None  # canary.trafficPercent as written, without quotes or tag

    @property
    def text(self) -> str:
        body = self.newline.join(self.lines) + (self.newline if self.final_newline else "")
        return ("\ufeff" if self.bom else "") + body

    @property
    def control(self) -> tuple[int, int] | None:
        """1-based line and column of the injected control character, as an editor shows them."""
        if self.control_character is None:
            return None
        before = self.text[: self.text.index(self.control_character)].removeprefix("\ufeff")
        lines = re.split("\r\n|\r|\n", before)
        return len(lines), len(lines[-1]) + 1


def rarely(draw: st.DrawFn, percent: int) -> bool:
    """True in about `percent`% of draws (hypothesis favours small integers: never test `== 0`)."""
    return draw(st.integers(1, 100)) in range(50 - percent // 2, 50 + (percent + 1) // 2)


def _escape_double(draw: st.DrawFn, text: str) -> str:
    out = []
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif rarely(draw, 10):  # escape an ordinary character in one of YAML's ways
            code = ord(ch)
            forms = [f"\\u{code:04x}", f"\\U{code:08x}"] + ([f"\\x{code:02x}"] if code < 0x100 else [])
            forms += ["\\/"] if ch == "/" else []
            forms += ["\\t"] if ch == "\t" else []
            out.append(draw(st.sampled_from(forms)))
        else:
            out.append(ch)
    if rarely(draw, 6):
        out.insert(draw(st.integers(0, len(out))), draw(st.sampled_from(["\\N", "\\_", "\\L", "\\P", "\\e",
                                                                        "\\ ", "\\0", "\\a", "\\'", "\\/"])))
    return '"' + "".join(out) + '"'


def _scalar(draw: st.DrawFn, text: str, indent: int) -> tuple[str, list[str]]:
    """`text` written as a YAML scalar: (what follows `key:`, continuation lines)."""
    styles = ["plain"] * 10 + ["single", "double", "double", "literal", "folded"]
    style = draw(st.sampled_from(styles))
    prefix = ""
    if rarely(draw, 3):
        prefix = draw(st.sampled_from(TAGS))
    if rarely(draw, 2):
        prefix = "&anchor " + prefix
    if style == "plain":
        if "\n" in text and draw(st.booleans()):
            style = "double"
        else:
            return prefix + text, []
    if style == "single":
        return prefix + "'" + text.replace("'", "''") + "'", []
    if style == "double":
        return prefix + _escape_double(draw, text), []
    chomp = draw(st.sampled_from(["-", "-", "", "+"]))
    step = draw(st.sampled_from([2, 2, 1, 4]))
    indicator = str(step) if rarely(draw, 30) else ""
    header = ("|" if style == "literal" else ">") + (indicator + chomp if draw(st.booleans()) else
                                                      chomp + indicator)
    body = text[:-1] if text.endswith("\n") else text
    lines = [(" " * (indent + step) + line) if line else "" for line in body.split("\n")]
    if text.endswith("\n") and draw(st.booleans()):
        lines.append("")
    return prefix + header, lines


def _text_value(draw: st.DrawFn, usual: str, unusual: list[str], percent: int = 25) -> str:
    if rarely(draw, 3):
        return draw(st.text(alphabet=TEXT_ALPHABET, min_size=0, max_size=12))
    return draw(st.sampled_from(unusual)) if rarely(draw, percent) else usual


def _number(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 120))
    if not rarely(draw, 50):
        return str(n)
    form = draw(st.sampled_from(["dec", "lead0", "hex", "0o", "bin", "under", "plus", "minus",
                                 "float", "exp", "sexagesimal", "HEX", "0O"]))
    return {
        "dec": str(n), "lead0": f"0{n}", "hex": f"0x{n:x}", "HEX": f"0X{n:X}", "0o": f"0o{n:o}",
        "0O": f"0O{n:o}", "bin": f"0b{n:b}", "under": f"{str(n)[:1]}_{str(n)[1:] or '0'}",
        "plus": f"+{n}", "minus": f"-{n}", "float": f"{n}.0", "exp": f"{n}e0",
        "sexagesimal": f"{n // 60}:{n % 60:02d}",
    }[form]


@st.composite
def configs(draw: st.DrawFn) -> Generated:
    out = Generated()
    out.newline = "\r\n" if rarely(draw, 15) else "\n"
    out.bom = rarely(draw, 8)
    out.final_newline = not rarely(draw, 10)
    if rarely(draw, 15):
        out.lines.extend(draw(st.sampled_from(DOCUMENT_STARTS)).split("\n"))
    unit = draw(st.sampled_from(UNIT_INDENTS))

    def key(name: str) -> str:
        return draw(st.sampled_from([f'"{name}"', f"'{name}'"])) if rarely(draw, 8) else name

    def separator() -> str:
        return draw(st.sampled_from(KEY_SEPARATORS)) if rarely(draw, 10) else ": "

    def trailer() -> str:
        return draw(st.sampled_from(TRAILERS)) if rarely(draw, 12) else ""

    def entry(name: str, text: str, indent: int = 0, raw: bool = False) -> None:
        head, more = (text, []) if raw else _scalar(draw, text, indent)
        out.lines.append(" " * indent + key(name) + separator() + head + (trailer() if not more else ""))
        out.lines.extend(more)

    fields = [
        ("chart_path", lambda: entry("chart_path", _text_value(draw, CHART_PATHS[0], CHART_PATHS[1:], 10))),
        ("name", lambda: entry("name", _text_value(draw, NAMES[0], NAMES[1:]))),
        ("version", lambda: entry("version", _text_value(draw, "4562a17c17", VERSIONS, 30))),
        ("image_repository", lambda: entry("image_repository",
                                           _text_value(draw, REPOSITORIES[0], REPOSITORIES[1:], 20))),
        ("image_namespace", lambda: entry("image_namespace",
                                          _text_value(draw, IMAGE_NAMESPACES[0], IMAGE_NAMESPACES[1:], 20))),
    ]
    if draw(st.booleans()):
        fields.append(("autoscaling", lambda: entry("autoscaling", draw(st.sampled_from(BOOLS[2:]))
                                                    if rarely(draw, 40) else draw(st.sampled_from(BOOLS[:2])),
                                                    raw=True)))
    if rarely(draw, 30):
        fields.append(("deployment_mode", lambda: entry("deployment_mode",
                                                        _text_value(draw, MODES[0], MODES[1:], 20))))
    if not rarely(draw, 25):
        def canary() -> None:
            number = out.percent = _number(draw)
            if rarely(draw, 15):
                number = draw(st.sampled_from([f'"{number}"', f"!!int {number}", f"!!float {number}",
                                               f"!!str {number}", "~", f"! {number}"]))
            if rarely(draw, 20):
                out.lines.append(key("canary") + separator() + "{trafficPercent: " + number + "}" + trailer())
                return
            out.lines.append(key("canary") + (draw(st.sampled_from([":\t", ": # canary"])) if rarely(draw, 10)
                                              else ":"))
            indent = draw(st.sampled_from(["\t", " \t", "\t "])) if rarely(draw, 5) else " " * unit
            out.lines.append(indent + key("trafficPercent") + separator() + number + trailer())
        fields.append(("canary", canary))
    if rarely(draw, 25):
        def resources() -> None:
            out.lines.append(key("resources") + ":")
            for group in draw(st.lists(st.sampled_from(["requests", "limits"]), min_size=1, max_size=2,
                                       unique=True)):
                out.lines.append(" " * unit + key(group) + ":")
                for kind in draw(st.lists(st.sampled_from(["cpu", "memory"]), min_size=1, max_size=2,
                                          unique=True)):
                    entry(kind, draw(st.sampled_from(QUANTITIES)), indent=2 * unit)
        fields.append(("resources", resources))
    for _, write in draw(st.permutations(fields)):
        write()
    if rarely(draw, 10):
        out.lines.extend(draw(st.sampled_from(DOCUMENT_ENDS)).split("\n"))
    if rarely(draw, 8):  # a control character, often after multi-byte text
        line = draw(st.integers(0, len(out.lines) - 1))
        text = out.lines[line]
        if not rarely(draw, 30):
            text += " # ünïcødé 🎵 "
        at = draw(st.integers(0, len(text)))
        out.control_character = draw(st.sampled_from(CONTROL_CHARACTERS))
        out.lines[line] = text[:at] + out.control_character + text[at:]
    return out


# --- helm's reading ------------------------------------------------------------------------

HelmRead = tuple[bool, Any]  # (ok, the values as JSON) or (False, helm's message)


def _decode_probe(stdout: str) -> dict[str, str]:
    read = {}
    for document in yaml.safe_load_all(stdout):
        if isinstance(document, dict) and document.get("kind") == "HelmProbe":
            read[document["source"]] = base64.b64decode(document["json"]).decode("utf-8")
    return read


def helm_files_read(helm: Path, texts: list[bytes], workdir: Path) -> list[HelmRead]:
    """Each text read by one helm process through the probe chart's fromYaml."""
    chart = workdir / "probe-files"
    shutil.copytree(PROBE_CHART, chart)
    (chart / "cfg").mkdir()
    for number, data in enumerate(texts):
        (chart / "cfg" / f"{number:05d}.yaml").write_bytes(data)
    proc = subprocess.run([str(helm), "template", "probe", str(chart), "--show-only", "templates/files.yaml"],
                          capture_output=True, text=True, timeout=300, check=False, env=_helm_env())
    assert proc.returncode == 0, proc.stderr
    read = _decode_probe(proc.stdout)
    results: list[HelmRead] = []
    for number in range(len(texts)):
        value = json.loads(read[f"cfg/{number:05d}.yaml"])
        if set(value) == {"Error"}:  # fromYaml's way of failing; no generated config has this key
            results.append((False, value["Error"]))
        else:
            results.append((True, value))
    return results


def _list_schema() -> dict[str, Any]:
    """The real chart's values.schema.json applied to each item of a list `cfgs`."""
    real = json.loads((REAL_CHART / "values.schema.json").read_text("utf-8"))
    definitions = real.pop("definitions", {})
    item = {k: v for k, v in real.items() if k not in ("$schema", "$id")}
    return {"$schema": real["$schema"], "type": "object",
            "properties": {"cfgs": {"type": "array", "items": {"$ref": "#/definitions/__config"}}},
            "definitions": {**definitions, "__config": item}}


_SCHEMA_ITEM = re.compile(r"^- (?:at '/cfgs/(\d+)[/']|cfgs\.(\d+)[.:])", re.MULTILINE)


def helm_schema_verdicts(helm: Path, values: list[Any], workdir: Path) -> dict[int, str]:
    """Which values helm's own schema validation (Go regexp) refuses: {index: helm's lines about it}.

    One helm process checks them all against the real chart's schema, as a list."""
    chart = workdir / "probe-schema"
    shutil.copytree(PROBE_CHART, chart)
    (chart / "values.schema.json").write_text(json.dumps(_list_schema()), encoding="utf-8")
    values_file = workdir / "cfgs.json"
    values_file.write_text(json.dumps({"cfgs": values}), encoding="utf-8")
    proc = subprocess.run([str(helm), "template", "probe", str(chart), "--values", str(values_file),
                           "--show-only", "templates/values.yaml"],
                          capture_output=True, text=True, timeout=300, check=False, env=_helm_env())
    if proc.returncode == 0:
        return {}
    refused: dict[int, str] = {}
    for match in _SCHEMA_ITEM.finditer(proc.stderr):
        index = int(match.group(1) or match.group(2))
        line = proc.stderr[match.start():].split("\n", 1)[0]
        refused[index] = (refused[index] + "; " if index in refused else "") + line
    assert refused, proc.stderr  # a failure not about one item: the probe itself is broken
    return refused


def helm_values_read(helm: Path, values_file: Path) -> HelmRead:
    """The file read as `helm template --values FILE` reads it."""
    proc = subprocess.run([str(helm), "template", "probe", str(PROBE_CHART), "--values", str(values_file),
                           "--show-only", "templates/values.yaml"],
                          capture_output=True, text=True, timeout=120, check=False, env=_helm_env())
    if proc.returncode != 0:
        return False, proc.stderr.strip()
    return True, json.loads(_decode_probe(proc.stdout)["values"])


def _helm_env() -> dict[str, str]:
    return helm_runner._helm_env()


def helm_model(value: Any) -> Any:
    """A value as a Helm template sees it: numbers are float64 (JSON), the rest as it is."""
    if isinstance(value, dict):
        return {str(k): helm_model(v) for k, v in value.items()}
    if isinstance(value, list):
        return [helm_model(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    raise AssertionError(f"unexpected value {value!r}")


# --- the property ------------------------------------------------------------------------------

@dataclass
class Outcome:
    number: int
    generated: Generated
    check: DeploymentCheck
    helm: dict[str, HelmRead] = field(default_factory=dict)  # "4", "3", "4 --values", ...

    @property
    def accepted(self) -> bool:
        return self.check.valid

    def errors(self) -> list[Any]:
        return [d for d in self.check.diagnostics if d.severity is Severity.ERROR]

    def describe(self) -> str:
        errors = "; ".join(f"{d.line}:{d.column} [{d.rule}] {d.message}" for d in self.errors()) or "accepted"
        read = self.check.loaded.value if self.check.loaded else None
        helms = "\n".join(f"  helm {which}: {read if ok else 'REFUSED ' + str(read)}"
                          for which, (ok, read) in self.helm.items())
        return f"#{self.number} {self.generated.text!r}\n  validate: {errors}\n  read: {read!r}\n{helms}"


_HELM_LINE = re.compile(r"\bline (\d+):")
_DECIMAL = re.compile(r"[-+]?[0-9]+")  # an integer as people read it
_ODD_BREAKS = re.compile("[\u0085\u2028\u2029]|\r(?!\n)")


def _problems(outcome: Outcome) -> list[str]:
    """How this outcome breaks the property (empty: it holds)."""
    problems = []
    errors = outcome.errors()
    loaded = outcome.check.loaded
    # Keys Helm renames (`on:` becomes "true") are reported by yaml-key-type; apart from those,
    # validate reads what helm reads whenever both read the file, accepted or not.
    renamed_keys = any(d.rule == "yaml-key-type" for d in errors)
    if loaded is not None and not renamed_keys:
        for which, (ok, read) in outcome.helm.items():
            if ok and helm_model(read) != helm_model(loaded.value):
                problems.append(f"validate reads other values than helm {which}")
    if outcome.accepted:
        assert loaded is not None
        for which, (ok, _) in outcome.helm.items():
            if not ok:
                problems.append(f"validate accepts, helm {which} refuses")
        written = outcome.generated.percent
        percent = (loaded.value.get("canary") or {}).get("trafficPercent")
        if percent is not None and (written is None or not _DECIMAL.fullmatch(written)
                                    or int(written) != percent):
            problems.append(f"validate accepts trafficPercent written {written!r}, helm reads {percent}")
    else:
        # go-yaml counts U+0085, U+2028, U+2029 and a lone CR as line breaks, editors do not
        editor_lines = not _ODD_BREAKS.search(outcome.generated.text)
        # where validate stopped reading: the first syntax error (libyaml stops there, go-yaml may
        # read on, e.g. past a `\'` escape that only go-yaml knows, to a later problem)
        stopped = min((d.line for d in errors if d.rule in ("yaml-syntax", "yaml-encoding")), default=None)
        for which, (ok, message) in outcome.helm.items():
            match = None if ok or not editor_lines else _HELM_LINE.search(str(message))
            # go-yaml names the line of a scanner error, and the line before a parser error
            if match and not any(int(match.group(1)) <= d.line <= int(match.group(1)) + 1 for d in errors) \
                    and not (stopped is not None and stopped < int(match.group(1))):
                problems.append(f"helm {which} refuses at line {match.group(1)}, validate elsewhere")
        control = outcome.generated.control
        if control and not any((d.line, d.column) == control for d in errors):
            problems.append(f"a control character at {control[0]}:{control[1]}, validate reports elsewhere")
    return problems


def _generate(count: int, seed_value: int) -> list[Generated]:
    found: list[Generated] = []

    @seed(seed_value)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(configs())
    def collect(generated: Generated) -> None:
        found.append(generated)

    collect()
    return found


def _validate(generated: list[Generated], workdir: Path) -> list[Outcome]:
    outcomes = []
    for number, item in enumerate(generated):
        path = workdir / "model-deployments" / "test" / f"case{number:05d}" / "config.yaml"
        path.parent.mkdir(parents=True)
        path.write_bytes(item.text.encode("utf-8"))
        config = ConfigFile(str(path.relative_to(workdir)), path)
        outcomes.append(Outcome(number, item, check_config(config, ENVIRONMENT, REPO_ROOT)))
    return outcomes


def _values_sample(outcomes: list[Outcome], limit: int) -> list[Outcome]:
    """Accepted files for `helm template --values`: those with a line helm 4 splits at first.

    Only accepted files can break the property there: for a refused one any helm verdict is fine."""
    accepted = [o for o in outcomes if o.accepted]
    splits = [o for o in accepted if any(line.startswith(("---", "%", "...")) for line in o.generated.lines)]
    return (splits + [o for o in accepted if o not in splits])[:limit]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    workdir = tmp_path_factory.mktemp("helm-equivalence")
    started = time.perf_counter()
    generated = _generate(EXAMPLES, SEED)
    results = _validate(generated, workdir)
    timings = {"generate+validate": time.perf_counter() - started}
    texts = [o.generated.text.encode("utf-8") for o in results]
    for major in HELM_MAJORS:
        started = time.perf_counter()
        for outcome, read in zip(results, helm_files_read(helm_path(major), texts, workdir / f"h{major}"),
                                 strict=True):
            outcome.helm[major] = read
        timings[f"helm {major}: {len(texts)} files in one process"] = time.perf_counter() - started
    accepted = [o for o in results if o.accepted and all(ok for ok, _ in o.helm.values())]
    for major in HELM_MAJORS:
        started = time.perf_counter()
        refused = helm_schema_verdicts(helm_path(major), [o.helm[major][1] for o in accepted],
                                       workdir / f"h{major}")
        for index, outcome in enumerate(accepted):
            outcome.helm[f"{major} schema"] = (False, refused[index]) if index in refused \
                else outcome.helm[major]
        timings[f"helm {major}: {len(accepted)} values against the chart's schema"] = \
            time.perf_counter() - started
    sample = _values_sample(results, VALUES_RUNS)
    for major in HELM_MAJORS:
        started = time.perf_counter()
        helm = helm_path(major)
        with ThreadPoolExecutor(max_workers=2) as pool:
            reads = list(pool.map(lambda o, helm=helm: helm_values_read(helm, o.check.config.path), sample))
        for outcome, read in zip(sample, reads, strict=True):
            outcome.helm[f"{major} --values"] = read
        timings[f"helm {major}: {len(sample)} runs of --values"] = time.perf_counter() - started
    for what, seconds in timings.items():
        print(f"{what}: {seconds:.2f} s")
    return results


def test_validate_and_helm_agree(outcomes: list[Outcome]) -> None:
    broken = [(problems, o) for o in outcomes if (problems := _problems(o))]
    accepted = sum(o.accepted for o in outcomes)
    kinds = Counter(p for problems, _ in broken for p in problems)
    print(f"seed {SEED}: {len(outcomes)} configs, {accepted} accepted by validate, "
          f"{sum(not all(ok for ok, _ in o.helm.values()) for o in outcomes)} refused by a helm")
    examples = []  # the two shortest configs of each kind of problem
    for kind in kinds:
        cases = sorted((o for problems, o in broken if kind in problems), key=lambda o: len(o.generated.text))
        examples.extend(f"{kind}\n{o.describe()}" for o in cases[:2])
    report = "\n".join(examples)
    assert not broken, f"seed {SEED}: {len(broken)} configs break the property {dict(kinds)}:\n{report}"
    assert accepted >= MIN_ACCEPTED_SHARE * len(outcomes), "the generator should produce valid configs too"


def test_values_runs_cover_the_fromyaml_reading(outcomes: list[Outcome]) -> None:
    """`--values FILE` and the probe's fromYaml read alike, except where helm 4 splits at `---` lines."""
    for outcome in outcomes:
        for major in HELM_MAJORS:
            exact = outcome.helm.get(f"{major} --values")
            if exact is None or (major == "4" and any(line.startswith("---")
                                                      for line in outcome.generated.text.split("\n"))):
                continue
            batch = outcome.helm[major]
            assert exact[0] == batch[0], outcome.describe()
            if exact[0]:
                assert helm_model(exact[1]) == helm_model(batch[1]), outcome.describe()


# --- the real chart ------------------------------------------------------------------------------

def _render_real_chart(helm: Path, values_file: Path, release: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), "template", release, str(REAL_CHART), "--namespace", NAMESPACE,
                           "--values", str(values_file)], capture_output=True, text=True, timeout=120,
                          check=False, env=_helm_env())


@pytest.mark.parametrize("major", HELM_MAJORS)
def test_real_chart_renders_the_values_as_written(outcomes: list[Outcome], major: str) -> None:
    accepted = [o for o in outcomes if o.accepted][:CHART_RUNS]
    assert accepted
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(lambda o: _render_real_chart(helm_path(major), o.check.config.path,
                                                           o.check.name), accepted))
    print(f"helm {major}: {len(accepted)} renders of the real chart in {time.perf_counter() - started:.2f} s")
    for outcome, proc in zip(accepted, procs, strict=True):
        assert proc.returncode == 0, f"{proc.stderr}\n{outcome.describe()}"
        assert outcome.check.loaded is not None
        values = outcome.check.loaded.value
        isvc = next(d for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "InferenceService")
        predictor = isvc["spec"]["predictor"]
        assert isvc["metadata"]["name"] == values["name"], outcome.describe()
        assert isvc["metadata"]["namespace"] == NAMESPACE
        assert predictor["model"]["storageUri"] == (f"oci://{values['image_repository']}/"
                                                    f"{values['image_namespace']}/{values['name']}:"
                                                    f"{values['version']}"), outcome.describe()
        percent = (values.get("canary") or {}).get("trafficPercent")
        assert predictor.get("canaryTrafficPercent") == percent, outcome.describe()
        assert isinstance(predictor.get("canaryTrafficPercent", 0), int)
        mode = values.get("deployment_mode", "Serverless")
        assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == mode
        assert predictor["maxReplicas"] == (5 if values.get("autoscaling") else 1), outcome.describe()
        for group, defaults in (("requests", {"cpu": "500m", "memory": "1Gi"}),
                                ("limits", {"cpu": "2", "memory": "4Gi"})):
            for kind, default in defaults.items():
                written = ((values.get("resources") or {}).get(group) or {}).get(kind, default)
                assert predictor["model"]["resources"][group][kind] == written, outcome.describe()

