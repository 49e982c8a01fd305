"""A cache of loaded networks, so a run whose network has not changed skips pandapower.

Importing pandapower takes 3-4 s of CPU and reading a network through it about 1 s
more: most of a whole ``parkgrid run`` (issue 17). What a run needs of the net --
its element tables (names, buses, ratings, flags), the buses cut off from the grid
connection and the power flow's admittance model -- is stored once, keyed by a
SHA-256 of the network file's bytes (or of an inline layout), parkgrid's version and
the cache format, and read back as plain data on later runs.

Where: ``$PARKGRID_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/parkgrid``, else
``~/.cache/parkgrid``; ``PARKGRID_CACHE_DIR=off`` turns the cache off. A folder that
cannot be written is skipped silently (the run loads the network as before).

Reading the cache runs no code: JSON through :mod:`json` and arrays through
``numpy.load(allow_pickle=False)``; every value's type, dtype and shape is checked,
and any file that is missing, truncated, altered or of another format is ignored and
rebuilt from the network file. A :class:`LiteNet` answers table look-ups
(``net.bus``, ``net["line"]``) from the cache and loads the real pandapower net the
first time anything else is asked of it (``copy.deepcopy`` of it gives a real net).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parkgrid._version import __version__

__all__ = ["CACHE_ENV", "CacheEntry", "LiteNet", "cache_dir", "cached_net", "network_key"]

log = logging.getLogger(__name__)

CACHE_ENV = "PARKGRID_CACHE_DIR"
#: bump when what is stored, or how, changes: old entries are then never read
FORMAT = 1
_TABLES_FILE = "tables.json"
#: numpy dtypes a stored column may have (pandas nullable dtypes by name)
_NUMPY_KINDS = {"float64", "float32", "int64", "int32", "int16", "int8", "uint64", "uint32",
                "uint16", "uint8", "bool"}
_NULLABLE_KINDS = {"Int64", "Int32", "boolean", "Float64", "string"}
_SCALAR = (str, int, float, bool, type(None))


def cache_dir() -> Path | None:
    """Folder of the cache (see the module docstring); ``None`` when turned off."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "parkgrid"


def network_key(kind: str, payload: bytes) -> str:
    """Cache key of a network: SHA-256 of its bytes, its kind, parkgrid's version, the format."""
    h = hashlib.sha256()
    for part in (b"parkgrid-netcache", str(FORMAT).encode(), __version__.encode(),
                 kind.encode()):
        h.update(part + b"\0")
    h.update(payload)
    return h.hexdigest()


class CacheEntry:
    """The files of one cached network, in ``<cache_dir>/net-v<FORMAT>/<key>/``."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key

    @classmethod
    def for_key(cls, key: str) -> CacheEntry | None:
        """Return the entry of *key*; ``None`` when the cache is turned off."""
        root = cache_dir()
        return None if root is None else cls(root / f"net-v{FORMAT}" / key, key)

    def _write(self, name: str, data: bytes) -> None:
        # all or nothing: a temporary file in the same folder, renamed into place
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.folder / name)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a read-only or full disk: run without the cache
            log.debug("network cache: cannot write %s (%s)", self.folder / name, exc)

    def _read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return None

    def read_json(self, name: str) -> Any:
        """Return the JSON value of file *name*; ``None`` if missing or not JSON."""
        data = self._read(name)
        if data is None:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            log.debug("network cache: %s is not JSON; rebuilt", self.folder / name)
            return None

    def write_json(self, name: str, value: Any) -> None:
        """Store *value* as the JSON file *name* (atomically)."""
        self._write(name, json.dumps(value, separators=(",", ":")).encode("utf-8"))

    def read_text(self, name: str) -> str | None:
        """Return the text of file *name*; ``None`` if missing or not UTF-8."""
        data = self._read(name)
        try:
            return None if data is None else data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def write_text(self, name: str, text: str) -> None:
        """Store *text* as file *name* (atomically)."""
        self._write(name, text.encode("utf-8"))

    def read_arrays(self, name: str) -> dict[str, np.ndarray] | None:
        """Return the arrays of the ``.npz`` file *name* (never pickles); ``None`` if bad."""
        data = self._read(name)
        if data is None:
            return None
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            log.debug("network cache: %s unreadable (%s); rebuilt", self.folder / name, exc)
            return None

    def write_arrays(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Store *arrays* as the ``.npz`` file *name* (atomically, no pickling)."""
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        self._write(name, buf.getvalue())


# ----------------------------------------------------------------- element tables
def _column(series: pd.Series) -> tuple[str, list[Any]] | None:
    """``(kind, values)`` of a column stored as JSON; ``None`` if it cannot be."""
    kind = str(series.dtype)
    if kind in _NUMPY_KINDS:
        return kind, series.tolist()
    if kind in _NULLABLE_KINDS:
        return kind, [None if pd.isna(v) else v for v in series.tolist()]
    if kind == "object":
        values = series.tolist()
        if all(isinstance(v, _SCALAR) for v in values):
            return "object", values
    return None  # geometry objects, lists, categories: not needed by a run


def _tables_to_json(net: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, frame in net.items():
        if not isinstance(frame, pd.DataFrame) or name.startswith(("res_", "_")):
            continue
        if frame.index.dtype.kind not in "iu":
            continue
        cols = []
        for col in frame.columns:
            if not isinstance(col, str):
                continue
            stored = _column(frame[col])
            if stored is not None:
                cols.append([col, *stored])
        out[name] = {"index": [int(i) for i in frame.index], "columns": cols}
    return out


def _check_values(kind: str, values: list[Any]) -> None:
    if kind in ("float64", "float32", "Float64"):
        ok = all((isinstance(v, int | float) and not isinstance(v, bool)) or v is None
                 for v in values) if kind == "Float64" else all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    elif kind == "bool":
        ok = all(isinstance(v, bool) for v in values)
    elif kind == "boolean":
        ok = all(isinstance(v, bool) or v is None for v in values)
    elif kind == "string":
        ok = all(isinstance(v, str) or v is None for v in values)
    elif kind == "object":
        ok = all(isinstance(v, _SCALAR) for v in values)
    else:  # integers, numpy or nullable
        ok = all((isinstance(v, int) and not isinstance(v, bool))
                 or (v is None and kind[0] == "I") for v in values)
    if not ok:
        raise ValueError(f"values do not match the column kind {kind!r}")


def _tables_from_json(raw: Any) -> dict[str, pd.DataFrame]:
    """Rebuild the stored tables; ``ValueError`` on anything not of the stored form."""
    if not isinstance(raw, dict):
        raise ValueError("tables: not an object")
    tables: dict[str, pd.DataFrame] = {}
    for name, spec in raw.items():
        if not (isinstance(name, str) and isinstance(spec, dict)):
            raise ValueError("tables: bad entry")
        index, cols = spec.get("index"), spec.get("columns")
        if not (isinstance(index, list) and isinstance(cols, list)):
            raise ValueError(f"tables.{name}: index and columns must be lists")
        _check_values("int64", index)
        data: dict[str, Any] = {}
        for item in cols:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
                    and isinstance(item[1], str) and isinstance(item[2], list)):
                raise ValueError(f"tables.{name}: bad column")
            col, kind, values = item
            if kind not in _NUMPY_KINDS | _NULLABLE_KINDS | {"object"}:
                raise ValueError(f"tables.{name}.{col}: unknown kind {kind!r}")
            if len(values) != len(index):
                raise ValueError(f"tables.{name}.{col}: {len(values)} values, "
                                 f"{len(index)} rows")
            _check_values(kind, values)
            if kind == "object":
                arr = np.empty(len(values), dtype=object)
                arr[:] = values
                data[col] = arr
            elif kind in _NULLABLE_KINDS:
                data[col] = pd.array(values, dtype=kind)
            else:
                data[col] = np.asarray(values, dtype=kind)
        tables[name] = pd.DataFrame(data, index=pd.Index(np.asarray(index, dtype=np.int64)))
    return tables


class LiteNet:
    """A network's element tables from the cache; the pandapower net only when asked.

    ``net.bus``, ``net["line"]`` and ``"trafo" in net`` are answered from the
    stored tables (columns that hold only numbers, flags and text); ``unsupplied``
    is the set of buses with no connection to an in-service ext_grid (as
    ``pandapower.topology.unsupplied_buses`` found it). Any other attribute, and
    ``copy.deepcopy``, loads the real net (through pandapower) and uses it.
    """

    def __init__(self, tables: dict[str, pd.DataFrame], unsupplied: frozenset[int],
                 entry: CacheEntry | None, loader: Callable[[], Any] | None,
                 real: Any = None, keys: frozenset[str] = frozenset()) -> None:
        self.__dict__.update(_tables=tables, unsupplied=unsupplied, entry=entry,
                             _loader=loader, _real=real, _keys=keys | set(tables))

    def real(self) -> Any:
        """Return the pandapower net (loaded on first use, then kept)."""
        if self._real is None:
            if self._loader is None:
                raise RuntimeError("this LiteNet has no pandapower net behind it")
            log.debug("network cache: loading the pandapower net")
            self.__dict__["_real"] = self._loader()
        return self._real

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        tables = self.__dict__["_tables"]
        if name in tables:
            return tables[name]
        return getattr(self.real(), name)

    def __getitem__(self, name: str) -> Any:
        tables = self._tables
        return tables[name] if name in tables else self.real()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._keys  # every key of the net, as stored

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(self.real(), memo)

    def __copy__(self) -> Any:
        return copy.copy(self.real())

    def __repr__(self) -> str:
        sizes = ", ".join(f"{len(f)} {k}" for k, f in self._tables.items() if len(f))
        return f"LiteNet({sizes})"

    def with_rows(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> LiteNet:
        """Return a copy with *rows* ``(table, values)`` appended, each at the next free index.

        The index is pandapower's choice for a new element (the largest index + 1,
        or 0). The copy has no pandapower net behind it.
        """
        new: dict[str, list[dict[str, Any]]] = {}
        for table, values in rows:
            new.setdefault(table, []).append(values)
        tables = dict(self._tables)
        for table, items in new.items():
            base = tables.get(table, pd.DataFrame())
            start = int(base.index.max()) + 1 if len(base) else 0
            added = pd.DataFrame(items, index=pd.Index(
                np.arange(start, start + len(items), dtype=np.int64)))
            tables[table] = pd.concat([base, added]) if len(base) else added
        return LiteNet(tables, self.unsupplied, self.entry, None, keys=self._keys)


def cached_net(kind: str, payload: bytes, loader: Callable[[], Any],
               unsupplied: Callable[[Any], Iterable[int]]) -> Any:
    """Return the network *payload* (file bytes) of *kind* from the cache, else through *loader*.

    On a hit, a :class:`LiteNet` over the stored tables; on a miss the net
    *loader* returns is stored (its tables, ``unsupplied(net)`` and its pandapower
    JSON text, ``to_json``) and returned as a LiteNet that already holds it. Without
    a usable cache folder, the net itself.
    """
    key = network_key(kind, payload)
    entry = CacheEntry.for_key(key)
    if entry is None:
        return loader()
    raw = entry.read_json(_TABLES_FILE)
    if isinstance(raw, dict) and raw.get("format") == FORMAT and raw.get("key") == key:
        try:
            tables = _tables_from_json(raw.get("tables"))
            cut = raw.get("unsupplied")
            if not isinstance(cut, list):
                raise ValueError("unsupplied: not a list")
            _check_values("int64", cut)
            keys = raw.get("keys")
            if not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
                raise ValueError("keys: not a list of names")
            return LiteNet(tables, frozenset(cut), entry, loader, keys=frozenset(keys))
        except ValueError as exc:
            log.debug("network cache: %s rejected (%s); rebuilt", entry.folder, exc)
    net = loader()
    keys = sorted(str(k) for k in net.keys())
    cut = sorted(int(b) for b in unsupplied(net))
    stored = _tables_to_json(net)
    entry.write_json(_TABLES_FILE, {"format": FORMAT, "key": key, "unsupplied": cut,
                                    "keys": keys, "tables": stored})
    return LiteNet(_tables_from_json(stored), frozenset(cut), entry, loader, real=net,
                   keys=frozenset(keys))

