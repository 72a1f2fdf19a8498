"""Fission into factions: members conserved, new cartels in the ecosystem, faction rows in the bundle."""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cartelsim
from cartelsim import experiments as exp_mod
from cartelsim.experiments import run_experiments, run_to_bundle
from cartelsim.network import load_network
from cartelsim.organisation.factions import FactionRegistry, faction_groups, faction_label, faction_parent
from cartelsim.organisation.roles import LEADER
from cartelsim.params import defaults
from cartelsim.policies.organisation import TargetedArrests

from .conftest import check_members, drive, org_text

SPLITS = """
[[policy]]
name = "arrests"
  [[policy.intervention]]
  type = "targeted_arrests"
  start = 2012-01-01
  target = "leaders"
  share = 0.03
"""
ALWAYS = "fission_probability_1000_members = 0.9\nfission_probability_20000_members = 0.95"


def test_ids_labels_and_parents_are_neutral():
    net = load_network()
    labels = dict(zip(net.ids, net.labels, strict=True))
    assert faction_label("N10025.1", labels) == "Faction of CJNG 1"
    assert faction_label("N10025.1.2", labels) == "Faction of CJNG 1.2"
    assert faction_parent("N10025.1.2") == "N10025.1"
    g = faction_groups([(3, "N10013.2"), (3, "N10013.2.1")], net)
    assert g["experiment_id"].tolist() == [3, 3] and g["parent"].tolist() == ["N10013", "N10013.2"]
    assert (g["kind"] == "criminal group").all() and g["label"].str.startswith("Faction of Sinaloa ").all()


def test_registry_shares_the_parents_ties():
    net = load_network()
    reg = FactionRegistry(net, 1)
    reg.grow(4)
    f1, f2 = reg.split(0, 0, rivalry_share=1.0, alliance_share=0.5, sibling_weight=3.0, week=0)
    assert reg.rivals(0, f1)[f2] == 3.0  # the two factions are rivals
    base = net.rivalry.toarray()[0]
    for j in np.flatnonzero(base):
        assert reg.rivals(0, f1)[int(j)] == base[j] == reg.rivals(0, int(j))[f2]
    assert reg.alliance[0, f1] == pytest.approx(0.5 * net.alliance_strength[0])
    assert 0 not in reg.rivals(0, int(np.flatnonzero(base)[0]))  # the split parent's ties act on nothing
    g1, g2 = reg.split(0, f1, 1.0, 0.5, 3.0, week=5)
    assert reg.factions[0][g2].group == "N10025.1.2" and reg.factions[0][g2].parent == "N10025.1"
    assert reg.rivals(0, g1)[f2] == 3.0  # the grandchildren inherit the rivalry with their uncle
    x = np.arange(2.0 * reg.width).reshape(1, -1)[:, : reg.width]
    folded = reg.fold(x)
    assert folded.shape == (1, 150) and folded.sum() == pytest.approx(x.sum())


def test_fold_takes_a_quantity_narrower_than_the_registry():
    # the week's flows are as wide as the state they came from; the write-back may have grown the registry
    # since, with new factions in the new columns (the crash of a run with many fissions: index out of bounds)
    net = load_network()
    reg = FactionRegistry(net, 2)
    reg.grow(2)
    f1, _ = reg.split(1, 3, 1.0, 0.5, 3.0, week=0)
    x = np.arange(2.0 * reg.width).reshape(2, -1)
    x[0, 150:] = 0.0  # experiment 0 has no faction
    reg.grow(2)
    reg.split(1, f1, 1.0, 0.5, 3.0, week=1)  # factions in columns 152 and 153, beyond x's width
    folded = reg.fold(x)
    assert folded.shape == (2, 150)
    np.testing.assert_array_equal(folded.sum(1), x.sum(1))
    assert folded[1, 3] == x[1, 3] + x[1, 150] + x[1, 151]


def test_factions_conserve_members_and_follow_the_ecosystem():
    ivs = [[TargetedArrests(start=dt.date(2012, 1, 1), target="leaders", share=0.05)]]
    p = defaults({"organisation_scale": 0.3, "fission_probability_1000_members": 0.9,
                  "fission_probability_20000_members": 0.95})  # fmt: skip
    seen = {"before": None, "worst": 0.0, "cols": 0}
    real_split = None

    def each(t, state, layer):
        seen["worst"] = max(seen["worst"], float(np.abs(layer.members.counts() - 0.3 * state).max()))
        seen["cols"] = state.shape[1]

    # conservation at each fission: the parent's C_i is shared exactly between its two factions
    from cartelsim.organisation.layer import OrganisationLayer

    real_split = OrganisationLayer._split
    checks = []

    def split(self, e, c, cell, state):
        before = state[e].sum()
        c_p = state[e, c]
        ok = real_split(self, e, c, cell, state)
        if ok:
            f1, f2 = 150 + int(self.registry.used[e]) - 2, 150 + int(self.registry.used[e]) - 1
            checks.append((c_p, state[e, f1] + state[e, f2], state[e, c], before, state[e].sum()))
        return ok

    OrganisationLayer._split = split
    try:
        state, layer = drive(80, params=[p], interventions=ivs, each_week=each)
    finally:
        OrganisationLayer._split = real_split
    assert layer.n_fissions[0] >= 3 and len(checks) == layer.n_fissions[0]
    for c_p, c_f, c_after, tot0, tot1 in checks:
        assert c_f == pytest.approx(c_p, rel=1e-12) and c_after == 0.0 and tot1 == pytest.approx(tot0, rel=1e-12)
    assert seen["worst"] <= 0.5 + 1e-6  # agents stay within rounding of s C_i, factions included
    check_members(layer.members)
    m, cells = layer.members, layer.cells
    first = cells.first[0]
    assert (np.diff(first) >= 0).all()
    for c in range(state.shape[1]):
        assert (cells.cartel[0, first[c] : first[c + 1]] == c).all()
    act = np.flatnonzero(m.active[0])
    assert (cells.cartel[0, m.cell[0, act]] == m.cartel[0, act]).all()
    assert (layer.assets.kind_counts()[0].sum(0) >= 0).all()
    for f in layer.faction_records()[0]:
        if state[0, f[0]] >= 1:
            assert m.role_counts()[0, f[0]].sum() > 0
    lead = m.role_counts()[0, :, LEADER]
    assert lead[state[0] < 0.5].sum() == 0  # split parents keep no member


def _scenario(replicates=2, extra=ALWAYS):
    text = org_text(SPLITS, scale=0.2, replicates=replicates, end="2013-01-01", extra=extra,
                    record="{ national = 13, groups = 13 }")  # fmt: skip
    return cartelsim.Scenario.from_text(text)


def test_factions_are_counted_and_recorded_per_experiment():
    res = run_experiments(_scenario(), progress=False)
    o = res.outcomes
    g = res.groups
    fac = g[g["experiment_id"].notna()]
    assert len(fac) > 0
    nat = o[o["level"] == "national"]
    fis = nat[nat["variable"] == "new_fissions"].groupby("experiment_id", observed=True)["value"].sum()
    n_fac = fac.groupby("experiment_id").size()
    for e, k in fis.items():
        assert 2 * k == n_fac.get(e, 0)  # two factions per fission
    cart = o[o["level"] == "cartel"]
    weeks = sorted(set(cart["week"]))
    for e, grp in zip(fac["experiment_id"], fac["group"], strict=True):
        rows = cart[(cart["experiment_id"] == e) & (cart["group"] == grp)]
        assert sorted(set(rows["week"])) == weeks  # every recorded week, zeros before the fission
        other = cart[(cart["experiment_id"] != e) & (cart["group"] == grp)]
        assert other.empty or set(other["experiment_id"]) <= set(fac.loc[fac["group"] == grp, "experiment_id"])
    # n_cartels counts factions with members: at the end, groups with C >= 1 among network groups and factions
    end = max(weeks)
    members = cart[(cart["variable"] == "n_members") & (cart["week"] == end)]
    nc = nat[(nat["variable"] == "n_cartels") & (nat["week"] == end)].set_index("experiment_id")["value"]
    kinds = dict(zip(g["group"], g["kind"], strict=False))
    for e, sub in members.groupby("experiment_id", observed=True):
        live = sub[(sub["value"] >= 1.0) & sub["group"].astype(str).map(kinds).eq("criminal group")]
        assert nc[e] == len(live)


def _bundle_rules(path):
    """The bundle rules of DESIGN.md that factions touch (what tools/check_bundle.py checks)."""
    out = pq.read_table(path / "outcomes.parquet")
    keys = ["experiment_id", "level", "group", "variable", "week"]
    sub = out.select(keys)
    dec = pa.table({k: sub[k].cast(pa.string()) if pa.types.is_dictionary(sub[k].type) else sub[k] for k in keys})
    assert dec.sort_by([(k, "ascending") for k in keys]).equals(dec)  # sorted, strings in code-point order
    dup = pa.TableGroupBy(dec, keys).aggregate([([], "count_all")])
    assert dup.num_rows == dec.num_rows
    g = pd.read_parquet(path / "groups.parquet")
    o = dec.to_pandas()
    cart = o[o["level"] == "cartel"][["experiment_id", "group"]].drop_duplicates()
    have = set(zip(g["experiment_id"].fillna(-1).astype(int), g["group"], strict=True))
    for e, grp in cart.itertuples(index=False):
        assert re.match(r"^N\d{5}(\.\d+)*$", grp)
        assert (e, grp) in have or (-1, grp) in have  # a groups row for every faction id, in its experiment
    fac = g[g["experiment_id"].notna()]
    net = load_network()
    labels = dict(zip(net.ids, net.labels, strict=True))
    for grp, label, parent in zip(fac["group"], fac["label"], fac["parent"], strict=True):
        assert label == faction_label(grp, labels) and parent == faction_parent(grp)
    return fac


def test_bundles_with_factions_follow_the_bundle_rules(tmp_path):
    sc = _scenario()
    res = run_experiments(sc, progress=False)
    res.save(tmp_path / "mem")
    fac = _bundle_rules(tmp_path / "mem")
    assert len(fac) > 0
    run_to_bundle(sc, tmp_path / "parts", batch_size=1, progress=False)
    a, b = cartelsim.load(tmp_path / "mem"), cartelsim.load(tmp_path / "parts")
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    pd.testing.assert_frame_equal(a.groups, b.groups)
    _bundle_rules(tmp_path / "parts")


class Interrupt(KeyboardInterrupt):
    pass


def test_a_resumed_run_keeps_the_factions_of_earlier_parts(tmp_path, monkeypatch):
    sc = _scenario(replicates=3)
    run_to_bundle(sc, tmp_path / "ref", batch_size=1, progress=False)
    real = exp_mod.run_job
    seen = {"jobs": 0}

    def job(scenario, j, progress=None):
        if seen["jobs"] >= 4:
            raise Interrupt
        seen["jobs"] += 1
        return real(scenario, j, progress)

    monkeypatch.setattr(exp_mod, "run_job", job)
    with pytest.raises(Interrupt):
        run_to_bundle(sc, tmp_path / "out", batch_size=1, progress=False)
    monkeypatch.setattr(exp_mod, "run_job", real)
    s = run_to_bundle(sc, tmp_path / "out", batch_size=1, progress=False)
    assert s.resumed == 4
    a, b = cartelsim.load(tmp_path / "ref"), cartelsim.load(tmp_path / "out")
    pd.testing.assert_frame_equal(a.groups, b.groups)
    assert (b.groups["experiment_id"].notna()).any()
