"""Batch rendering is byte-identical to one `helm template` per deployment.

The proof runs the real helm (4 and 3) on a mixed sample: canary absent, {}, 0, 20,
100; autoscaling on and off; RawDeployment; resources; quoted numeric versions; a
value YAML 1.1 and 1.2 read differently (rendered alone); several namespaces. Every
deployment's output is compared with helm run on that config alone, and the test
checks batching really happened. Failures in helm stay with their own config.
"""

from __future__ import annotations

import io
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT, RunCli, bench_module
from modeldeploy import parallel
from modeldeploy.commands import pipeline
from modeldeploy.config.yaml_loader import load_yaml_text
from modeldeploy.render import helm as helm_runner
from modeldeploy.render.batch import chart_analysis, scheduler, values, wrapper
from modeldeploy.report.progress import ProgressBar, wanted

KUBE = "1.35.0"
CHART = "charts/model-deployment/music-transformer"


def _repo(tmp_path: Path, n: int) -> list[Path]:
    configs: list[Path] = bench_module().generate_repo(tmp_path, n)
    return configs


def _add_config(root: Path, env: str, name: str, body: str) -> Path:
    path = root / "model-deployments" / env / name / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(f"chart_path: {CHART}\nname: {name}\n{body}")
    return path


def _count_helm_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = helm_runner.template

    def counting(helm: helm_runner.Helm, **kwargs: Any) -> helm_runner.TemplateOutput:
        calls.append(kwargs["release"])
        return real(helm, **kwargs)

    monkeypatch.setattr(helm_runner, "template", counting)
    return calls


def _alone(helm: helm_runner.Helm, root: Path, rendered: pipeline.RenderedDeployment) -> str:
    output = helm_runner.template(helm, release=rendered.name, chart_dir=root / CHART,
                                  namespace=rendered.namespace,
                                  values_file=root / rendered.config, kube_version=KUBE)
    assert output.ok, output.error
    return output.manifests


def _helm(path: Path) -> helm_runner.Helm:
    return helm_runner.find_helm({"HELM_BIN": str(path)})


def test_mixed_sample_is_byte_identical_to_single_renders(
        tmp_path: Path, helm_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _repo(tmp_path, 30)
    # go-yaml v2 (Helm 3) reads `yes` as true, YAML 1.2 as text: rendered alone, never batched.
    _add_config(tmp_path, "dev", "ambiguous", "version: abc1234\nimage_repository: r.example.com\n"
                "image_namespace: team\nautoscaling: yes\n")
    helm = _helm(helm_bin)
    calls = _count_helm_calls(monkeypatch)
    result = pipeline.render([], pipeline.Options(jobs=2), tmp_path, helm=helm)
    assert result.errors == 0, result.diagnostics
    assert len(result.rendered) == 31
    assert [d.config for d in result.rendered] == sorted(d.config for d in result.rendered)
    assert calls.count("mdb-batch") == 2, calls  # batched: one helm process per job, namespaces mixed
    assert len(calls) < 15, calls
    assert "ambiguous" in calls  # rendered alone
    monkeypatch.undo()
    for deployment in result.rendered:
        assert deployment.manifests == _alone(helm, tmp_path, deployment), deployment.config
    lines = {line.strip() for d in result.rendered for line in d.manifests.splitlines()}
    assert {"canaryTrafficPercent: 0", "canaryTrafficPercent: 20", "canaryTrafficPercent: 100",
            'serving.kserve.io/deploymentMode: "RawDeployment"', "scaleMetric: cpu"} <= lines
    assert len({d.namespace for d in result.rendered}) == 3


def test_two_configs_failing_in_helm_are_reported_each_against_its_own_file(
        tmp_path: Path, helm_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configs = _repo(tmp_path, 24)
    # A test-only chart copy that refuses versions starting with fa11 (valid for modeldeploy).
    template = tmp_path / CHART / "templates" / "inferenceservice.yaml"
    template.write_text('{{- if hasPrefix "fa11" .Values.version }}{{ fail (printf "version %s is '
                        'refused" .Values.version) }}{{ end }}\n' + template.read_text())
    failing = [configs[4], configs[13]]
    for path in failing:
        text = path.read_text()
        version_line = next(line for line in text.splitlines() if line.startswith("version:"))
        path.write_text(text.replace(version_line, f"version: fa11{path.parent.name[-3:]}"))
    helm = _helm(helm_bin)
    calls = _count_helm_calls(monkeypatch)
    result = pipeline.render([], pipeline.Options(jobs=2), tmp_path, helm=helm)
    monkeypatch.undo()
    assert "mdb-batch" in calls
    errors = [d for d in result.diagnostics if d.severity.value == "error"]
    expected = {str(p.relative_to(tmp_path)) for p in failing}
    assert {d.path for d in errors} == expected, errors
    assert all(d.rule == "helm-template" and "is refused" in d.message for d in errors)
    assert len(errors) == 2
    assert len(result.rendered) == 22
    for deployment in result.rendered:
        assert deployment.manifests == _alone(helm, tmp_path, deployment), deployment.config
    # The same diagnostics as helm alone gives: render the two failing configs one by one.
    alone = pipeline.render([str(p) for p in failing], pipeline.Options(), tmp_path, helm=helm)
    assert alone.diagnostics == errors


def test_a_batch_that_differs_from_helm_alone_falls_back(
        tmp_path: Path, helm4: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-run self-check: one deployment per chart is also rendered alone and compared."""
    _repo(tmp_path, 12)
    real_split = wrapper.split_output

    def corrupted(built: wrapper.Wrapper, stdout: str, count: int) -> list[str] | None:
        parts = real_split(built, stdout, count)
        return None if parts is None else [p.replace("minReplicas", "minReplica5") for p in parts]

    monkeypatch.setattr(wrapper, "split_output", corrupted)
    helm = _helm(helm4)
    result = pipeline.render([], pipeline.Options(jobs=2), tmp_path, helm=helm)
    monkeypatch.undo()
    assert result.errors == 0
    assert len(result.rendered) == 12
    for deployment in result.rendered:
        assert "minReplica5" not in deployment.manifests
        assert deployment.manifests == _alone(helm, tmp_path, deployment)


def test_render_output_dir_and_stdout_match_one_by_one(tmp_path: Path, run_cli: RunCli) -> None:
    _repo(tmp_path, 9)
    batched = run_cli(["render", "-o", str(tmp_path / "out"), "--jobs", "2"], cwd=tmp_path)
    assert batched.returncode == 0, batched.stderr
    assert batched.stderr.startswith("9 configs valid; 9 deployments rendered into ")  # the summary,
    assert batched.stderr.count("\n") == 1 and "\r" not in batched.stderr  # no progress bar in a pipe
    stream = run_cli(["render"], cwd=tmp_path)
    assert stream.returncode == 0, stream.stderr
    one_by_one = ""
    for path in sorted((tmp_path / "model-deployments").glob("*/*/config.yaml")):
        single = run_cli(["render", str(path)], cwd=tmp_path)
        assert single.returncode == 0, single.stderr
        rel = path.relative_to(tmp_path / "model-deployments")
        assert (tmp_path / "out" / rel.parts[0] / f"{rel.parts[1]}.yaml").read_text() == single.stdout
        one_by_one += single.stdout
    assert stream.stdout == one_by_one


# --- what the wrapper cannot reproduce is rendered alone -------------------------------------------

def _chart(tmp_path: Path, template_text: str, extra: dict[str, str] | None = None) -> Path:
    chart = tmp_path / "chart"
    shutil.copytree(REPO_ROOT / CHART, chart)
    (chart / "templates" / "extra.yaml").write_text(template_text)
    for rel, text in (extra or {}).items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    return chart


@pytest.mark.parametrize(("template", "extra", "reason"), [
    ("{{ .Files.Get \"x\" }}", None, ".Files"),
    ("{{ tpl \"x\" . }}", None, "tpl"),
    ("{{ lookup \"v1\" \"Pod\" \"\" \"\" }}", None, "lookup"),
    ("# helm.sh/hook: pre-install", None, "hooks"),
    ("{{ toYaml .Release }}", None, ".Release"),
    ("{{ .Template.Foo }}", None, ".Template"),
    ("{{ .Values.AsMap }}", None, "methods of .Values"),
    ("{{ define \"x\" }}{{ end }}", None, "outside a partial"),
    ("", {"templates/NOTES.txt": "hi"}, "NOTES.txt"),
    ("", {"charts/sub/Chart.yaml": "name: sub"}, "charts/"),
    ("", {".helmignore": "extra.yaml\n"}, ".helmignore"),
    ("", {"values.yaml": "autoscaling: off\n"}, "YAML versions"),
])
def test_unsupported_charts_are_not_batched(tmp_path: Path, template: str, extra: dict[str, str] | None,
                                            reason: str) -> None:
    plan = chart_analysis.plan_chart(_chart(tmp_path, template, extra))
    assert plan.reason is not None and reason in plan.reason


def test_the_example_chart_is_batched() -> None:
    plan = chart_analysis.plan_chart(REPO_ROOT / CHART)
    assert plan.reason is None
    assert plan.defaults == {"autoscaling": False, "deployment_mode": "Serverless", "canary": {}}
    assert plan.schema is not None


@pytest.mark.parametrize(("text", "same"), [
    ("a: text\nb: 2Gi\nc: 500m\nd: 12\ne: 1.5\nf: true\ng: \"yes\"\nh: '0123'\n", True),
    ("a: yes\n", False), ("a: off\n", False), ("a: 0123\n", False), ("a: 1_000\n", False),
    ("a: 0x1f\n", False), ("a: ~\n", False), ("a:\n", False), ("a: 2024-01-01\n", False),
    ("a: 1234e56\n", True), ("a: True\n", False), ("a: !!str 12\n", False),
])
def test_unambiguous_values(text: str, same: bool) -> None:
    loaded, _ = load_yaml_text("x.yaml", text)
    assert loaded is not None
    assert values.unambiguous(loaded) is same


def test_coalesce_like_helm() -> None:
    defaults = {"a": 1, "t": {"x": 1, "y": {"z": 2}}, "e": {}}
    assert values.coalesce(defaults, {"a": 2, "t": {"y": {"w": 3}}}) == {
        "a": 2, "t": {"x": 1, "y": {"z": 2, "w": 3}}, "e": {}}
    assert values.coalesce(defaults, {"t": 5}) is None  # a table meets a scalar: helm decides
    assert defaults == {"a": 1, "t": {"x": 1, "y": {"z": 2}}, "e": {}}  # inputs untouched


# --- the CLI: --jobs, the progress bar -----------------------------------------------------------------

class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_waits_a_second_then_draws_and_clears() -> None:
    stream, clock = io.StringIO(), _Clock()
    bar = ProgressBar(stream, "rendering", clock=clock)
    bar(1, 10)
    assert stream.getvalue() == ""  # quick runs print nothing
    clock.now = 1.5
    bar(5, 10)
    assert stream.getvalue() == "\rrendering [###############---------------] 5/10"
    bar(6, 10)  # within 0.1 s: not redrawn
    assert stream.getvalue().count("\r") == 1
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[K")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_outside_ci_and_json() -> None:
    assert wanted(_Tty(), {}, "text")
    assert not wanted(io.StringIO(), {}, "text")
    assert not wanted(_Tty(), {"CI": "true"}, "text")
    assert not wanted(_Tty(), {}, "json")
    assert not wanted(_Tty(), {"TERM": "dumb"}, "auto")


def test_progress_callback_counts_every_deployment(tmp_path: Path, helm4: Path) -> None:
    _repo(tmp_path, 8)
    seen: list[tuple[int, int]] = []
    pipeline.render([], pipeline.Options(jobs=3), tmp_path, helm=_helm(helm4),
                    progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 8) for i in range(1, 9)]


def test_jobs_must_be_positive(run_cli: RunCli) -> None:
    for command in ("validate", "render"):
        proc = run_cli([command, "--jobs", "0"])
        assert proc.returncode == 2
        assert "positive integer" in proc.stderr


def test_bench_generator_is_valid_and_varied(tmp_path: Path) -> None:
    configs = _repo(tmp_path, 40)
    text = "".join(p.read_text() for p in configs)
    for needle in ("trafficPercent: 0\n", "trafficPercent: 100\n", "trafficPercent: 20",
                   "canary: {}", "RawDeployment", "autoscaling: true", 'version: "'):
        assert needle in text
    assert subprocess.run(["git", "log", "--oneline"], cwd=tmp_path, capture_output=True,
                          text=True, check=True).stdout.count("\n") == 1
    result = pipeline.validate([], pipeline.Options(), tmp_path)
    assert result.errors == 0 and result.warnings == 0, result.diagnostics


def _pyyaml_documents(text: str) -> list:
    """PyYAML's own constructor: the values the fast parser must reproduce."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]


@pytest.mark.parametrize("text", [
    "a: 1\nb: [x, 2, 2.5, true, null, ~, 2024-01-01, 0x1f, '012']\nc: {d: e}\n",
    "---\n# Source: x\n---\na: b\n---\n\n",  # empty documents are dropped
    "a: &x {b: 1}\nc: *x\n",  # shared alias
    "a: &x [1]\nb: {<<: {m: 1}, n: 2}\n",  # merge key
    "a: !!binary aGVsbG8=\nb: !!set {x, y}\nc: !!omap [{a: 1}]\n",
    "1: int key\n? [a, b]\n: seq key\n",
    "a: &r\n  b: *r\n",  # recursive
    "a: b\na: c\n",  # duplicate keys: the last wins, as in PyYAML
    "",
])
def test_fast_manifest_parser_gives_pyyaml_values(text: str) -> None:
    import yaml

    from modeldeploy.manifests import parse as manifest_parse

    try:
        expected = _pyyaml_documents(text)
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            manifest_parse.parse_manifests(text)
        return
    got = manifest_parse.parse_manifests(text)
    assert repr(got) == repr(expected)


def test_fast_manifest_parser_on_rendered_examples() -> None:
    from modeldeploy.manifests import parse as manifest_parse

    paths = [*(REPO_ROOT / "tests" / "golden").rglob("*.yaml"),
             *(REPO_ROOT / "tests" / "data" / "kserve-manifests").rglob("*.yaml")]
    assert len(paths) > 10
    for path in sorted(paths):
        text = path.read_text()
        try:
            expected = _pyyaml_documents(text)
        except Exception as exc:  # the fast parser must fail alike
            with pytest.raises(type(exc)):
                manifest_parse.parse_manifests(text)
            continue
        assert repr(manifest_parse.parse_manifests(text)) == repr(expected), path


def test_a_symlinked_template_is_not_batched(tmp_path: Path) -> None:
    chart = _chart(tmp_path, "")
    (chart / "templates" / "linked.yaml").symlink_to(chart / "templates" / "extra.yaml")
    plan = chart_analysis.plan_chart(chart)
    assert plan.reason is not None and "symbolic" in plan.reason


def test_worker_processes_give_the_same_result_as_one_process(
        tmp_path: Path, helm4: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Config checks and manifest checks in forked workers: same diagnostics, same output."""
    configs = _repo(tmp_path, 14)
    # One config with a schema problem, one whose rendered object the KServe schema rejects.
    configs[2].write_text(configs[2].read_text().replace("image_namespace:", "image_namspace:"))
    template = tmp_path / CHART / "templates" / "inferenceservice.yaml"
    text = template.read_text()
    first = "    minReplicas: 1\n    maxReplicas: {{ if .Values.autoscaling }}"  # the predictor's
    assert first in text
    template.write_text(text.replace(first, "    minReplicas: {{ if hasPrefix \"bad\" .Values.version }}"
                                            "\"one\"{{ else }}1{{ end }}\n    maxReplicas: "
                                            "{{ if .Values.autoscaling }}", 1))
    configs[5].write_text("\n".join("version: bad1234" if line.startswith("version:") else line
                                    for line in configs[5].read_text().splitlines()) + "\n")
    helm = _helm(helm4)
    pools: list[bool] = []
    real_get = parallel.Workers.get

    def recording(self: parallel.Workers, expected: int) -> Any:
        pool = real_get(self, expected)
        pools.append(pool is not None)
        return pool

    monkeypatch.setattr(parallel.Workers, "get", recording)
    monkeypatch.setattr(parallel, "POOL_MIN", 4)
    forked = pipeline.render([], pipeline.Options(jobs=2), tmp_path, helm=helm)
    forked_validate = pipeline.validate([], pipeline.Options(jobs=2), tmp_path)
    assert pools and all(pools), pools  # the workers did the checking
    monkeypatch.setattr(parallel, "POOL_MIN", 10**9)
    pools.clear()
    alone = pipeline.render([], pipeline.Options(jobs=2), tmp_path, helm=helm)
    alone_validate = pipeline.validate([], pipeline.Options(jobs=2), tmp_path)
    assert not any(pools)
    assert forked.diagnostics == alone.diagnostics
    assert forked.rendered == alone.rendered
    assert forked_validate.diagnostics == alone_validate.diagnostics
    rules = {(d.path, d.rule) for d in forked.diagnostics if d.severity.value == "error"}
    assert rules == {(str(configs[2].relative_to(tmp_path)), "schema-missing-key"),
                     (str(configs[2].relative_to(tmp_path)), "schema-unknown-key"),
                     (str(configs[5].relative_to(tmp_path)), "manifest-invalid")}, rules
    assert len(forked.rendered) == 12


@pytest.mark.parametrize(("count", "jobs"), [(6, 1), (6, 2), (7, 2), (30, 2), (333, 2), (1000, 2),
                                             (1001, 3), (10_000, 2), (9, 8)])
def test_batch_sizes_cover_every_release_in_whole_rounds(count: int, jobs: int) -> None:
    sizes = scheduler.batch_sizes(count, jobs)
    assert sum(sizes) == count
    assert max(sizes) <= scheduler.MAX_BATCH
    assert max(sizes) - min(sizes) <= max(sizes) // 2 + 1  # balanced: no straggler of one
    if count >= jobs * scheduler.MIN_BATCH:
        assert len(sizes) % jobs == 0, sizes  # every round keeps every job busy


def _split_by_regex(wrap: wrapper.Wrapper, stdout: str, count: int) -> list[str] | None:
    """The reference: the first version's regular expression over helm's `# Source:` lines."""
    marker = re.compile(r"^" + re.escape(wrap.opening) + r"(\d+)" + re.escape(wrap.separator), re.MULTILINE)
    if not stdout:
        return ["" for _ in range(count)]
    matches = list(marker.finditer(stdout))
    if not matches or matches[0].start() != 0:
        return None
    parts: list[list[str]] = [[] for _ in range(count)]
    head = f"---\n# Source: {wrap.plan.name}/templates/"
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        if int(match.group(1)) >= count:
            return None
        parts[int(match.group(1))].append(head + stdout[match.end():following.start() if following else None])
    return ["".join(p) for p in parts]


@pytest.mark.parametrize("separator", ["~", "/"])
def test_split_output_agrees_with_the_regular_expression(tmp_path: Path, separator: str) -> None:
    """split_output scans with str.find; on random mixes of openings, near-openings, digits
    (Unicode ones too) and text it cuts exactly where the regular expression does."""
    wrap = wrapper.build_wrapper(chart_analysis.plan_chart(REPO_ROOT / CHART), tmp_path, 2)
    wrap.separator = separator
    opening = wrap.opening
    pieces = ["---\n", "# Source: ", opening, f"{opening}0001{separator}a.yaml\n", f"{opening}12{separator}",
              f"{opening}x{separator}", f"{opening}0005", "\n", "kind: A\n", "~", "/", "٣", "00",
              f"{opening}٣{separator}b\n"]
    generator = random.Random(11)
    for _ in range(5000):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(0, 12)))
        for count in (0, 3, 20):
            expected = _split_by_regex(wrap, text, count)
            assert wrapper.split_output(wrap, text, count) == expected, (text, count)


@pytest.mark.parametrize("links", [True, False])
def test_templates_in_folders_and_copied_slots_render_as_helm_alone(
        tmp_path: Path, helm_bin: Path, monkeypatch: pytest.MonkeyPatch, links: bool) -> None:
    """A chart with a template in a folder gets a folder per slot; every slot reads its number
    from its own file name, whether its file is a hard link or (no links here) a copy."""
    _repo(tmp_path, 14)
    templates = tmp_path / CHART / "templates"
    (templates / "runtime").mkdir()
    (templates / "servingruntime.yaml").rename(templates / "runtime" / "servingruntime.yaml")
    assert chart_analysis.plan_chart(tmp_path / CHART).batchable
    calls = _count_helm_calls(monkeypatch)
    if not links:
        def no_link(*args: Any, **kwargs: Any) -> None:
            raise PermissionError(1, "Operation not permitted")
        monkeypatch.setattr(wrapper.os, "link", no_link)
    helm = _helm(helm_bin)
    result = pipeline.render([], pipeline.Options(jobs=2), tmp_path, helm=helm)
    monkeypatch.undo()
    assert result.errors == 0, result.diagnostics
    assert calls.count("mdb-batch") == 2, calls
    assert len(result.rendered) == 14
    for deployment in result.rendered:
        assert "# Source: music-transformer/templates/runtime/servingruntime.yaml" in deployment.manifests
        assert deployment.manifests == _alone(helm, tmp_path, deployment), deployment.config


@pytest.mark.parametrize(("setting", "code", "written"), [
    ("manifest-no-schema: warning", 0, 60),  # an error made a warning: the main process writes them
    ("manifest-crd-no-schema: error", 1, 0),  # a warning made an error: written by the workers, taken back
])
def test_worker_written_files_follow_the_repository_settings(
        tmp_path: Path, run_cli: RunCli, setting: str, code: int, written: int) -> None:
    """Big runs write each file where its manifests were checked (a worker process), before the
    repository's settings are applied; what the settings change is settled in the main process."""
    _repo(tmp_path, 60)  # over parallel.POOL_MIN: the manifests are checked in worker processes
    kind = "Deploymnet" if "manifest-no-schema" in setting else "Widget"
    group = "apps/v1" if kind == "Deploymnet" else "example.com/v1"
    (tmp_path / CHART / "templates" / "extra.yaml").write_text(
        f"apiVersion: {group}\nkind: {kind}\nmetadata:\n  name: {{{{ .Values.name }}}}\n")
    (tmp_path / ".modeldeploy.yaml").write_text(f"rules:\n  {setting}\n")
    out = tmp_path / "out"
    result = run_cli(["render", "-o", str(out), "--jobs", "2"], cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert len(list(out.rglob("*.yaml"))) == written
    if written:
        assert all(f"kind: {kind}" in path.read_text() for path in out.rglob("*.yaml"))
    assert not list(tmp_path.glob(".out.modeldeploy-*")), "the build folder is left behind"
