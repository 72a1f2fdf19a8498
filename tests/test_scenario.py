import datetime as dt

import pytest

from cartelsim import Scenario, ScenarioError
from cartelsim.distributions import Distribution

from .conftest import UNCERTAIN, small_text


def test_parses_design_example(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(small_text(4, UNCERTAIN))
    sc = Scenario.from_toml(p)
    assert sc.name == "small" and sc.replicates == 4 and sc.seed == 7
    assert [x.name for x in sc.all_policies] == ["baseline", "halve-recruitment", "double-incapacitation"]
    assert sc.n_weeks == 208 and sc.reference_week == 104
    assert isinstance(sc.uncertainty["victim_share_cartel"], Distribution)
    assert sc.policies[0].interventions[0].start == dt.date(2014, 1, 1)
    assert sc.text == p.read_text() and sc.source == str(p)


def test_spinup_and_record_none():
    sc = Scenario.from_text(
        '[scenario]\nname = "x"\nstart = 2026-01-01\nend = 2027-01-01\nrecord = { groups = "none" }\n'
    )
    assert sc.spinup_weeks == 52 * 14 and sc.record.groups is None and sc.record.national == 1


def header(**kw):
    base = {"name": '"x"', "start": "2012-01-01", "end": "2014-01-01"}
    base.update(kw)
    return "[scenario]\n" + "".join(f"{k} = {v}\n" for k, v in base.items() if v is not None)


POLICY = '[[policy]]\nname = "{name}"\n  [[policy.intervention]]\n  type = "{type}"\n  start = {start}\n{keys}'


def pol(name="p", type="recruitment", start="2013-01-01", keys="  factor = 0.5\n"):
    return POLICY.format(name=name, type=type, start=start, keys=keys)


BAD = [
    (header() + "[scenery]\n", "top level key 'scenery'", "allowed: scenario"),
    (header(colour='"red"'), "[scenario] key 'colour'", "unknown key"),
    (header(name=None), "[scenario] key 'name'", "required"),
    (header(start="2012-03-01"), "[scenario] key 'start'", "1 January"),
    (header(start='"2012-01-01"'), "[scenario] key 'start'", "YYYY-MM-DD"),
    (header(start="2010-01-01"), "[scenario] key 'start'", "2012-01-01"),
    (header(end="2012-01-01"), "[scenario] key 'end'", "after start"),
    (header(replicates="0"), "[scenario] key 'replicates'", "integer within [1, 1000000]"),
    (header(replicates="2.5"), "[scenario] key 'replicates'", "integer"),
    (header(stochastic='"yes"'), "[scenario] key 'stochastic'", "true or false"),
    (header(solver='"rk4"'), "[scenario] key 'solver'", "euler, adaptive"),
    (header(solver='"adaptive"', layers='["ecosystem", "organisation"]'), "[scenario] key 'solver'", "weekly step"),
    (header(layers='["ecosystem", "weather"]'), "[scenario] key 'layers'", "allowed: ecosystem"),
    (header(record="{ national = 0 }"), "record key 'national'", '"none"'),
    (header(reference="2015-01-01"), "[scenario] key 'reference'", "within"),
    (
        header() + "[parameters]\nrecruitment_per_member = 0.1\n",
        "[parameters] key 'recruitment_per_member'",
        "did you mean recruitment_per_member_per_week",
    ),
    (
        header() + "[parameters]\nincapacitation_per_week = -5\n",
        "[parameters] key 'incapacitation_per_week'",
        "[0, 5000]",
    ),
    (
        header() + '[parameters]\nincapacitation_per_week = "110"\n',
        "incapacitation_per_week",
        "must be a number",
    ),
    (
        header() + '[uncertainty]\nvictim_share_cartel = { dist = "uniform", low = 0.5, high = 1.5 }\n',
        "[uncertainty] key 'victim_share_cartel'",
        "bounds",
    ),
    (header() + "[uncertainty]\nvictim_share_cartel = 0.1\n", "victim_share_cartel", "distribution table"),
    (header() + pol(name="Bad Name"), "[[policy]] #1 key 'name'", "[a-z0-9][a-z0-9-]*"),
    (header() + pol(name="baseline"), "[[policy]] #1 key 'name'", "reserved"),
    (header() + pol() + pol(), "[[policy]] #2 key 'name'", "duplicate"),
    (header() + pol(type="drone"), "intervention #1 key 'type'", "incapacitation, interdiction, recruitment"),
    (header() + pol(start="2015-01-01"), "key 'start'", "must be within the scenario"),
    (header() + pol(keys="  factor = -1\n"), "(recruitment) key 'factor'", "[0, 100]"),
    (
        header() + pol(keys="  factor = 0.5\n  speed = 2\n"),
        "(recruitment) key 'speed'",
        "allowed: type, start, end",
    ),
    (header() + pol(keys=""), "(recruitment) key 'factor'", "required"),
    (header() + pol(keys="  factor = 0.5\n  end = 2012-06-01\n"), "key 'end'", "after its start"),
    (
        header() + pol(type="incapacitation", keys="  factor = 2\n  per_week = 3\n"),
        "(incapacitation)",
        "exactly one of 'factor' or 'per_week'",
    ),
    (header() + pol(keys='  factor = { dist = "uniform", low = 0.5 }\n'), "key 'factor'", "missing: high"),
    (header() + "[scenario\n", "TOML syntax", ""),
]


@pytest.mark.parametrize(("text", "where", "msg"), BAD)
def test_bad_files_name_the_key(text, where, msg):
    with pytest.raises(ScenarioError) as e:
        Scenario.from_text(text, source="bad.toml")
    s = str(e.value)
    assert s.startswith("bad.toml: "), s
    assert where in s, s
    assert msg in s, s


def test_missing_file():
    with pytest.raises(ScenarioError, match="not found"):
        Scenario.from_toml("no/such/file.toml")


def test_distribution_key_accepted():
    sc = Scenario.from_text(header() + pol(keys='  factor = { dist = "uniform", low = 0.4, high = 0.6 }\n'))
    assert isinstance(sc.policies[0].interventions[0].factor, Distribution)


def test_intervention_needs_its_layer():
    text = header() + pol(type="crackdown", keys='  municipalities = ["28027"]\n  cost_factor = 2.0\n')
    with pytest.raises(ScenarioError, match=r"acts on the geography layer.*add \"geography\""):
        Scenario.from_text(text)


def test_code_list_error_names_the_word_all():
    text = header(layers='["ecosystem", "geography"]') + pol(type="interdiction", keys='  ports = "some"\n')
    with pytest.raises(ScenarioError, match="'all'"):
        Scenario.from_text(text)


def test_intervention_before_the_scenario_start_is_refused():
    text = header(start="2014-01-01", end="2016-01-01") + pol(start="2013-01-01")
    with pytest.raises(
        ScenarioError, match=r"intervention #1 \(recruitment\) key .start.: must be within the scenario, \[2014-01-01"
    ):
        Scenario.from_text(text)
    Scenario.from_text(header(start="2014-01-01", end="2016-01-01") + pol(start="2014-01-01"))


@pytest.mark.parametrize(
    "text, where",
    [
        (header(seed="9" * 400), "key scenario.seed: an integer of 400 digits"),
        (header() + "[parameters]\nrecruitment_per_member_per_week = " + "9" * 400 + "\n", "of 400 digits"),
        (header(replicates="-" + "1" * 400), "key scenario.replicates: an integer of 400 digits"),
        (header(solver='"' + "y" * 200_000 + '"'), "key 'solver'"),
        (header(**{"x" * 100_000: "1"}), "unknown key"),
    ],
    ids=["huge-seed", "huge-parameter", "huge-negative", "long-string", "long-key"],
)
def test_huge_values_get_a_short_message(text, where):
    with pytest.raises(ScenarioError) as e:
        Scenario.from_text(text)
    msg = str(e.value)
    assert where in msg and len(msg) < 500, msg[:600]
    assert "characters)" in msg or "digits" in msg


def test_a_byte_order_mark_is_accepted(tmp_path):
    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf" + header().encode())
    assert Scenario.from_toml(p).name == "x"
    assert Scenario.from_text("\ufeff" + header()).name == "x"


@pytest.mark.parametrize("share", ["5e-324", "1e-300", "0.0099"])
def test_a_victim_share_that_makes_counts_infinite_is_outside_its_bounds(share):
    with pytest.raises(ScenarioError, match=r"victim_share_cartel.*within \[0.01, 1\]"):
        Scenario.from_text(header() + f"[parameters]\nvictim_share_cartel = {share}\n")


def test_the_latest_end_and_the_organisation_scale_bounds():
    from cartelsim.scenario import MAX_END

    assert Scenario.from_text(header(end=MAX_END.isoformat())).end == MAX_END
    with pytest.raises(ScenarioError, match="must be on or before 2112-01-01"):
        Scenario.from_text(header(end="2113-01-01"))
    with pytest.raises(ScenarioError, match=r"organisation_scale.*within \[0.01, 1\]"):
        Scenario.from_text(header() + "[parameters]\norganisation_scale = 1e-300\n")


def test_zero_recruitment_stays_finite_to_the_latest_end():
    """pc2023's zero-recruitment failed with 'non-finite members' for any end from 2044 (eta / C overflowed)."""
    import numpy as np

    import cartelsim
    from cartelsim.scenario import MAX_END

    sc = Scenario.from_text(
        header(end=MAX_END.isoformat(), record="{ national = 52, groups = 'none' }")
        + pol(name="zero", start="2022-01-01", keys="  factor = 0.0\n")
    )
    res = cartelsim.run_experiments(sc, progress=False)
    assert (res.experiments["status"] == "ok").all(), res.experiments["message"].tolist()
    v = res.outcomes["value"].to_numpy()
    assert np.isfinite(v).all()
    n = res.select("n_members")
    last = n[n["week"] == n["week"].max()].set_index("policy")["value"]
    assert last["zero"] < 1e-200 < last["baseline"]


@pytest.mark.parametrize(
    "text, where",
    [
        (header() + "[uncertainty]\nvictim_share_cartel = { dist = { a = 1 }, low = 0.08, high = 0.12 }\n", "dist"),
        (header() + '[[policy]]\nname = "p"\n  [[policy.intervention]]\n  type = { a = 1 }\n', "key 'type'"),
        (
            header() + '[uncertainty]\nvictim_share_cartel = { dist = "uniform", low = ' + "9" * 30 + ", high = 1 }\n",
            "outside TOML's 64-bit range",
        ),
    ],
    ids=["table-as-dist", "table-as-type", "huge-int-in-a-table"],
)
def test_tables_and_huge_integers_where_a_name_or_number_belongs(text, where):
    """Found by the fuzz test: these crashed with TypeError / OverflowError tracebacks."""
    with pytest.raises(ScenarioError, match=where):
        Scenario.from_text(text)


@pytest.mark.parametrize("open_, close", [("[", "]"), ("{a=", "}")], ids=["arrays", "tables"])
def test_deep_nesting_gets_the_usual_message(open_, close):
    """A value nested 5,000 deep raised RecursionError in the TOML parser (found by a helper's fuzz run)."""
    body = open_ * 5000 + ("1" if close == "}" else "") + close * 5000
    with pytest.raises(ScenarioError, match="nested too deeply"):
        Scenario.from_text(header() + f"x = {body}\n")
