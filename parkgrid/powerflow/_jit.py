"""The two numba decorators every power-flow kernel is compiled with.

numba compiles the library code a kernel uses (``np.empty``, ``np.zeros``, ...)
once per distinct set of compile options of its callers, so all kernels share
one set: ``cache=True`` (compiled once per installation), ``nogil=True`` (the
batch runs chunks in threads) and ``error_model="numpy"`` (no division-by-zero
checks, which would keep LLVM from vectorising; the kernels test their pivots
themselves). :data:`inner` kernels are only called from other kernels and get no
Python or C entry point, which saves about a tenth of the one-off compile.

numba's on-disk cache is keyed by each kernel's own source file: after changing the
options here, a kernel in ``_sparse.py`` that ``_kernels.py`` calls, or a structure
in ``_kernel_args.py`` (a cached kernel reads a NamedTuple's fields by position, and
its signature does not record the field names), delete the ``__pycache__/*.nbi`` and
``*.nbc`` files of this package so every kernel is compiled afresh.
"""

from __future__ import annotations

from numba import njit

#: kernels called from Python
kernel = njit(cache=True, nogil=True, error_model="numpy")
#: kernels called only from other kernels (calling one from Python crashes the
#: interpreter: there is no entry point to check the arguments)
inner = njit(cache=True, nogil=True, error_model="numpy",  # type: ignore[call-overload]
             no_cpython_wrapper=True, no_cfunc_wrapper=True)  # options numba's stubs omit
