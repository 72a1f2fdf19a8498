"""Fuzzing the shipped scenarios: every mutated file gets exit 2 with one message, or a complete bundle.

A mutation deletes a key, replaces a value (NaN, infinities, huge and negative numbers, long strings,
nested tables, wrong types, far dates) or adds a key, anywhere in a shipped scenario shortened to a
year and one replicate (so that the runs that do start finish in seconds). Each example runs
``cartelsim run`` in this process and asserts: exit 0 with a whole bundle, or exit 2 with exactly one line
starting ``error:`` and nothing written; never a traceback, never exit 1 (a run whose experiments fail
on a value its checks let through), never a hang. The quick variant runs in the default suite; the
``long`` one tries many more examples.
"""

from __future__ import annotations

import datetime as dt
import math
import signal
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cartelsim import scenarios
from cartelsim.bundle import is_bundle, verify
from cartelsim.cli import app

SHIPPED = [scenarios.path(n) for n in scenarios.names()]
TRIED: dict[str, int] = {"examples": 0, "exit 0": 0, "exit 2": 0}
runner = CliRunner()
PER_EXAMPLE_S = 120  # a run that starts is shortened to a year; past this it counts as a hang


def _short(path: Path) -> dict[str, Any]:
    """A shipped scenario cut to its first year and one replicate."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    head = data["scenario"]
    head["end"] = dt.date(head["start"].year + 1, 1, 1)
    head["replicates"] = 1
    head.pop("reference", None)
    for pol in data.get("policy", []):
        for iv in pol.get("intervention", []):
            iv["start"] = head["start"]
            iv.pop("end", None)
    return data


BASES = [_short(p) for p in SHIPPED]


def _paths(x: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path (dict keys and list indices) of a parsed scenario."""
    out = [prefix] if prefix else []
    if isinstance(x, dict):
        for k, v in x.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            out += _paths(v, (*prefix, i))
    return out


VALUES = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0, -1, -1e308, 1e308, 5e-324, 10**400, -(10**400)]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x" * 100_000, "baseline", "nope", "ecosystem", True, False]),
    st.sampled_from([dt.date(1900, 1, 1), dt.date(2011, 12, 31), dt.date(2200, 1, 1), dt.date(2030, 6, 15)]),
    st.builds(lambda: {"nested": {"deeper": [1, 2]}}),
    st.lists(st.integers(-5, 5), max_size=3),
    st.text(max_size=30),
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    """(description, TOML text) of one mutation of one shipped scenario."""
    import copy

    i = draw(st.integers(0, len(BASES) - 1))
    data = copy.deepcopy(BASES[i])
    paths = _paths(data)
    path = draw(st.sampled_from(paths))
    parent: Any = data
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    action = draw(st.sampled_from(["delete", "replace", "replace", "replace", "add"]))
    if action == "delete":
        del parent[key]
    elif action == "replace":
        parent[key] = draw(VALUES)
    elif isinstance(parent, dict):
        parent[draw(st.sampled_from(["extra", "x" * 500, "replicates", "seed"]))] = draw(VALUES)
    else:
        parent.append(draw(VALUES))
    try:
        text = tomli_w.dumps(data)
    except (TypeError, ValueError):  # not expressible in TOML (a list of mixed tables): write a raw line
        text = tomli_w.dumps(BASES[i]) + f"\n{path[0]} = 1\n"
    return f"{SHIPPED[i].name}: {action} {path}", text


class _Hang(Exception):
    pass


def _alarm(_sig: int, _frame: Any) -> None:
    raise _Hang


def _check(tmp: Path, case: tuple[str, str]) -> None:
    what, text = case
    scen = tmp / "s.toml"
    scen.write_text(text, encoding="utf-8")
    out = tmp / "b"
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(PER_EXAMPLE_S)
    try:
        r = runner.invoke(app, ["run", str(scen), "--out", str(out), "-q"])
    except _Hang:
        pytest.fail(f"{what}: still running after {PER_EXAMPLE_S} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    TRIED["examples"] += 1
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        pytest.fail(f"{what}: traceback {type(r.exception).__name__}: {str(r.exception)[:300]}")
    assert r.exit_code in (0, 2), f"{what}: exit {r.exit_code}: {r.output[:500]}"
    TRIED[f"exit {r.exit_code}"] += 1
    if r.exit_code == 2:
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), f"{what}: {r.output[:500]}"
        assert len(lines[0]) < 600, f"{what}: message of {len(lines[0])} characters"
        assert not [p.name for p in tmp.iterdir() if p.name != "s.toml"], f"{what}: wrote {list(tmp.iterdir())}"
    else:
        assert is_bundle(out), what
        verify(out)
    for p in tmp.iterdir():  # the next example starts clean
        if p.is_dir():
            import shutil

            shutil.rmtree(p)


def _run(tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str]) -> None:
    _check(tmp_path_factory.mktemp("fuzz"), case)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=mutated())
def test_fuzz_shipped_scenarios_quick(tmp_path_factory, case):
    _run(tmp_path_factory, case)


@pytest.mark.long
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=mutated())
def test_fuzz_shipped_scenarios(tmp_path_factory, case):
    _run(tmp_path_factory, case)


def test_unmutated_short_scenarios_run(tmp_path):
    """The fuzz's starting points run (else every mutation of one would be refused for its own sake)."""
    for path, data in zip(SHIPPED, BASES, strict=True):
        text = tomli_w.dumps(data)
        assert tomllib.loads(text) == data, path.name
        scen, out = tmp_path / f"{path.stem}.toml", tmp_path / path.stem
        scen.write_text(text, encoding="utf-8")
        r = runner.invoke(app, ["run", str(scen), "--out", str(out), "-q"])
        assert r.exit_code == 0 and is_bundle(out), f"{path.name}: {r.output[:500]}"


def teardown_module() -> None:
    if TRIED["examples"]:
        print(f"\nfuzz: {TRIED}")
