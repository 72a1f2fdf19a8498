"""``cartelsim validate``: progress as it goes, one number format per row, a summary by group, bases."""

from typer.testing import CliRunner

from cartelsim.cli import app
from cartelsim.cli import tables as cli
from cartelsim.validation import BASES, Check, basis_of

runner = CliRunner()


def test_one_format_per_row():
    assert cli._pair(173_800, 1.738e5) == ("173,800", "173,800")  # was '173,800' beside '1.738e+05'
    assert cli._pair(173_837, 173_800.4) == ("173,837.0", "173,800.4")
    assert cli._pair(1.549231e-8, 1.55e-8) == ("1.549e-08", "1.55e-08")
    assert cli._pair(36.5, 41.25) == ("36.5", "41.25")
    assert cli._pair("> 0", 12.5) == ("> 0", "12.5")


def _checks():
    return [
        Check("calibration", "a", 1.0, 1.0, "", "1% rel", True, "x"),
        Check("calibration", "b", 1.0, 2.0, "", "1% rel", False, "x"),
        Check("calibration", "c", "-", 3.0, "", "-", None, "model output"),
        Check("organisation: layers agree", "d", "within 1%", "0.1%", "", "1%", True, "internal"),
    ]


def test_progress_rows_as_they_complete_and_a_summary_by_group(monkeypatch):
    steps = [("first step", lambda: _checks()[:3]), ("second step", lambda: _checks()[3:])]
    monkeypatch.setattr(cli, "_validation_steps", lambda: steps)
    r = runner.invoke(app, ["validate"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    text = r.output
    assert text.index("[1/2] first step") < text.index("calibration") < text.index("[2/2] second step")
    assert text.index("[2/2] second step") < text.index("organisation: layers agree")
    summary = text[text.index("summary") :]
    assert "calibration: 1 of 2 within tolerance, 1 outside; 1 reported" in summary
    assert "organisation: layers agree: 1 of 1 within tolerance" in summary
    assert summary.count("calibration") == 1  # a count per group, never the name once per row
    assert "reference (model) within 1%" in text  # an internal agreement is not shown as literature
    assert "(by construction)" in text and "(reproduction)" in text and "(reported)" in text


def test_every_basis_is_one_of_designs():
    for c in _checks():
        assert c.basis in BASES
    assert basis_of("geography: states 2017-2021 (held out)", "Spearman", True) == "held_out"
    assert basis_of("geography: states 2012-2016 (fitting years)", "Spearman", True) == "calibrated"
    assert basis_of("organisation: backcast 2007-2020", "national homicides 2009 (model: ...)", False) == "calibrated"
    assert basis_of("organisation: backcast 2007-2020", "national homicides 2007 (model: ...)", True) == "held_out"
    assert basis_of("something new", "x", True) == "unclassified"
