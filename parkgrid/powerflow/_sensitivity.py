"""Sensitivities of bus voltages and branch loadings to active injections.

At a solved operating point V, the polar power-flow Jacobian J (the one Newton-
Raphson factorises) linearises the grid: a small change of the complex injections
dS at the non-slack buses moves the voltages by ``[dθ; d|V|] = J⁻¹ [dP; dQ]``.
From dV the branch currents move by ``dI = Yf dV`` (from side) or ``Yt dV``, and a
branch's loading by ``d|I| · factor`` with ``d|I| = Re(conj(I) dI) / |I|``.

:class:`Linearisation` builds pandapower's admittance model once (the same
``_pd2ppc`` conversion the batch power flow uses) and answers, for any solved step
(its ``vm_pu`` and ``va_degree`` rows), the sensitivity of every bus voltage [pu/MW]
and every line/transformer loading [%/MW] to injecting 1 MW (with a given reactive
share) at given buses. Used by network-aware dispatch (``[powerflow] enforce``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from parkgrid.powerflow._model import build_model
from parkgrid.powerflow._profiles import check_profiles

__all__ = ["Linearisation"]


class Linearisation:
    """Linear model of *net* around solved operating points.

    Parameters
    ----------
    net:
        The pandapower net the power flow was solved on (not modified).
    profiles:
        The profile set of that power flow (only its keys matter here: profiled
        values are not part of the admittance model).
    """

    def __init__(self, net: Any, profiles: Mapping[tuple[str, str], pd.DataFrame]) -> None:
        first = {key: frame.iloc[:1] for key, frame in profiles.items()}
        self.model = build_model(net, check_profiles(net, first))
        m = self.model
        self.n_bus_pp = len(m.bus_lookup)
        # first pandapower bus of each internal bus (fused buses share one)
        self._pp_of_int = np.full(m.n_bus, -1, dtype=np.int64)
        for pp_bus in range(self.n_bus_pp - 1, -1, -1):
            b = m.bus_lookup[pp_bus]
            if b >= 0:
                self._pp_of_int[b] = pp_bus
        self._pvpq = np.concatenate([m.pv, m.pq]).astype(np.int64)
        self.n_load = m.n_line + m.n_trafo + m.n_trafo3w

    def internal_bus(self, pp_bus: np.ndarray) -> np.ndarray:
        """Return the internal bus of each pandapower bus position (``-1``: not solved)."""
        return self.model.bus_lookup[np.asarray(pp_bus, dtype=np.int64)]

    def sensitivities(
        self, vm_pu: np.ndarray, va_degree: np.ndarray, bus_pos: np.ndarray,
        q_per_p: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sensitivities at one solved step.

        Parameters
        ----------
        vm_pu, va_degree:
            The step's bus voltages [pu] and angles [degree], one value per
            pandapower bus in ``net.bus`` order (a row of a TimeseriesPF).
        bus_pos:
            Position (in ``net.bus`` order) of the bus of each injection.
        q_per_p:
            Reactive power that comes with each MW of each injection [Mvar/MW]
            (``tan(arccos(cos_phi))`` for a generator at a fixed power factor).

        Returns
        -------
        dvm, dloading:
            ``dvm[i, k]``: change of bus i's voltage [pu] per MW more injected by
            injection k (rows in ``net.bus`` order, NaN for buses not solved);
            ``dloading[c, k]``: change of the loading [%] of branch column c (lines,
            then transformers, then 3-winding transformers) per MW, taken on the
            side of the branch with the larger current (the side the loading is).
        """
        m = self.model
        pos = np.asarray(bus_pos, dtype=np.int64)
        k = len(pos)
        vm_int = np.empty(m.n_bus)
        va_int = np.empty(m.n_bus)
        vm_int[:] = np.asarray(vm_pu, dtype=float)[self._pp_of_int]
        va_int[:] = np.deg2rad(np.asarray(va_degree, dtype=float)[self._pp_of_int])
        v = vm_int * np.exp(1j * va_int)
        from pandapower.pypower.dSbus_dV import dSbus_dV  # on first use: start-up time

        ds_dvm, ds_dva = dSbus_dV(m.ybus, v)
        pvpq, pq = self._pvpq, m.pq
        j11 = ds_dva[pvpq][:, pvpq].real
        j12 = ds_dvm[pvpq][:, pq].real
        j21 = ds_dva[pq][:, pvpq].imag
        j22 = ds_dvm[pq][:, pq].imag
        jac = sp.bmat([[j11, j12], [j21, j22]], format="csc")
        # right-hand sides: 1 MW (and q_per_p Mvar) at the injection's bus, in pu
        where = np.full(m.n_bus, -1, dtype=np.int64)
        where[pvpq] = np.arange(len(pvpq))
        where_q = np.full(m.n_bus, -1, dtype=np.int64)
        where_q[pq] = len(pvpq) + np.arange(len(pq))
        rhs = np.zeros((len(pvpq) + len(pq), k))
        b_int = self.internal_bus(pos)
        for col, b in enumerate(b_int):
            if b < 0 or where[b] < 0:  # not solved, or at the slack: no effect
                continue
            rhs[where[b], col] = 1.0 / m.base_mva
            if where_q[b] >= 0:
                rhs[where_q[b], col] = float(q_per_p[col]) / m.base_mva
        dx = splu(jac).solve(rhs) if k else rhs
        dva = np.zeros((m.n_bus, k))
        dvm = np.zeros((m.n_bus, k))
        dva[pvpq] = dx[: len(pvpq)]
        dvm[pq] = dx[len(pvpq):]
        dv = v[:, None] * (dvm / vm_int[:, None] + 1j * dva)
        # buses in net.bus order
        dvm_pp = np.full((self.n_bus_pp, k), np.nan)
        ok = m.bus_lookup >= 0
        dvm_pp[ok] = dvm[m.bus_lookup[ok]]
        # branch loadings: the larger side of each column, as the power flow reports it
        i_f, i_t = m.yf @ v, m.yt @ v
        di_f, di_t = m.yf @ dv, m.yt @ dv
        best = np.full(self.n_load, -1.0)
        dload = np.zeros((self.n_load, k))
        for col, br, side, fac in zip(m.load_col, m.load_br, m.load_side, m.load_fac,
                                      strict=True):
            if br < 0:
                continue
            cur, dcur = (i_f[br], di_f[br]) if side == 0 else (i_t[br], di_t[br])
            mag = abs(cur)
            val = mag * fac
            if val > best[col]:
                best[col] = val
                dload[col] = (np.real(np.conj(cur) * dcur) / mag * fac if mag > 0
                              else np.abs(dcur) * fac)
        return dvm_pp, dload
