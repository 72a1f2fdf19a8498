"""Crackdown and interdiction: keys, code validation against the bundled data, shocks on the route graph."""

import datetime as dt
import math

import numpy as np
import pytest

import cartelsim
from cartelsim.geography import Shocks, load_route_graph, solve_routes
from cartelsim.geography.shocks import apply_shock
from cartelsim.policies import REGISTRY, key_specs
from cartelsim.policies.geography import Crackdown, Interdiction
from cartelsim.rng import replicate_seeds
from cartelsim.scenario import ScenarioError
from cartelsim.simulation import ExperimentSpec, draw_values

HEAD = """
[scenario]
name = "geo"
start = 2012-01-01
end = 2014-01-01
replicates = 3
layers = ["ecosystem", "geography"]
[[policy]]
name = "p"
  [[policy.intervention]]
  start = 2013-01-01
"""

START = dt.date(2013, 1, 1)


def scenario(body: str) -> cartelsim.Scenario:
    return cartelsim.Scenario.from_text(HEAD + body)


def test_registered_with_design_keys():
    assert REGISTRY["crackdown"] is Crackdown and REGISTRY["interdiction"] is Interdiction
    assert Crackdown.layer == Interdiction.layer == "geography"
    assert [k.name for k in key_specs(Crackdown)] == ["states", "municipalities", "cost_factor"]
    assert [k.name for k in key_specs(Interdiction)] == ["ports", "seizure_probability", "added_cost"]


def test_inf_parses_and_closes_the_edges():
    sc = scenario('  type = "crackdown"\n  municipalities = ["28027"]\n  cost_factor = inf\n')
    iv = sc.policy("p").interventions[0]
    assert isinstance(iv, Crackdown) and iv.municipalities == ("28027",) and math.isinf(iv.cost_factor or 0.0)
    g = load_route_graph()
    shocks = apply_shock(g, no_shocks(g), iv.shock_key({}))
    m = g.municipality_index("28027")[0]
    touching = (g.edge_u == m) | (g.edge_v == m)
    assert np.isinf(shocks.edge_factor[touching]).all() and (shocks.edge_factor[~touching] == 1.0).all()
    sol = solve_routes(g, g.municipality_index(["25003", "12054", "16002"]), shocks)
    assert sol.n_routes[m] == 0  # no route may pass a closed municipality
    assert sol.flow_share[g.port_index("2304")[0]] == 0.0  # Laredo's twin is Nuevo Laredo
    assert sol.flow_share.sum() == pytest.approx(1.0, abs=1e-12)


def no_shocks(g):
    return Shocks.none(g)


def test_state_crackdown_multiplies_every_edge_touching_the_state():
    sc = scenario('  type = "crackdown"\n  states = ["28"]\n  cost_factor = 4\n')
    iv = sc.policy("p").interventions[0]
    g = load_route_graph()
    s = apply_shock(g, no_shocks(g), iv.shock_key({}))
    inside = (g.state_codes[g.edge_u] == "28") | (g.state_codes[g.edge_v] == "28")
    np.testing.assert_array_equal(s.edge_factor, np.where(inside, 4.0, 1.0))


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('  type = "crackdown"\n  municipalities = ["99999", "28027"]\n', "unknown municipality codes: 99999"),
        ('  type = "crackdown"\n  states = ["33"]\n', "unknown state codes: 33"),
        ('  type = "crackdown"\n  municipalities = ["8037"]\n', "code '8037' is not valid"),
        ('  type = "crackdown"\n  municipalities = [8037]\n', "codes are strings"),
        ('  type = "crackdown"\n  states = ["28"]\n  municipalities = ["28027"]\n', "exactly one of 'states'"),
        ('  type = "crackdown"\n  cost_factor = 2\n', "exactly one of 'states'"),
        ('  type = "crackdown"\n  states = ["28"]\n  cost_factor = 0.5\n', "must be within [1, inf]"),
        ('  type = "crackdown"\n  states = ["28"]\n  cost_factor = nan\n', "must be a number"),
        ('  type = "interdiction"\n  ports = ["2304", "9999"]\n', "unknown port codes: 9999"),
        ('  type = "interdiction"\n  ports = "some"\n', "key 'ports': must be a non-empty list of codes"),
        ('  type = "interdiction"\n', "key 'ports': required"),
        ('  type = "interdiction"\n  ports = "all"\n  seizure_probability = 1.5\n', "must be within [0, 1]"),
        ('  type = "interdiction"\n  ports = "all"\n  added_cost = -1\n', "must be within [0, inf]"),
    ],
)
def test_bad_keys_name_file_key_and_allowed_values(body, needle):
    with pytest.raises(ScenarioError) as e:
        scenario(body)
    msg = str(e.value)
    assert needle in msg, msg
    assert msg.startswith("<scenario>: policy 'p' intervention #1")


def test_direct_construction_is_validated_too():
    with pytest.raises(ValueError, match="unknown municipality codes: 00000"):
        Crackdown(start=START, municipalities=("00000",)).validate()
    with pytest.raises(ValueError, match="cost_factor must be within"):
        Crackdown(start=START, states=("28",), cost_factor=0.0).validate()
    with pytest.raises(ValueError, match="unknown port codes: 1234"):
        Interdiction(start=START, ports=("1234",)).validate()
    Interdiction(start=START, ports="all", seizure_probability=0.2, added_cost=math.inf).validate()


def test_defaults_come_from_the_experiment_parameters():
    c = Crackdown(start=START, states=("28",))
    assert c.shock_key({"crackdown_cost_factor": 7.0}) == ("crackdown", ("28",), (), 7.0)
    assert c.shock_key({}) == ("crackdown", ("28",), (), 4.0)  # the parameter's default
    i = Interdiction(start=START, ports=("2304",))
    assert i.shock_key({"interdiction_added_cost_km": 50.0, "interdiction_seizure_probability": 0.3}) == (
        "interdiction",
        ("2304",),
        50.0,
        0.3,
    )
    # the same shock whatever the dates: solves are shared
    assert Crackdown(start=dt.date(2020, 1, 1), states=("28",), cost_factor=2.0).shock_key({}) == Crackdown(
        start=START, end=dt.date(2014, 1, 1), states=("28",), cost_factor=2.0
    ).shock_key({})


def test_interdiction_seizes_and_adds_cost():
    g = load_route_graph()
    iv = Interdiction(start=START, ports=("2304", "2402"), seizure_probability=0.25, added_cost=80.0)
    s = apply_shock(g, no_shocks(g), iv.shock_key({}))
    hit = np.isin(g.port_codes, ["2304", "2402"])
    np.testing.assert_array_equal(s.seizure_probability, np.where(hit, 0.25, 0.0))
    np.testing.assert_array_equal(s.crossing_added_km, np.where(hit, 80.0, 0.0))


def test_distribution_keys_are_drawn_once_per_replicate():
    sc = scenario(
        '  type = "crackdown"\n  states = ["28"]\n  cost_factor = { dist = "uniform", low = 2.0, high = 6.0 }\n'
    )
    seeds = replicate_seeds(sc.seed, 3)
    vals = []
    for r in range(3):
        _, ivs, drawn = draw_values(sc, ExperimentSpec(3 + r, 1, "p", r, seeds[r]))
        assert isinstance(ivs[0], Crackdown) and 2.0 <= (ivs[0].cost_factor or 0.0) <= 6.0
        assert drawn["crackdown.cost_factor"] == ivs[0].cost_factor
        vals.append(ivs[0].cost_factor)
    assert len(set(vals)) == 3
