"""A tiny run of the benchmark script, so that it cannot rot. It checks the table, never a time."""

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_quick_run_prints_every_row():
    result = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--contenders", "netknit,torch,keras-jax",
         "--keras-jax-python", "/nonexistent/python"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| W")]
    for workload in ("W1", "W2", "W3", "W4", "W5"):
        for contender in ("netknit", "torch"):
            row = next(r for r in rows if r.startswith(f"| {workload} | {contender} |"))
            assert "skipped" not in row
            assert row.count("|") == 9
        skipped = next(r for r in rows if r.startswith(f"| {workload} | keras-jax |"))
        assert "skipped: no interpreter" in skipped


def test_in_process_comparison_prints_the_three_contenders():
    script = RUN.parent / "in_process.py"
    result = subprocess.run([sys.executable, str(script), "W5", "--steps", "3", "--rounds", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[0] for row in rows] == ["| netknit", "| netknit-jit", "| torch"]
    assert rows[2].endswith("| 1.00 |") and rows[2].count("1.00") == 2


def test_the_gpu_run_adds_the_large_batches_and_a_gpu_memory_column():
    sys.path.insert(0, str(RUN.parent))
    import run

    assert run.parse_args([]).workloads == ["W1", "W2", "W3", "W4", "W5"]
    assert run.parse_args(["--device", "cuda"]).workloads[-2:] == ["W2L", "W4L"]
    rows = [{"workload": "W2L", "contender": c, "fit": [10.0], "predict": [20.0],
             "first_step": 1.0, "peak_mb": 300.0, "baseline_mb": 100.0, "gpu_peak_mb": gpu}
            for c, gpu in (("torch", 50.0), ("keras-jax", None))]
    lines = run.format_table(rows).splitlines()
    assert lines[0].endswith("| GPU peak MB |")
    assert lines[2] == "| W2L | torch | 10 | 1.00 | 20 | 1.00 | 1.00 | 300 (200) | 50 |"
    assert lines[3].endswith("| 300 (200) | – |")


def test_variable_overhead_prints_the_three_models():
    script = RUN.parent / "variable_overhead.py"
    result = subprocess.run([sys.executable, str(script), "--calls", "2", "--repeats", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| netknit, Variables", "| netknit, plain Parameters", "| plain PyTorch"]
    assert rows[1].count("| 1.00 |") == 2
