"""``[[statcom]]``: a STATCOM/SVG, reactive power only, in the power flow of every step.

A STATCOM is an sgen with p = 0 whose Q is fixed (``q_mvar``) or follows a Q(U) droop
per unit of ``s_mvar`` within ``|Q| <= s_mvar``, solved by the inverters' Q(U) machinery.
References: pandapower's own ``DERController`` (``QModelQVCurve``) with ``run_control``
(``method = "reference"``) for Q(U), and ``runpp`` with a plain sgen of that Q for a
fixed STATCOM.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import parkgrid
from parkgrid.errors import ScenarioError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cigre_mv_park.toml"
# steps of day 172 (0-based year positions) with low, middle and high voltages at Bus 11
STEPS = "[16320, 16340, 16360, 16370, 16380, 16400]"
# steep enough that the day's voltages at Bus 11 drive Q both ways and into its limit
STATCOM = """
[[statcom]]
name = "SVG-1"
bus = "Bus 11"
s_mvar = {s}
q_control = "{mode}"
q_mvar = {q}
q_u_curve = [[0.97, 0.5], [0.99, 0.0], [1.01, 0.0], [1.03, -0.5]]
"""


def _write(tmp_path: Path, name: str, *, method: str = "auto", s: float = 2.0,
           mode: str = "q_u", q: float = 0.0, extra: str = "") -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'steps = "day:172"', f'steps = {STEPS}\nmethod = "{method}"')
    path = tmp_path / name
    path.write_text(text + STATCOM.format(s=s, mode=mode, q=q) + extra, encoding="utf-8")
    return path


def test_q_u_statcom_matches_pandapower_run_control(tmp_path: Path) -> None:
    """Voltages within 1e-6 pu and Q within 1e-4 Mvar of run_control, on six steps.

    Both sides get the same park, dispatch and STATCOM (sgen with p = 0, the curve per
    unit of s_mvar, saturated at s_mvar); only the power flow differs.
    """
    ours = parkgrid.simulate(_write(tmp_path, "a.toml"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandapower's own
        ref = parkgrid.simulate(_write(tmp_path, "r.toml", method="reference"))
    a, r = ours.network, ref.network
    assert a is not None and r is not None
    assert a.converged.all() and r.converged.all()
    assert a.control_settled.all() and r.control_settled.all()
    q = a.q_control_mvar.to_numpy()
    assert q.shape[1] == 1  # the STATCOM is the only Q(U) element
    # the case exercises the droop both ways and the limit
    assert q.min() < -0.05 and q.max() > 0.05
    assert np.abs(q).max() <= 2.0 + 1e-9
    assert np.nanmax(np.abs(a.vm_pu.to_numpy() - r.vm_pu.to_numpy())) < 1e-6
    assert np.max(np.abs(q - r.q_control_mvar.to_numpy())) < 1e-4
    # its reactive energy: in the Q(U) KPIs and its own (steps of 15 min)
    assert ours.kpis["q_u_injected_mvarh"] == pytest.approx(
        np.clip(q, 0, None).sum() * 0.25)
    assert ours.kpis["statcom_q_mvarh"] == pytest.approx(np.abs(q).sum() * 0.25)


def test_fixed_statcom_is_a_plain_sgen_in_runpp(tmp_path: Path) -> None:
    """A fixed STATCOM gives the power flow of the park with an sgen (p 0, q q_mvar)."""
    import pandapower as pp

    from parkgrid.network import build_park_net, pf_profiles

    path = _write(tmp_path, "f.toml", mode="fixed", q=-1.5)
    result = parkgrid.simulate(path)
    pf = result.network
    assert pf is not None and pf.converged.all() and pf.tap_pos is None
    # 1.5 Mvar absorbed in each of the six steps of 15 min
    assert result.kpis["statcom_q_mvarh"] == pytest.approx(1.5 * 6 * 0.25)
    sc = parkgrid.load_scenario(path)
    assert len(sc.statcom) == 1 and sc.statcom[0].q_mvar == -1.5
    park = build_park_net(sc)
    table, idx = park.elements[("statcom", "SVG-1")]
    assert table == "sgen" and park.net.sgen.at[idx, "type"] == "STATCOM"
    # the reference: the park net with a plain sgen instead, runpp per step
    prof = pf_profiles(sc, park, result.timeseries.loc[pf.vm_pu.index])
    net = park.net
    net.sgen = net.sgen.drop(index=idx)
    own = pp.create_sgen(net, net.bus.index[net.bus.name == "Bus 11"][0], p_mw=0.0,
                         q_mvar=-1.5)
    for k, when in enumerate(pf.vm_pu.index):
        for (tab, col), frame in prof.items():
            cols = [c for c in frame.columns if c in net[tab].index]
            net[tab].loc[cols, col] = frame.loc[when, cols].to_numpy()
        assert net.sgen.at[own, "q_mvar"] == -1.5
        pp.runpp(net, tolerance_mva=1e-10)
        got = pf.vm_pu.iloc[k].to_numpy()
        np.testing.assert_allclose(got, net.res_bus.vm_pu.loc[pf.vm_pu.columns].to_numpy(),
                                   atol=1e-6, rtol=0)


@pytest.mark.parametrize(("extra", "field", "words"), [
    ('\n[[statcom]]\nname = "S2"\nbus = "Bus 99"\ns_mvar = 1.0\n', "statcom[1].bus",
     "unknown bus 'Bus 99'"),
    ('\n[[statcom]]\nname = "S2"\nbus = "Bus 5"\ns_mvar = 0.0\n', "statcom[1].s_mvar",
     "allowed range (0, inf]"),
    ('\n[[statcom]]\nname = "S2"\nbus = "Bus 5"\ns_mvar = 1.0\nq_control = "fixed"\n'
     'q_mvar = 1.5\n', "statcom[1].q_mvar", "within +-s_mvar"),
    ('\n[[statcom]]\nname = "S2"\nbus = "Bus 5"\ns_mvar = 1.0\n'
     'q_u_curve = [[1.0, 0.0], [0.9, 0.3]]\n', "statcom[1].q_u_curve", "ascending vm_pu"),
    ('\n[[statcom]]\nname = "S2"\nbus = "Bus 5"\ns_mvar = 1.0\n'
     'q_u_curve = [[0.9, 2.0], [1.1, -2.0]]\n', "statcom[1].q_u_curve", "q_pu in [-1, 1]"),
    ('\n[[statcom]]\nname = "S2"\nbus = "Bus 5"\ns_mvar = 1.0\nq_control = "cos_phi_p"\n',
     "statcom[1].q_control", "fixed"),
    ('\n[[statcom]]\nname = "SVG-1"\nbus = "Bus 5"\ns_mvar = 1.0\n', "statcom[1].name",
     "duplicate"),
    ('\n[[event]]\nkind = "maintenance"\ntarget = "SVG-1"\nstart = "2025-03-01 08:00"\n'
     'duration_h = 4.0\n', "event[0].target", "is a STATCOM"),
])
def test_bad_statcom_is_refused(tmp_path: Path, extra: str, field: str, words: str) -> None:
    """Each bad key is an error naming the file, the table row and the field."""
    path = _write(tmp_path, "bad.toml", extra=extra)
    with pytest.raises(ScenarioError) as info:
        parkgrid.load_scenario(path)
    text = str(info.value)
    assert "bad.toml" in text and field in text and words in text, text


def test_out_of_service_statcom_is_left_out(tmp_path: Path) -> None:
    """``in_service = false``: no element, no controller, no KPI."""
    from parkgrid.network import build_park_net
    from parkgrid.stages import pf_controls

    path = _write(tmp_path, "o.toml", extra="")
    path.write_text(path.read_text(encoding="utf-8") + "in_service = false\n", encoding="utf-8")
    sc = parkgrid.load_scenario(path)
    assert sc.statcom[0].in_service is False
    park = build_park_net(sc)
    assert ("statcom", "SVG-1") not in park.elements
    assert not (park.net.sgen["type"] == "STATCOM").any()
    assert pf_controls(sc, park) is None
