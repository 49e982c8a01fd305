"""Build the kernel's network model from pandapower's own internal conversion.

Everything topological or electrical -- admittance matrix, bus fusion by closed
bus-bus switches, auxiliary buses of open line switches, out-of-service and
isolated elements, transformer models and taps, 3-winding star buses -- comes from
pandapower's ``_pd2ppc`` exactly as ``runpp`` builds it. parkgrid only adds the
linear map from profile values to bus injections and the result extraction.

Not supported (raise :class:`~parkgrid.errors.NetworkError`): voltage-dependent
loads, xward, dcline, FACTS/VSC devices, gens flagged ``slack``, a gen at an
ext_grid bus, several generators at one slack bus, distributed slack, enforced
Q limits (``runpp``'s default ``enforce_q_lims=False`` is what the kernel solves),
``trafo_loading="power"`` and temperature-dependent lines set through
``net.user_pf_options``.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from parkgrid.errors import NetworkError
from parkgrid.powerflow._profiles import ProfileSet

__all__ = ["NetModel", "build_model", "model_arrays", "model_from_arrays", "with_injections"]

_SQRT3 = np.sqrt(3.0)
_UNSUPPORTED_TABLES = ("xward", "dcline", "svc", "ssc", "tcsc", "vsc", "b2b_vsc")
_PF_OPTIONS = {"tolerance_mva": 1e-10, "calculate_voltage_angles": True}


@dataclass(frozen=True)
class NetModel:
    """Arrays the kernels need, in pandapower's internal (ppci) bus order.

    Attributes
    ----------
    base_mva:
        System base [MVA].
    ybus, yf, yt:
        Bus admittance and branch from/to admittance matrices (CSR) [pu].
    ref, pv, pq:
        Internal bus indices by type.
    v0:
        Start voltages with slack and PV set-points [pu].
    sbus_base:
        Injection of everything not profiled (gen - load) [pu].
    inj_bus, inj_coef:
        For each profile column (concatenated in key order): internal bus and
        complex coefficient [pu per MW or Mvar]; ``inj_bus == -1`` means inactive.
    bus_lookup:
        pandapower bus -> internal bus, ``-1`` when out of service or isolated.
    f_bus, t_bus, base_kv:
        Internal branch end buses and bus base voltages [kV].
    """

    base_mva: float
    ybus: sp.csr_matrix
    yf: sp.csr_matrix
    yt: sp.csr_matrix
    ref: np.ndarray
    pv: np.ndarray
    pq: np.ndarray
    v0: np.ndarray
    sbus_base: np.ndarray
    keys: tuple[tuple[str, str], ...]
    inj_bus: np.ndarray
    inj_coef: np.ndarray
    bus_lookup: np.ndarray
    f_bus: np.ndarray
    t_bus: np.ndarray
    base_kv: np.ndarray
    # loading terms: output column, internal branch, side (0 from, 1 to), factor
    load_col: np.ndarray
    load_br: np.ndarray
    load_side: np.ndarray
    load_fac: np.ndarray
    n_line: int
    n_trafo: int
    n_trafo3w: int
    line_br: np.ndarray
    loss_br: np.ndarray
    eg_bus: np.ndarray
    eg_s0: np.ndarray
    #: pandapower's conversion state (private net copy, ppc, ppci bus and branch
    #: matrices, ppc -> ppci branch map): the tap changers of
    #: :mod:`parkgrid.powerflow._control` recompute a transformer's branch from it
    conversion: tuple[Any, ...] | None = None

    @property
    def n_bus(self) -> int:
        """Number of internal (in-service, connected) buses."""
        return int(self.ybus.shape[0])


def _check_supported(net: Any) -> None:
    for table in _UNSUPPORTED_TABLES:
        if table in net and len(net[table]) and net[table]["in_service"].any():
            raise NetworkError(
                f"net.{table}: in-service {table} elements are not supported by the batch "
                "power flow; use run_reference_pf"
            )
    load = net.load
    if len(load):
        cols = [c for c in load.columns if c.startswith(("const_z", "const_i"))]
        active = load["in_service"].to_numpy(dtype=bool)
        vals = load.loc[active, cols].to_numpy(dtype=float) if cols else np.zeros((0, 0))
        if vals.size and np.nanmax(np.abs(vals)) > 0:
            raise NetworkError(
                f"net.load.{'/'.join(cols)}: voltage-dependent loads are not supported; "
                "all must be 0 (constant power)"
            )
    if len(net.gen) and "slack" in net.gen and net.gen.loc[net.gen.in_service, "slack"].any():
        raise NetworkError("net.gen.slack: gens acting as slack are not supported; use ext_grid")


def _check_options(opts: dict[str, Any]) -> None:
    bad = {
        "enforce_q_lims": False,
        "distributed_slack": False,
        "trafo_loading": "current",
        "consider_line_temperature": False,
        "tdpf": False,
        "ac": True,
    }
    for key, want in bad.items():
        if key in opts and opts[key] != want:
            raise NetworkError(
                f"net.user_pf_options.{key}={opts[key]!r} is not supported (must be {want!r})"
            )


def _private_copy(net: Any) -> Any:
    """Return a copy of *net* that pandapower's conversion may change freely.

    ``copy.deepcopy`` of a whole net (std_types, result tables, attached profiles)
    took most of the set-up time of a year's power flow. The conversion assigns new
    objects to the net's private keys (``_options``, ``_ppc``, lookups) and may edit
    element tables; so a shallow copy of the net with its own copy of every
    non-empty element table is enough. Empty tables and result tables are shared
    (``test_powerflow_kernel`` checks that the caller's net stays unchanged).
    """
    work = copy.copy(net)
    for key, value in net.items():
        if isinstance(value, pd.DataFrame) and len(value) and not key.startswith("res_"):
            work[key] = value.copy()
    return work


def _mean_setpoint(net: Any) -> float:
    """Mean voltage set-point [pu] of the in-service ext_grids and gens."""
    vms = [net[t].loc[net[t]["in_service"].to_numpy(dtype=bool), "vm_pu"].to_numpy(float)
           for t in ("ext_grid", "gen") if len(net[t])]
    vm = np.concatenate(vms) if vms else np.zeros(0)
    return float(vm.mean()) if len(vm) else 1.0


def build_model(net: Any, prof: ProfileSet) -> NetModel:
    """Convert *net* (not modified) into a :class:`NetModel` for the profiles *prof*.

    Profiled values are zeroed in a private copy before pandapower's conversion, so
    ``sbus_base`` holds only the static injections; each step then adds
    ``inj_coef * value`` at ``inj_bus``.
    """
    # pandapower on first use, not with parkgrid (start-up time; a cached run never)
    from pandapower.auxiliary import _add_auxiliary_elements, _init_runpp_options
    from pandapower.pd2ppc import _pd2ppc
    from pandapower.pf.ppci_variables import _get_pf_variables_from_ppci
    from pandapower.pypower.idx_bus import BASE_KV
    from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS, PG, QG
    from pandapower.pypower.makeSbus import makeSbus
    from pandapower.pypower.makeYbus import makeYbus

    _check_supported(net)
    work = _private_copy(net)
    for (element, column), idx in prof.columns.items():
        work[element].loc[idx, column] = 0.0
    _init_runpp_options(
        work,
        algorithm="nr",
        calculate_voltage_angles=True,
        init="auto",
        max_iteration="auto",
        tolerance_mva=1e-10,
        trafo_model="t",
        trafo_loading="current",
        enforce_p_lims=False,
        enforce_q_lims=False,
        check_connectivity=True,
        voltage_depend_loads=True,
        passed_parameters=_PF_OPTIONS if len(work.get("user_pf_options", {})) else None,
        # what init="auto" would compute (mean set-point, DC angles), given here
        # because pandapower's own computation (DataFrame.query) took ~5 ms
        init_vm_pu=_mean_setpoint(work),
        init_va_degree="dc",
        # pandapower's numba bus-lookup helpers are not cached on disk (~0.4 s of
        # compile in every process); the numpy path builds the same lookup
        numba=False,
    )
    _check_options(work._options)
    _add_auxiliary_elements(work)
    work._pd2ppc_lookups = {
        "bus": np.array([], dtype=np.int64),
        "bus_dc": np.array([], dtype=np.int64),
        "ext_grid": np.array([], dtype=np.int64),
        "gen": np.array([], dtype=np.int64),
        "branch": np.array([], dtype=np.int64),
        "branch_dc": np.array([], dtype=np.int64),
    }
    ppc, ppci = _pd2ppc(work)
    base_mva, bus, gen, branch, *_rest = _get_pf_variables_from_ppci(ppci, True)
    ref, pv, pq = _rest[-7], _rest[-6], _rest[-5]
    v0 = np.asarray(_rest[-2], dtype=np.complex128)
    n = bus.shape[0]
    if n == 0:
        raise NetworkError("net: no bus is connected to an in-service ext_grid")
    ybus, yf, yt = makeYbus(base_mva, bus, branch)
    ybus = sp.csr_matrix(ybus + sp.diags(np.zeros(n, dtype=np.complex128)))  # explicit diagonal
    for m in (ybus, yf, yt):
        m.sort_indices()
    sbus_base = np.asarray(makeSbus(base_mva, bus, gen), dtype=np.complex128)
    ppci_gen_is = gen[:, GEN_STATUS] > 0

    lookup_full = np.asarray(work._pd2ppc_lookups["bus"], dtype=np.int64)
    bus_lookup = np.full(len(net.bus), -1, dtype=np.int64)
    mapped = lookup_full[np.asarray(net.bus.index, dtype=np.int64)]
    bus_lookup[mapped < n] = mapped[mapped < n]

    # ---- profile columns -> injections --------------------------------------
    keys = tuple(prof.columns)
    inj_bus_parts, inj_coef_parts = [], []
    gen_buses = gen[ppci_gen_is, GEN_BUS].real.astype(np.int64)
    for key in keys:
        element, column = key
        idx = prof.columns[key]
        table = work[element]
        loc = table.index.get_indexer(idx)
        active = np.asarray(work._is_elements[element], dtype=bool)[loc]
        scaling = table["scaling"].to_numpy(dtype=float)[loc] if "scaling" in table else 1.0
        pp_bus = table["bus"].to_numpy(dtype=np.int64)[loc]
        b = lookup_full[pp_bus]
        b = np.where(active & (b < n), b, -1)
        sign = 1.0 if element in ("sgen", "gen") else -1.0
        unit = 1.0 if column == "p_mw" else 1j
        coef = sign * unit * scaling / base_mva * np.ones(len(idx))
        if element == "gen":
            if np.isin(b[b >= 0], ref).any():
                raise NetworkError("net.gen: a profiled gen sits at an ext_grid (slack) bus")
        inj_bus_parts.append(b)
        inj_coef_parts.append(coef.astype(np.complex128))
    inj_bus = np.concatenate(inj_bus_parts) if inj_bus_parts else np.zeros(0, np.int64)
    inj_coef = np.concatenate(inj_coef_parts) if inj_coef_parts else np.zeros(0, np.complex128)

    # ---- ext_grid results ---------------------------------------------------
    eg_lookup = work._pd2ppc_lookups["ext_grid"]
    eg_bus = np.full(len(net.ext_grid), -1, dtype=np.int64)
    eg_s0 = np.zeros(len(net.ext_grid), dtype=np.complex128)
    eg_active = np.asarray(work._is_elements["ext_grid"], dtype=bool)
    for k, eg in enumerate(net.ext_grid.index):
        if not eg_active[k]:
            continue
        row = int(eg_lookup[eg])
        b = int(ppc["gen"][row, GEN_BUS].real)
        if b >= n:
            continue
        eg_bus[k] = b
        eg_s0[k] = ppc["gen"][row, PG].real + 1j * ppc["gen"][row, QG].real
    if len(np.unique(eg_bus[eg_bus >= 0])) != int((eg_bus >= 0).sum()):
        raise NetworkError("net.ext_grid: several ext_grids at one (fused) bus are not supported")
    for b in eg_bus[eg_bus >= 0]:
        if int((gen_buses == b).sum()) != 1:
            raise NetworkError(
                f"net: bus {int(b)} (internal) holds an ext_grid and other generators; "
                "not supported"
            )

    # ---- branch lookups -----------------------------------------------------
    branch_is = np.asarray(ppci["internal"]["branch_is"], dtype=bool)
    ppc2ppci = np.where(branch_is, np.cumsum(branch_is) - 1, -1)
    f_bus = branch[:, 0].real.astype(np.int64)
    t_bus = branch[:, 1].real.astype(np.int64)
    base_kv = bus[:, BASE_KV].astype(np.float64)
    lookups = work._pd2ppc_lookups["branch"]
    cols: list[np.ndarray] = []
    brs: list[np.ndarray] = []
    sides: list[np.ndarray] = []
    facs: list[np.ndarray] = []
    col_off = 0

    # ends of every ppc branch in ppc bus numbering (>= n: out of service / isolated)
    ppc_f = ppc["branch"][:, 0].real.astype(np.int64)
    ppc_t = ppc["branch"][:, 1].real.astype(np.int64)

    def term(col: np.ndarray, ppc_br: np.ndarray, side: int, fac: np.ndarray) -> None:
        # a branch outside the solved grid carries no current: pandapower reports 0 %,
        # or NaN when one of its buses has no voltage (0 / NaN) -- code -2
        br = ppc2ppci[ppc_br]
        dead = (br < 0) & ((ppc_f[ppc_br] >= n) | (ppc_t[ppc_br] >= n))
        br = np.where(dead, -2, br)
        end = f_bus[np.maximum(br, 0)] if side == 0 else t_bus[np.maximum(br, 0)]
        kv = base_kv[end]
        cols.append(col)
        brs.append(br)
        sides.append(np.full(len(col), side, dtype=np.int64))
        # |I| [pu current on base_mva] -> kA: base_mva / (sqrt3 * kV)
        facs.append(np.asarray(fac, dtype=float) * base_mva / (_SQRT3 * kv))

    line_br = np.full(len(net.line), -1, dtype=np.int64)
    if "line" in lookups and len(net.line):
        f, t = lookups["line"]
        ppc_br = np.arange(f, t)
        line_br = ppc2ppci[ppc_br]
        imax = (net.line["max_i_ka"] * net.line["df"] * net.line["parallel"]).to_numpy(float)
        with np.errstate(divide="ignore"):
            fac = 100.0 / imax
        col = np.arange(len(net.line)) + col_off
        term(col, ppc_br, 0, fac)
        term(col, ppc_br, 1, fac)
    col_off += len(net.line)
    if "trafo" in lookups and len(net.trafo):
        f, t = lookups["trafo"]
        tr = net.trafo
        ppc_br = np.arange(f, t)
        base = _SQRT3 / tr["sn_mva"].to_numpy(float) * 100.0
        base = base / tr["parallel"].to_numpy(float) / tr["df"].to_numpy(float)
        col = np.arange(len(tr)) + col_off
        term(col, ppc_br, 0, base * tr["vn_hv_kv"].to_numpy(float))
        term(col, ppc_br, 1, base * tr["vn_lv_kv"].to_numpy(float))
    col_off += len(net.trafo)
    if "trafo3w" in lookups and len(net.trafo3w):
        f, t = lookups["trafo3w"]
        t3 = net.trafo3w
        m = (t - f) // 3
        col = np.arange(len(t3)) + col_off
        for j, (side, w) in enumerate(((0, "hv"), (1, "mv"), (1, "lv"))):
            fac = t3[f"vn_{w}_kv"].to_numpy(float) * _SQRT3 / t3[f"sn_{w}_mva"].to_numpy(float)
            term(col, np.arange(f + j * m, f + (j + 1) * m), side, fac * 100.0)
    loss_parts = []
    for table in ("line", "trafo", "trafo3w", "impedance"):
        if table in lookups and len(net[table]):
            f, t = lookups[table]
            loss_parts.append(ppc2ppci[np.arange(f, t)])
    loss_br = np.concatenate(loss_parts) if loss_parts else np.zeros(0, np.int64)
    loss_br = loss_br[loss_br >= 0]

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    return NetModel(
        base_mva=float(base_mva),
        ybus=ybus,
        yf=sp.csr_matrix(yf),
        yt=sp.csr_matrix(yt),
        ref=np.asarray(ref, dtype=np.int64),
        pv=np.asarray(pv, dtype=np.int64),
        pq=np.asarray(pq, dtype=np.int64),
        v0=v0,
        sbus_base=sbus_base,
        keys=keys,
        inj_bus=inj_bus.astype(np.int64),
        inj_coef=inj_coef,
        bus_lookup=bus_lookup,
        f_bus=f_bus,
        t_bus=t_bus,
        base_kv=base_kv,
        load_col=cat(cols, np.int64),
        load_br=cat(brs, np.int64),
        load_side=cat(sides, np.int64),
        load_fac=cat(facs, np.float64),
        n_line=len(net.line),
        n_trafo=len(net.trafo),
        n_trafo3w=len(net.trafo3w),
        line_br=line_br,
        loss_br=loss_br,
        eg_bus=eg_bus,
        eg_s0=eg_s0,
        conversion=(work, ppc, bus, branch, ppc2ppci),
    )


# ------------------------------------------------------------ the cached form
#: stored arrays of a NetModel: name -> (dtype, ndim); sparse matrices as
#: ``<name>_data``, ``_indices``, ``_indptr``, ``_shape``
_ARRAYS: dict[str, tuple[str, int]] = {
    "ref": ("int64", 1), "pv": ("int64", 1), "pq": ("int64", 1), "v0": ("complex128", 1),
    "sbus_base": ("complex128", 1), "bus_lookup": ("int64", 1), "f_bus": ("int64", 1),
    "t_bus": ("int64", 1), "base_kv": ("float64", 1), "load_col": ("int64", 1),
    "load_br": ("int64", 1), "load_side": ("int64", 1), "load_fac": ("float64", 1),
    "line_br": ("int64", 1), "loss_br": ("int64", 1), "eg_bus": ("int64", 1),
    "eg_s0": ("complex128", 1), "scalars": ("float64", 1),
}
_MATRICES = ("ybus", "yf", "yt")


def model_arrays(model: NetModel) -> dict[str, np.ndarray]:
    """Return the arrays of *model* without its profile columns (the cached model).

    Read back with :func:`model_from_arrays`; :func:`with_injections` adds a park's
    profile columns. The pandapower conversion state (tap changers) is not kept.
    """
    out = {name: np.asarray(getattr(model, name)) for name in _ARRAYS if name != "scalars"}
    out["scalars"] = np.array([model.base_mva, model.n_line, model.n_trafo, model.n_trafo3w],
                              dtype=np.float64)
    for name in _MATRICES:
        m = getattr(model, name)
        out[f"{name}_data"] = m.data
        out[f"{name}_indices"] = m.indices.astype(np.int64)
        out[f"{name}_indptr"] = m.indptr.astype(np.int64)
        out[f"{name}_shape"] = np.array(m.shape, dtype=np.int64)
    return out


def _in(a: np.ndarray, lo: int, hi: int, what: str) -> None:
    if a.size and (int(a.min()) < lo or int(a.max()) >= hi):
        raise ValueError(f"{what}: values outside [{lo}, {hi})")


def model_from_arrays(arrays: dict[str, np.ndarray]) -> NetModel:
    """Rebuild a :class:`NetModel` (no profile columns) from :func:`model_arrays`.

    Every array's dtype, shape and index range is checked (the kernels do not
    check bounds), so a truncated or altered file raises ``ValueError`` instead of
    reaching them.
    """
    a: dict[str, np.ndarray] = {}
    for name, (dtype, ndim) in _ARRAYS.items():
        v = arrays.get(name)
        if not isinstance(v, np.ndarray) or v.dtype != np.dtype(dtype) or v.ndim != ndim:
            raise ValueError(f"{name}: missing or not a {ndim}-d {dtype} array")
        a[name] = v
    mats = {}
    for name in _MATRICES:
        parts = [arrays.get(f"{name}_{p}") for p in ("data", "indices", "indptr", "shape")]
        data, indices, indptr, shape = parts
        if not (isinstance(data, np.ndarray) and data.dtype == np.complex128 and data.ndim == 1
                and all(isinstance(x, np.ndarray) and x.dtype == np.int64 and x.ndim == 1
                        for x in (indices, indptr, shape))):
            raise ValueError(f"{name}: missing or mistyped sparse parts")
        assert indices is not None and indptr is not None and shape is not None
        if len(shape) != 2 or shape.min() < 0 or len(indptr) != shape[0] + 1 or (
                len(indices) != len(data)) or indptr[0] != 0 or indptr[-1] != len(data) or (
                np.any(np.diff(indptr) < 0)):
            raise ValueError(f"{name}: inconsistent sparse structure")
        _in(indices, 0, max(int(shape[1]), 1), f"{name}.indices")
        small = max(int(shape[0]), int(shape[1]), len(data)) < 2**31 - 1
        idx_t = np.int32 if small else np.int64  # scipy's own choice, as built
        m = sp.csr_matrix((data, indices.astype(idx_t), indptr.astype(idx_t)),
                          shape=(int(shape[0]), int(shape[1])))
        m.sort_indices()
        mats[name] = m
    scal = a["scalars"]
    if len(scal) != 4 or not np.all(np.isfinite(scal)) or scal[0] <= 0 or np.any(scal[1:] < 0) or (
            np.any(scal[1:] != np.round(scal[1:]))):
        raise ValueError("scalars: expected base_mva > 0 and three element counts")
    n_line, n_trafo, n_trafo3w = (int(x) for x in scal[1:])
    ybus, yf, yt = mats["ybus"], mats["yf"], mats["yt"]
    n = ybus.shape[0]
    n_br = yf.shape[0]
    if n == 0 or ybus.shape != (n, n) or yf.shape != (n_br, n) or yt.shape != (n_br, n):
        raise ValueError("admittance matrices: shapes do not fit")
    for name in ("v0", "sbus_base", "base_kv"):
        if len(a[name]) != n:
            raise ValueError(f"{name}: {len(a[name])} values for {n} buses")
    for name in ("ref", "pv", "pq"):
        _in(a[name], 0, n, name)
    if len(a["ref"]) + len(a["pv"]) + len(a["pq"]) != n:
        raise ValueError("ref/pv/pq: do not cover the buses")
    if len(a["f_bus"]) != n_br or len(a["t_bus"]) != n_br:
        raise ValueError("f_bus/t_bus: one per branch")
    for name in ("f_bus", "t_bus"):
        _in(a[name], 0, n, name)
    _in(a["bus_lookup"], -1, n, "bus_lookup")
    k = len(a["load_col"])
    if not (len(a["load_br"]) == len(a["load_side"]) == len(a["load_fac"]) == k):
        raise ValueError("load terms: lengths differ")
    _in(a["load_col"], 0, max(n_line + n_trafo + n_trafo3w, 1), "load_col")
    _in(a["load_br"], -2, max(n_br, 1), "load_br")
    _in(a["load_side"], 0, 2, "load_side")
    if len(a["line_br"]) != n_line:
        raise ValueError("line_br: one per line")
    _in(a["line_br"], -1, max(n_br, 1), "line_br")
    _in(a["loss_br"], 0, max(n_br, 1), "loss_br")
    if len(a["eg_s0"]) != len(a["eg_bus"]):
        raise ValueError("eg_bus/eg_s0: lengths differ")
    _in(a["eg_bus"], -1, n, "eg_bus")
    return NetModel(
        base_mva=float(scal[0]), ybus=ybus, yf=yf, yt=yt, ref=a["ref"], pv=a["pv"],
        pq=a["pq"], v0=a["v0"], sbus_base=a["sbus_base"], keys=(),
        inj_bus=np.zeros(0, np.int64), inj_coef=np.zeros(0, np.complex128),
        bus_lookup=a["bus_lookup"], f_bus=a["f_bus"], t_bus=a["t_bus"], base_kv=a["base_kv"],
        load_col=a["load_col"], load_br=a["load_br"], load_side=a["load_side"],
        load_fac=a["load_fac"], n_line=n_line, n_trafo=n_trafo, n_trafo3w=n_trafo3w,
        line_br=a["line_br"], loss_br=a["loss_br"], eg_bus=a["eg_bus"], eg_s0=a["eg_s0"])


def with_injections(model: NetModel, net: Any, prof: ProfileSet) -> NetModel:
    """*model* (of the net without the profiled elements) with the columns of *prof*.

    For profiled elements that the conversion did not see (a park's assets, added
    with zero power, which changes nothing else of the model): each sits at its
    bus's internal index (``-1`` when that bus is not solved or the element is out
    of service), with the coefficient :func:`build_model` gives.
    """
    bus_pos = pd.Index(net.bus.index)
    parts_b, parts_c = [], []
    keys = tuple(prof.columns)
    for element, column in keys:
        if element == "gen":
            raise ValueError("profiled gens need the full conversion (build_model)")
        table = net[element]
        loc = table.index.get_indexer(prof.columns[(element, column)])
        pos = bus_pos.get_indexer(table["bus"].to_numpy(dtype=np.int64)[loc])
        active = table["in_service"].to_numpy(dtype=bool)[loc] & (pos >= 0)
        b = np.where(active, model.bus_lookup[np.maximum(pos, 0)], -1)
        scaling = table["scaling"].to_numpy(dtype=float)[loc] if "scaling" in table else 1.0
        sign = 1.0 if element == "sgen" else -1.0
        unit = 1.0 if column == "p_mw" else 1j
        parts_b.append(b.astype(np.int64))
        parts_c.append((sign * unit * scaling / model.base_mva * np.ones(len(loc))
                        ).astype(np.complex128))
    return dataclasses.replace(
        model, keys=keys,
        inj_bus=np.concatenate(parts_b) if parts_b else np.zeros(0, np.int64),
        inj_coef=np.concatenate(parts_c) if parts_c else np.zeros(0, np.complex128))
