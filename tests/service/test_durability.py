"""No acknowledged rating write is lost when the server is SIGKILLed mid-stream."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from service_durability import kill_restart_cycles


@pytest.mark.slow
def test_kill_restart_cycles_lose_no_acknowledged_write(tiny_model_dir, tmp_path):
    result = kill_restart_cycles(tiny_model_dir, tmp_path, cycles=3, kill_after=(0.3, 0.8))
    assert result["acknowledged_writes"] > 3  # writes really happened between kills
    assert result["lost_writes"] == 0, result["lost"]
    assert result["integrity_check"] == "ok"
