"""Organisation and geography together: cartels' trafficking capacity sets the volume reaching the border."""

import numpy as np

import cartelsim

from .organisation.conftest import CAMPAIGN, org_text


def test_flow_to_border_tracks_trafficking_capacity():
    text = org_text(
        CAMPAIGN.format(start="2012-07-01", target="logistics", sorties=400, strikes=40),
        end="2014-01-01",
        record="{ national = 4, groups = 52 }",
    ).replace('layers = ["ecosystem", "organisation"]', 'layers = ["ecosystem", "organisation", "geography"]')
    res = cartelsim.run_experiments(cartelsim.Scenario.from_text(text), progress=False)
    assert (res.experiments["status"] == "ok").all(), res.experiments["message"].tolist()
    o = res.outcomes.astype({"variable": str, "policy": str, "level": str})
    nat = o[o["level"] == "national"]

    def series(policy, var):
        s = nat[(nat["policy"] == policy) & (nat["variable"] == var)].sort_values("week")
        return s["value"].to_numpy()

    # no geography intervention: routes do not change, so the flow index is the capacity index
    for pol in ("baseline", "strikes"):
        assert series(pol, "flow_to_border_index").size == 2 * 52 // 4
        np.testing.assert_allclose(
            series(pol, "flow_to_border_index"), series(pol, "trafficking_capacity_index"), rtol=1e-9
        )
    assert series("strikes", "new_assets_destroyed").sum() > 0
    assert series("strikes", "flow_to_border_index")[-1] < series("baseline", "flow_to_border_index")[-1]
