"""The benchmark suite, as a script: the same as ``parkgrid bench``.

    python benchmarks/bench_suite.py --quick                 # 4 cases, ~1 min
    python benchmarks/bench_suite.py -o suite.json           # every case, full years
    python benchmarks/bench_suite.py --compare suite.json    # against an earlier run

Cases, reference KPIs and the runner live in ``parkgrid.bench``; the reference
KPIs are ``parkgrid/bench/reference_kpis.json`` (``--update-reference`` rewrites it).
"""

from __future__ import annotations

import sys

from parkgrid.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
