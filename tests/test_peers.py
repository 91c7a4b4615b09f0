"""benchmarks/peers/: the race table's arithmetic and the airbench94 CPU patches (no torch needed)."""
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "peers"))

import airbench94_cpu  # noqa: E402
import race  # noqa: E402


def test_race_rows_median_ratio_and_misses(capsys):
    rows = race.race_rows({0.99: [5.0, 7.0, 6.0], 0.98: [None, None, 3.0]},
                          {0.99: [3.0, 2.0, 4.0], 0.98: [1.0, 1.0, 1.0]})
    faster_peer, missed = rows
    assert faster_peer["hwkit_s"] == 6.0 and faster_peer["peer_s"] == 3.0 and faster_peer["ratio"] == 2.0
    assert not faster_peer["met"]
    assert math.isinf(missed["hwkit_s"]) and missed["ratio"] is None and not missed["met"]
    met = race.race_rows({"s/epoch": [1.0]}, {"s/epoch": [2.0]})[0]
    assert met["ratio"] == 0.5 and met["met"]
    race.print_rows("t", rows)
    out = capsys.readouterr().out
    assert "not reached" in out and "2.00" in out and "NOT met" in out


ORIGINAL = """import torch
import torchvision
import torchvision.transforms as T
data = torch.load(p, map_location=torch.device(gpu))
self.images = (self.images.half() / 255)
net = net.half().cuda()
if x.dtype in (torch.half, torch.float):
a = torch.cuda.Event(enable_timing=True)
b = torch.cuda.Event(enable_timing=True)
torch.cuda.synchronize()
torch.cuda.synchronize()
torch.cuda.synchronize()
"""


def test_every_patch_applies_once_as_listed_and_nothing_cuda_is_left():
    text = airbench94_cpu.patched_source(ORIGINAL)
    assert "torchvision" not in text and "cuda" not in text and ".half()" not in text
    assert "map_location=torch.device('cpu')" in text and "net = net.to(DTYPE)" in text
    assert text.count("_CpuEvent()") == 2 and text.count("_cpu_synchronize()") == 3


def test_another_version_is_refused():
    with pytest.raises(ValueError, match="occurs 2 times, expected 1"):
        airbench94_cpu.patched_source(ORIGINAL + "net = net.half().cuda()\n")
    with pytest.raises(ValueError, match="occurs 0 times"):
        airbench94_cpu.patched_source(ORIGINAL.replace("import torchvision\n", ""))
    with pytest.raises(ValueError, match="still has"):
        airbench94_cpu.patched_source(ORIGINAL + "y = x.cuda()\n")
