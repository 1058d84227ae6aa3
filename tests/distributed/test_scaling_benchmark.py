"""A smoke run of benchmarks/distributed_scaling.py, so that the script cannot rot."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "distributed_scaling.py"


def test_the_scaling_benchmark_prints_a_table():
    # A fresh interpreter, as a user runs it: its processes start from a clean parent.
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--workloads", "W1"],
                         capture_output=True, text=True, timeout=300, check=True)
    table = run.stdout
    assert "| W1 MLP" in table and "samples/s" in table
    assert "%" in table.strip().splitlines()[-1]
