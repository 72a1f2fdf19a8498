"""Scenario files: one world (parameters and their uncertainty) and the policies to weigh in it.

The file format is DESIGN.md's "Scenario file". Every problem is reported as a :class:`ScenarioError`
naming the file, the key and the allowed values; nothing is run or written until a file is valid.

Examples
--------
>>> from cartelsim import Scenario
>>> sc = Scenario.from_text('''
... [scenario]
... name = "demo"
... start = 2012-01-01
... end = 2014-01-01
... [[policy]]
... name = "halve-recruitment"
...   [[policy.intervention]]
...   type = "recruitment"
...   start = 2013-01-01
...   factor = 0.5
... ''')
>>> [p.name for p in sc.all_policies], sc.n_weeks
(['baseline', 'halve-recruitment'], 104)

"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cartelsim.distributions import Distribution, parse_distribution
from cartelsim.params import PARAMS
from cartelsim.policies import REGISTRY, Intervention, KeySpec, key_specs
from cartelsim.timeline import CALIBRATION_ORIGIN, WEEKS_PER_YEAR, week_of

__all__ = ["LAYERS", "Policy", "Record", "Scenario", "ScenarioError"]

#: Layers a scenario may name, in step order; the ecosystem is always on.
LAYERS: tuple[str, ...] = ("ecosystem", "organisation", "geography")
#: Layers implemented in this version (others are rejected with a clear message).
AVAILABLE_LAYERS: tuple[str, ...] = ("ecosystem", "organisation", "geography")
POLICY_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SOLVERS = ("euler", "adaptive")


#: The latest allowed ``end`` (assumption): a century of weeks from the calibration origin. The ecosystem
#: stays finite to it under every shipped policy (tested with zero recruitment); memory grows with it: the
#: recorder holds 8 bytes per group, variable and recorded week per experiment (150 groups x 5,200 weeks:
#: 6.2 MB per variable and experiment at weekly group records).
MAX_END = dt.date(2112, 1, 1)


class ScenarioError(ValueError):
    """A scenario file is invalid. The message names the file, the key and what is allowed."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        where, problem = _clip(where), _clip(problem)
        self.source, self.where, self.problem = source, where, problem
        super().__init__(f"{source}: {where}: {problem}")


def _clip(text: str, limit: int = 60) -> str:
    """Shorten every run of more than ``limit`` characters without a space (an echoed value), then the whole."""
    text = re.sub(
        rf"\S{{{limit + 1},}}", lambda m: f"{m.group(0)[: limit - 20]}... ({len(m.group(0)):,} characters)", text
    )
    return text if len(text) <= 400 else f"{text[:380]}... ({len(text):,} characters)"


@dataclass(frozen=True)
class Record:
    """Recording intervals in weeks (``None``: that level is not recorded)."""

    national: int | None = 1
    groups: int | None = 52


@dataclass(frozen=True)
class Policy:
    """A named package of interventions, acting in file order."""

    name: str
    interventions: tuple[Intervention, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Scenario:
    """One world and the policies to weigh in it (see the module docstring for an example)."""

    name: str
    start: dt.date
    end: dt.date
    description: str = ""
    seed: int = 0
    replicates: int = 1
    stochastic: bool = False
    solver: str = "euler"
    layers: tuple[str, ...] = ("ecosystem",)
    record: Record = field(default_factory=Record)
    reference: dt.date | None = None
    parameters: Mapping[str, float] = field(default_factory=dict)
    uncertainty: Mapping[str, Distribution] = field(default_factory=dict)
    policies: tuple[Policy, ...] = ()
    text: str = ""
    source: str = "<scenario>"

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario file."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")  # a byte-order mark (some Windows editors) is dropped
        except FileNotFoundError:
            raise ScenarioError(str(path), "file", "not found") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ScenarioError(str(path), "file", f"cannot be read ({e})") from None
        return cls.from_text(text, source=str(path))

    @classmethod
    def from_text(cls, text: str, source: str = "<scenario>") -> Scenario:
        """Parse and validate scenario TOML text."""
        text = text.removeprefix("\ufeff")
        try:
            data = tomllib.loads(text)
            _check_integers(source, data)
        except tomllib.TOMLDecodeError as e:
            raise ScenarioError(source, "TOML syntax", str(e)) from None
        except RecursionError:  # arrays or tables nested hundreds deep: no scenario key nests like that
            raise ScenarioError(source, "TOML", "arrays or tables nested too deeply") from None
        return _parse(data, text, source)

    # -- time -----------------------------------------------------------------------------------
    @property
    def n_weeks(self) -> int:
        """Number of recorded weeks (``end`` exclusive)."""
        return WEEKS_PER_YEAR * (self.end.year - self.start.year)

    @property
    def spinup_weeks(self) -> int:
        """Weeks simulated from the calibration origin (2012) before ``start``, not recorded."""
        return WEEKS_PER_YEAR * (self.start.year - CALIBRATION_ORIGIN.year)

    def week(self, d: dt.date) -> int:
        """Week index of date ``d`` (week 0 = ``start``)."""
        return week_of(d, self.start.year)

    @property
    def reference_week(self) -> int:
        """Week of the reference date (``start`` when none is given)."""
        return self.week(self.reference or self.start)

    # -- policies -------------------------------------------------------------------------------
    @property
    def all_policies(self) -> tuple[Policy, ...]:
        """``baseline`` (no interventions) first, then the file's policies in order."""
        return (Policy("baseline", (), "no interventions"), *self.policies)

    def policy(self, name: str) -> Policy:
        """Return the policy called ``name`` (``baseline`` included)."""
        for p in self.all_policies:
            if p.name == name:
                return p
        raise KeyError(f"no policy {name!r}; policies: {', '.join(p.name for p in self.all_policies)}")

    def replace(self, **changes: Any) -> Scenario:
        """Return a copy with fields changed (e.g. ``replicates=10``)."""
        return dataclasses.replace(self, **changes)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------

_HEADER_KEYS = (
    "name",
    "description",
    "start",
    "end",
    "seed",
    "replicates",
    "stochastic",
    "solver",
    "layers",
    "record",
    "reference",
)


def _check_integers(src: str, x: Any, where: str = "") -> None:
    """Refuse an integer beyond 64 bits anywhere (TOML's range; Python's parser accepts any size)."""
    if isinstance(x, dict):
        for k, v in x.items():
            _check_integers(src, v, f"{where}.{k}" if where else str(k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            _check_integers(src, v, f"{where}[{i}]")
    elif isinstance(x, int) and not isinstance(x, bool) and not -(2**63) <= x < 2**63:
        raise ScenarioError(
            src, f"key {where}", f"an integer of {len(str(abs(x))):,} digits, outside TOML's 64-bit range"
        )


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _date(src: str, where: str, v: Any, *, new_year: bool = False) -> dt.date:
    if isinstance(v, dt.datetime) or not isinstance(v, dt.date):
        raise ScenarioError(src, where, f"must be a date written as YYYY-MM-DD without quotes (got {v!r})")
    if new_year and (v.month, v.day) != (1, 1):
        raise ScenarioError(src, where, f"must be a 1 January, e.g. {v.year}-01-01 (got {v.isoformat()})")
    if v < CALIBRATION_ORIGIN:
        raise ScenarioError(
            src,
            where,
            f"must be on or after {CALIBRATION_ORIGIN.isoformat()}, the ecosystem's "
            f"calibration origin (got {v.isoformat()})",
        )
    return v


def _int(src: str, where: str, v: Any, low: int, high: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < low or (high is not None and v > high):
        rng = f">= {low}" if high is None else f"within [{low}, {high}]"
        raise ScenarioError(src, where, f"must be an integer {rng} (got {v!r})")
    return v


def _unknown(src: str, where: str, got: Mapping[str, Any], allowed: tuple[str, ...] | list[str]) -> None:
    extra = [k for k in got if k not in allowed]
    if extra:
        raise ScenarioError(src, f"{where} key {extra[0]!r}", f"unknown key; allowed: {', '.join(allowed)}")


def _parse(data: dict[str, Any], text: str, src: str) -> Scenario:
    _unknown(src, "top level", data, ("scenario", "parameters", "uncertainty", "policy"))
    head = data.get("scenario")
    if not isinstance(head, dict):
        raise ScenarioError(src, "[scenario]", "missing table; it needs at least name, start and end")
    _unknown(src, "[scenario]", head, _HEADER_KEYS)
    for k in ("name", "start", "end"):
        if k not in head:
            raise ScenarioError(src, f"[scenario] key {k!r}", "required")
    name = head["name"]
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError(src, "[scenario] key 'name'", f"must be a non-empty string (got {name!r})")
    desc = head.get("description", "")
    if not isinstance(desc, str):
        raise ScenarioError(src, "[scenario] key 'description'", "must be a string")
    start = _date(src, "[scenario] key 'start'", head["start"], new_year=True)
    end = _date(src, "[scenario] key 'end'", head["end"], new_year=True)
    if end > MAX_END:
        raise ScenarioError(
            src, "[scenario] key 'end'", f"must be on or before {MAX_END.isoformat()} (got {end.isoformat()})"
        )
    if end <= start:
        raise ScenarioError(
            src, "[scenario] key 'end'", f"must be after start {start.isoformat()} (got {end.isoformat()})"
        )
    seed = _int(src, "[scenario] key 'seed'", head.get("seed", 0), 0, 2**63 - 1)
    reps = _int(src, "[scenario] key 'replicates'", head.get("replicates", 1), 1, 1_000_000)
    stoch = head.get("stochastic", False)
    if not isinstance(stoch, bool):
        raise ScenarioError(src, "[scenario] key 'stochastic'", f"must be true or false (got {stoch!r})")
    solver = head.get("solver", "euler")
    if solver not in SOLVERS:
        raise ScenarioError(src, "[scenario] key 'solver'", f"must be one of {', '.join(SOLVERS)} (got {solver!r})")
    if stoch and solver != "euler":
        raise ScenarioError(
            src, "[scenario] key 'solver'", f"stochastic runs use the weekly step: 'euler' (got {solver!r})"
        )
    layers = head.get("layers", ["ecosystem"])
    if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        raise ScenarioError(src, "[scenario] key 'layers'", f"must be a list of layer names from {', '.join(LAYERS)}")
    for x in layers:
        if x not in LAYERS:
            raise ScenarioError(src, "[scenario] key 'layers'", f"unknown layer {x!r}; allowed: {', '.join(LAYERS)}")
        if x not in AVAILABLE_LAYERS:
            raise ScenarioError(
                src,
                "[scenario] key 'layers'",
                f"layer {x!r} is not available in this version; available: {', '.join(AVAILABLE_LAYERS)}",
            )
    if len(set(layers)) != len(layers):
        raise ScenarioError(src, "[scenario] key 'layers'", "names a layer twice")
    layer_t = tuple(x for x in LAYERS if x in layers or x == "ecosystem")
    if solver == "adaptive" and "organisation" in layer_t:  # its factions change the kernel week by week
        raise ScenarioError(
            src,
            "[scenario] key 'solver'",
            "the organisation layer runs with the weekly step: 'euler' (the adaptive solver integrates the "
            "ecosystem without the layer's factions and violence after removals)",
        )
    record = _record(src, head.get("record", {}))
    reference = None
    if "reference" in head:
        reference = _date(src, "[scenario] key 'reference'", head["reference"])
        if not start <= reference < end:
            raise ScenarioError(
                src,
                "[scenario] key 'reference'",
                f"must be within [{start.isoformat()}, {end.isoformat()}) (got {reference.isoformat()})",
            )

    params = data.get("parameters", {})
    if not isinstance(params, dict):
        raise ScenarioError(src, "[parameters]", "must be a table of name = number")
    parsed_params: dict[str, float] = {}
    for k, v in params.items():
        spec = PARAMS.get(k)
        if spec is None:
            raise ScenarioError(src, f"[parameters] key {k!r}", _unknown_param(k))
        if not _is_number(v):
            raise ScenarioError(
                src,
                f"[parameters] key {k!r}",
                f"must be a number (got {v!r}); put distribution tables under [uncertainty]",
            )
        try:
            parsed_params[k] = spec.check(v)
        except ValueError as e:
            raise ScenarioError(src, f"[parameters] key {k!r}", str(e)) from None

    unc = data.get("uncertainty", {})
    if not isinstance(unc, dict):
        raise ScenarioError(src, "[uncertainty]", "must be a table of name = distribution table")
    parsed_unc: dict[str, Distribution] = {}
    for k, v in unc.items():
        spec = PARAMS.get(k)
        if spec is None:
            raise ScenarioError(src, f"[uncertainty] key {k!r}", _unknown_param(k))
        parsed_unc[k] = _dist(src, f"[uncertainty] key {k!r}", v, spec.low, spec.high)

    pol = data.get("policy", [])
    if not isinstance(pol, list):
        raise ScenarioError(src, "[[policy]]", "must be an array of tables ([[policy]])")
    policies: list[Policy] = []
    seen: set[str] = set()
    for i, p in enumerate(pol, 1):
        policies.append(_policy(src, i, p, seen, start, end))
    for pl in policies:
        for j, iv in enumerate(pl.interventions, 1):
            if iv.layer not in layer_t:
                raise ScenarioError(
                    src,
                    f"policy {pl.name!r} intervention #{j} ({iv.type})",
                    f'acts on the {iv.layer} layer, which this scenario does not run; add "{iv.layer}" to '
                    "[scenario] layers",
                )
    return Scenario(
        name=name,
        description=desc,
        start=start,
        end=end,
        seed=seed,
        replicates=reps,
        stochastic=stoch,
        solver=solver,
        layers=layer_t,
        record=record,
        reference=reference,
        parameters=parsed_params,
        uncertainty=parsed_unc,
        policies=tuple(policies),
        text=text,
        source=src,
    )


def _unknown_param(k: str) -> str:
    import difflib

    close = difflib.get_close_matches(k, PARAMS, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown parameter{hint} (see `cartelsim params` for all {len(PARAMS)} names)"


def _record(src: str, rec: Any) -> Record:
    if not isinstance(rec, dict):
        raise ScenarioError(src, "[scenario] key 'record'", "must be a table like { national = 1, groups = 52 }")
    _unknown(src, "[scenario] record", rec, ("national", "groups"))
    out: dict[str, int | None] = {}
    for k, default in (("national", 1), ("groups", 52)):
        v = rec.get(k, default)
        if v == "none":
            out[k] = None
        elif isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            out[k] = v
        else:
            raise ScenarioError(
                src,
                f"[scenario] record key {k!r}",
                f'must be a whole number of weeks >= 1 or "none" (got {v!r})',
            )
    return Record(**out)


def _dist(src: str, where: str, v: Any, low: float, high: float) -> Distribution:
    if not isinstance(v, dict):
        raise ScenarioError(
            src,
            where,
            f'must be a distribution table such as {{ dist = "uniform", low = ..., high = ... }} (got {v!r})',
        )
    try:
        d = parse_distribution(v)
    except ValueError as e:
        raise ScenarioError(src, where, str(e)) from None
    if d.dist in ("uniform", "triangular", "fixed"):
        lo, hi = d.support()
        if lo < low or hi > high:
            raise ScenarioError(
                src,
                where,
                f"values must lie within the bounds [{low:g}, {high:g}] (table spans {lo:g}..{hi:g})",
            )
    return d


def _policy(src: str, i: int, p: Any, seen: set[str], start: dt.date, end: dt.date) -> Policy:
    where = f"[[policy]] #{i}"
    if not isinstance(p, dict):
        raise ScenarioError(src, where, "must be a table")
    _unknown(src, where, p, ("name", "description", "intervention"))
    name = p.get("name")
    if not isinstance(name, str) or not POLICY_NAME.match(name):
        raise ScenarioError(
            src,
            f"{where} key 'name'",
            f"must match [a-z0-9][a-z0-9-]* (lower-case letters, digits, hyphens; got {name!r})",
        )
    if name == "baseline":
        raise ScenarioError(
            src, f"{where} key 'name'", "'baseline' is reserved (it is always run, with no interventions)"
        )
    if name in seen:
        raise ScenarioError(src, f"{where} key 'name'", f"duplicate policy name {name!r}")
    seen.add(name)
    desc = p.get("description", "")
    if not isinstance(desc, str):
        raise ScenarioError(src, f"{where} key 'description'", "must be a string")
    items = p.get("intervention", [])
    if not isinstance(items, list):
        raise ScenarioError(
            src, f"policy {name!r} intervention", "must be an array of tables ([[policy.intervention]])"
        )
    ivs = tuple(_intervention(src, f"policy {name!r} intervention #{j}", x, start, end) for j, x in enumerate(items, 1))
    return Policy(name, ivs, desc)


def _intervention(src: str, where: str, x: Any, start: dt.date, end: dt.date) -> Intervention:
    if not isinstance(x, dict):
        raise ScenarioError(src, where, "must be a table")
    t = x.get("type")
    if not isinstance(t, str) or t not in REGISTRY:
        raise ScenarioError(src, f"{where} key 'type'", f"must be one of {', '.join(sorted(REGISTRY))} (got {t!r})")
    cls = REGISTRY[t]
    specs = key_specs(cls)
    where = f"{where} ({t})"
    _unknown(src, where, x, ["type", "start", "end", *[s.name for s in specs]])
    if "start" not in x:
        raise ScenarioError(src, f"{where} key 'start'", "required (a date, YYYY-MM-DD)")
    kw: dict[str, Any] = {"start": _date(src, f"{where} key 'start'", x["start"])}
    if not start <= kw["start"] < end:
        raise ScenarioError(
            src,
            f"{where} key 'start'",
            f"must be within the scenario, [{start.isoformat()}, {end.isoformat()}) (got {kw['start'].isoformat()})",
        )
    if "end" in x:
        kw["end"] = _date(src, f"{where} key 'end'", x["end"])
        if kw["end"] <= kw["start"]:
            raise ScenarioError(src, f"{where} key 'end'", f"must be after its start {kw['start'].isoformat()}")
    for s in specs:
        if s.name not in x:
            if s.required:
                raise ScenarioError(src, f"{where} key {s.name!r}", f"required: {s.doc}")
            continue
        kw[s.name] = _key_value(src, f"{where} key {s.name!r}", s, x[s.name])
    iv = cls(**kw)
    try:
        iv.validate()
    except ValueError as e:
        raise ScenarioError(src, where, str(e)) from None
    return iv


def _key_value(src: str, where: str, s: KeySpec, v: Any) -> Any:
    if s.kind == "number":
        if isinstance(v, dict):
            return _dist(src, where, v, s.low, s.high)
        if not _is_number(v) or math.isnan(v):
            raise ScenarioError(src, where, f"must be a number or a distribution table (got {v!r})")
        lo_ok = v > s.low if s.low_open else v >= s.low
        if not lo_ok or v > s.high:
            raise ScenarioError(src, where, f"must be within [{s.low:g}, {s.high:g}] {s.unit} (got {v!r})".rstrip())
        return float(v)
    if s.kind == "integer":
        return _int(src, where, v, int(s.low), int(s.high) if math.isfinite(s.high) else None)
    if s.kind == "choice":
        if v not in s.choices:
            raise ScenarioError(src, where, f"must be one of {', '.join(s.choices)} (got {v!r})")
        return v
    if s.kind == "codes":
        if isinstance(v, str) and v in s.choices:
            return v
        if not isinstance(v, list) or not v:
            words = f" or {' / '.join(repr(c) for c in s.choices)}" if s.choices else ""
            raise ScenarioError(
                src, where, f'must be a non-empty list of codes as strings, e.g. ["08037"]{words} (got {v!r})'
            )
        for c in v:
            if not isinstance(c, str) or not re.fullmatch(s.pattern, c):
                raise ScenarioError(
                    src,
                    where,
                    f"code {c!r} is not valid: codes are strings matching {s.pattern} "
                    "(write them in quotes, with leading zeros)",
                )
        return tuple(v)
    raise AssertionError(s.kind)  # pragma: no cover
