"""Choropleth maps from the bundled TopoJSON and from a synthetic bundle, offline."""

import datetime as dt
import socket

import numpy as np
import pytest

import cartelsim
from cartelsim.geography.maps import MapError, bundle_map, choropleth, map_values

from .synthetic_bundle import municipal_deaths, write_synthetic_bundle

PNG = b"\x89PNG"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("maps must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return cartelsim.load(write_synthetic_bundle(tmp_path_factory.mktemp("maps") / "bundle"))


@pytest.mark.parametrize("level", ["state", "municipality"])
def test_renders_png_at_both_levels(bundle, tmp_path, level):
    out = tmp_path / f"{level}.png"
    path = bundle_map(bundle, "new_conflict_deaths", dt.date(2013, 3, 1), level, out=out)
    assert path == out and out.read_bytes()[:4] == PNG and out.stat().st_size > 20_000


def test_renders_difference_with_vs(bundle, tmp_path):
    out = tmp_path / "vs.png"
    bundle_map(bundle, "new_conflict_deaths", dt.date(2013, 3, 1), "municipality", "halve-recruitment", "baseline", out)
    assert out.read_bytes()[:4] == PNG


def test_values_are_per_week_medians_and_paired_differences(bundle):
    mv = map_values(bundle, "new_conflict_deaths", dt.date(2013, 6, 1), "municipality")
    assert mv.week == 52 and mv.weeks_covered == 52 and mv.replicates == 2 and mv.unit == "deaths per week"
    want = np.median([municipal_deaths(0, r, 52) for r in range(2)], axis=0) / 52
    np.testing.assert_allclose(mv.values.sort_index().to_numpy(), want, rtol=1e-12)
    d = map_values(bundle, "new_conflict_deaths", dt.date(2013, 6, 1), "state", "halve-recruitment", "baseline")
    assert d.unit.startswith("difference") and "halve-recruitment minus baseline" in d.title
    assert (d.values <= 1e-9).all() and d.values.min() < 0  # the synthetic policy only lowers deaths
    first = map_values(bundle, "new_conflict_deaths", dt.date(2012, 12, 30), "state")
    assert first.week == 0  # the record whose 52 weeks cover the date


def test_figure_has_colour_bar_title_and_footer(bundle):
    fig = choropleth({"08": 1.0, "12": -2.0}, "state", title="T", unit="u", footer="F hash", diverging=True)
    texts = [t.get_text() for t in fig.texts]
    assert "F hash" in texts
    assert fig.axes[0].get_title(loc="left") == "T"
    assert fig.axes[1].get_ylabel() == "u"  # the colour bar
    mv = map_values(bundle, "new_conflict_deaths", dt.date(2013, 6, 1), "state")
    assert "median of 2 replicates" in mv.title


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"variable": "n_members"}, "recorded there: n_routes, new_conflict_deaths"),
        ({"variable": "n_routes", "level": "state"}, "'n_routes' is recorded at: municipality"),
        ({"level": "port"}, "must be one of state, municipality"),
        ({"at": dt.date(2015, 1, 1)}, "outside the run (2012-01-01 to 2014-01-01"),
        ({"policy": "nope"}, "policies: baseline, halve-recruitment"),
        ({"vs": "nope"}, "--vs 'nope'"),
        ({"vs": "baseline"}, "the same policy"),
    ],
)
def test_clear_errors(bundle, kwargs, needle):
    args = {"variable": "new_conflict_deaths", "at": dt.date(2013, 1, 1), "level": "municipality", **kwargs}
    with pytest.raises(MapError) as e:
        map_values(bundle, **args)
    assert needle in str(e.value)


def test_unknown_codes_are_an_error():
    with pytest.raises(MapError, match="none of the 1 codes"):
        choropleth({"99": 1.0}, "state", title="x", unit="u")
