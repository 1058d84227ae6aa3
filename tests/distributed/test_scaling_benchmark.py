"""A smoke run of benchmarks/distributed_scaling.py, so that the script cannot rot."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "distributed_scaling.py"


def test_the_scaling_benchmark_prints_a_table(capsys):
    spec = importlib.util.spec_from_file_location("distributed_scaling", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = module.main(["--quick", "--workloads", "W1"])
    assert "| W1 MLP" in table and "%" in table.splitlines()[-1]
    assert "samples/s" in capsys.readouterr().out
