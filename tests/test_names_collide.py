"""Issue 10: generated names that must not collide.

Team and service names allow `.`, `_` and `-` and up to 63 characters (catalog/fields.py NAME_RE), but
the names generated from them live under stricter rules: PrometheusRule objects are Kubernetes objects
(RFC 1123 names), and Grafana dashboard uids are at most 40 characters of `[a-zA-Z0-9_-]`. Every rule
below is written out here from its source, never imported from the code under test; uniqueness is
checked by comparing the number of distinct inputs with the number of distinct outputs.
Run the property tests longer with WATCHKEEPER_FUZZ_EXAMPLES=5000.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import load_catalog
from catalog.fields import NAME_RE
from catalog.links import service_dashboard_uid, slo_dashboard_uid, team_dashboard_uid
from rules.generate import generate_rules
from rules.render import prometheus_rule_name
from tests.conftest import ROOT

FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "200"))

# Kubernetes, k8s.io/apimachinery/pkg/util/validation/validation.go: an RFC 1123 label
# (dns1123LabelFmt, DNS1123LabelMaxLength = 63), a subdomain (labels joined by '.',
# DNS1123SubdomainMaxLength = 253), a label value (labelValueFmt, LabelValueMaxLength = 63) and a label
# key (an optional subdomain prefix and '/', then a qualified name of at most 63 characters).
DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
# Grafana, pkg/util/shortid_generator.go: IsValidShortUID (`^[a-zA-Z0-9\-\_]*$`) and
# IsShortUIDTooLong (MaxUIDLength = 40).
GRAFANA_UID = re.compile(r"[a-zA-Z0-9_-]*")
GRAFANA_UID_MAX = 40

NAMES = st.from_regex(NAME_RE, fullmatch=True)

LONG_A = "a" * 55 + "-team-01"  # 63 characters, the longest name NAME_RE allows
LONG_B = "a" * 55 + "-team-02"
TEAMS = ["a.b", "a-b", "a_b", "x.rules.yml", "x.test.yml", LONG_A, LONG_B]
# Two services sharing their first 33 characters: "wk-slo-" + 33 characters is 40, where a plain cut ends.
SHARED = "payments-settlement-reconciliation"[:33]
SERVICES = {
    "a.b": [f"{SHARED}-eu", f"{SHARED}-us"],
    "a-b": ["s.1"],
    "a_b": ["s-1"],
    "x.rules.yml": ["s_1"],
    "x.test.yml": ["plain"],
    LONG_A: [LONG_A],
    LONG_B: [LONG_B],
}


def _catalog_text() -> str:
    teams = [
        {"name": t, "owners": ["a@example.com"], "channels": {"email": {"to": ["a@example.com"]}}}
        for t in TEAMS
    ]
    services = [{"name": s, "team": t} for t, names in SERVICES.items() for s in names]
    slos = [
        {
            "name": f"slo-{i}",
            "service": s["name"],
            "objective": 99,
            "sli": {"events": {"errors": "sum(rate(e[{{window}}]))", "total": "sum(rate(t[{{window}}]))"}},
        }
        for i, s in enumerate(services)
    ]
    hdfs = [
        {"name": f"hdfs-{i}", "service": s["name"], "namenodes": ["http://nn:9870"]}
        for i, s in enumerate(services)
    ]
    return yaml.safe_dump({"teams": teams, "services": services, "slos": slos, "sources": {"hdfs": hdfs}})


@pytest.fixture(scope="module")
def colliding(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("colliding") / "catalog.yaml"
    path.write_text(_catalog_text(), encoding="utf-8")
    return path


def _generate(catalog: Path, out: Path, *extra: str, hash_seed: str | None = None) -> None:
    """`watchkeeper generate rules` in a fresh process (so a per-process `hash()` salt would show)."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed} if hash_seed else dict(os.environ)
    args = [
        str(Path(sys.executable).parent / "watchkeeper"),
        "generate",
        "rules",
        str(catalog),
        "--out",
        str(out),
        *extra,
    ]
    run = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    assert run.returncode == 0, run.stdout + run.stderr


def _objects(out: Path) -> dict[str, dict[str, object]]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(out.glob("*.rules.yml"))}


def _check_kubernetes_object(obj: dict[str, object]) -> list[str]:
    """What the API server would refuse in a PrometheusRule (name, namespace, labels, group names)."""
    problems = []
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    name, namespace = meta["name"], meta["namespace"]
    if not (DNS1123_SUBDOMAIN.fullmatch(name) and len(name) <= 253):
        problems.append(f"name {name!r} is not an RFC 1123 subdomain")
    if not (DNS1123_LABEL.fullmatch(name) and len(name) <= 63):
        problems.append(f"name {name!r} is not an RFC 1123 label")
    if not (DNS1123_LABEL.fullmatch(namespace) and len(namespace) <= 63):
        problems.append(f"namespace {namespace!r} is not an RFC 1123 label")
    for key, value in meta["labels"].items():
        prefix, _, local = key.rpartition("/")
        if prefix and not (DNS1123_SUBDOMAIN.fullmatch(prefix) and len(prefix) <= 253):
            problems.append(f"label key prefix {prefix!r}")
        if not (QUALIFIED_NAME.fullmatch(local) and len(local) <= 63):
            problems.append(f"label key {key!r}")
        if not (LABEL_VALUE.fullmatch(value) and len(value) <= 63):
            problems.append(f"label value {value!r}")
    spec = obj["spec"]
    assert isinstance(spec, dict)
    groups = [g["name"] for g in spec["groups"]]
    if len(set(groups)) != len(groups):  # the CRD's spec.groups is a list-map keyed by name
        problems.append(f"duplicate group names {groups}")
    return problems


def test_prometheusrule_objects_have_valid_unique_names(colliding: Path, tmp_path: Path) -> None:
    _generate(colliding, tmp_path, "--format", "prometheusrule")
    objects = _objects(tmp_path)
    # Hand count: 7 teams, each with an SLO file and a components file, plus watchkeeper.rules.yml.
    assert len(objects) == 7 * 2 + 1
    for filename, obj in objects.items():
        assert _check_kubernetes_object(obj) == [], filename
    names = [obj["metadata"]["name"] for obj in objects.values()]  # type: ignore[index]
    assert len(set(names)) == len(objects), sorted(names)


def test_prometheusrule_names_are_stable_across_processes(colliding: Path, tmp_path: Path) -> None:
    _generate(colliding, tmp_path / "one", "--format", "prometheusrule", hash_seed="1")
    _generate(colliding, tmp_path / "two", "--format", "prometheusrule", hash_seed="2")
    one, two = _objects(tmp_path / "one"), _objects(tmp_path / "two")
    assert {f: o["metadata"] for f, o in one.items()} == {f: o["metadata"] for f, o in two.items()}


def test_names_that_were_already_valid_keep_their_readable_form() -> None:
    # By hand: "watchkeeper-" + "slo-a-b" needs no change, so it is kept as it is.
    assert prometheus_rule_name("slo-a-b.rules.yml") == "watchkeeper-slo-a-b"
    assert prometheus_rule_name("watchkeeper.rules.yml") == "watchkeeper-watchkeeper"
    assert service_dashboard_uid("checkout") == "wk-slo-checkout"


def test_rule_and_test_file_names_do_not_collide(colliding: Path, tmp_path: Path) -> None:
    _generate(colliding, tmp_path / "rules", "--tests", str(tmp_path / "tests"))
    rules = sorted(p.name for p in (tmp_path / "rules").glob("*.rules.yml"))
    tests = sorted((tmp_path / "tests").glob("*.test.yml"))
    assert len(rules) == 7 * 2 + 1  # hand count, as above
    assert len(tests) == len(rules)
    pointed = {yaml.safe_load(p.read_text())["rule_files"][0].rsplit("/", 1)[-1] for p in tests}
    assert pointed == set(rules)  # one test file per rule file, each testing its own


def test_services_sharing_33_characters_get_different_dashboards(colliding: Path) -> None:
    catalog = load_catalog(colliding).catalog
    urls: dict[str, set[str]] = {}
    for groups in generate_rules(catalog, with_tests=False).files.values():
        for rule in (r for g in groups for r in g.rules if r.alert):
            # SLO alerts link to their service's dashboard (component alerts to their component's)
            if "service" in rule.labels and "component" not in rule.labels:
                url = rule.annotations["dashboard_url"]
                urls.setdefault(rule.labels["service"], set()).add(url.split("/d/")[1].split("?")[0])
    uids = {service: found.pop() for service, found in urls.items() if len(found) == 1}
    assert len(uids) == len(urls) == sum(len(v) for v in SERVICES.values())  # one uid per service
    assert len(set(uids.values())) == len(uids), uids
    for uid in uids.values():
        assert GRAFANA_UID.fullmatch(uid) and 0 < len(uid) <= GRAFANA_UID_MAX, uid


def _assert_grafana_uid(uid: str) -> None:
    assert GRAFANA_UID.fullmatch(uid), uid
    assert 0 < len(uid) <= GRAFANA_UID_MAX, uid
    # Grafana's note on IsValidShortUID: uids will have to be Kubernetes names too.
    assert DNS1123_LABEL.fullmatch(uid), uid


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.sets(NAMES, min_size=1, max_size=30))
def test_dashboard_uids_are_valid_and_distinct(names: set[str]) -> None:
    uids = [f(name) for f in (service_dashboard_uid, team_dashboard_uid, slo_dashboard_uid) for name in names]
    for uid in uids:
        _assert_grafana_uid(uid)
    assert len(set(uids)) == 3 * len(names)  # distinct across names and across dashboard kinds


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.text(alphabet="ab.-_", min_size=1, max_size=63).map(lambda s: f"a{s}a"))
def test_names_differing_only_in_punctuation_get_different_uids(name: str) -> None:
    """`a.b`, `a-b` and `a_b` and their long cousins: the same letters, different separators."""
    variants = {
        name,
        name.replace(".", "-"),
        name.replace("_", "-"),
        name.replace("-", "_"),
        name.replace("-", "."),
    }
    variants = {v for v in variants if re.fullmatch(NAME_RE, v)}
    uids = {service_dashboard_uid(v) for v in variants}
    assert len(uids) == len(variants)
    objects = {prometheus_rule_name(f"slo-{v}.rules.yml") for v in variants}
    assert len(objects) == len(variants)
    for obj in objects:
        assert DNS1123_LABEL.fullmatch(obj) and len(obj) <= 63, obj


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.sets(NAMES, min_size=1, max_size=30))
def test_prometheusrule_names_are_valid_and_distinct(teams: set[str]) -> None:
    files = [f"{kind}-{team}.rules.yml" for kind in ("slo", "components") for team in teams]
    names = {prometheus_rule_name(f) for f in [*files, "watchkeeper.rules.yml"]}
    assert len(names) == len(files) + 1
    for name in names:
        assert DNS1123_LABEL.fullmatch(name) and len(name) <= 63, name


def test_a_name_shaped_like_a_hashed_uid_does_not_take_its_place() -> None:
    """A service literally named like the hashed uid of `a.b` still gets a uid of its own."""
    hashed = service_dashboard_uid("a.b")
    lookalike = hashed.removeprefix("wk-slo-")
    assert re.fullmatch(NAME_RE, lookalike)
    assert service_dashboard_uid(lookalike) != hashed
    obj = prometheus_rule_name("slo-a.b.rules.yml")
    twin = obj.removeprefix("watchkeeper-slo-")
    assert prometheus_rule_name(f"slo-{twin}.rules.yml") != obj


def test_uids_are_the_same_in_another_process() -> None:
    names = ["checkout", "a.b", "a_b", LONG_A, f"{SHARED}-eu"]
    here = [service_dashboard_uid(n) for n in names] + [
        prometheus_rule_name(f"slo-{n}.rules.yml") for n in names
    ]
    code = (
        "import json, sys\n"
        "from catalog.links import service_dashboard_uid\n"
        "from rules.render import prometheus_rule_name\n"
        "names = json.loads(sys.argv[1])\n"
        "print(json.dumps([service_dashboard_uid(n) for n in names]"
        " + [prometheus_rule_name(f'slo-{n}.rules.yml') for n in names]))\n"
    )
    for seed in ("0", "12345"):
        run = subprocess.run(
            [sys.executable, "-c", code, json.dumps(names)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert json.loads(run.stdout) == here
