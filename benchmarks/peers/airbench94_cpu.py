"""airbench94 (KellerJordan/cifar10-airbench, ``legacy/airbench94.py``, the uncompiled variant) on this CPU.

The original is not copied into hwkit: give its path (``--source``, or $HWKIT_AIRBENCH94) to a file
from a checkout of https://github.com/KellerJordan/cifar10-airbench (measured with commit
``1b8f7949``). ``load`` reads it, applies exactly the patches of ``PATCHES`` below (each must
match the stated number of times, else it refuses: another version needs a new review), and
executes it as a module whose ``main(run)`` is the original training. Nothing else changes:
network, hyperparameters (``hyp``), data loader, Lookahead, bias freezing, TTA are the original's.

What changed for a CPU, exactly:
1. ``import torchvision`` and ``import torchvision.transforms as T`` removed (no CPU wheel here;
   torchvision is only used to download CIFAR-10, which ``write_data`` replaces by the same
   ``train.pt``/``test.pt`` files built from hwkit's loader, and for ``T.Normalize``, replaced by
   the same per-channel ``(x - mean) / std``).
2. Device: ``torch.load(..., map_location=torch.device(gpu))`` -> the CPU; ``net.half().cuda()``
   -> ``net.to(DTYPE)``.
3. Dtype: float16 (``.half()``, ``torch.half``) -> ``DTYPE``, bfloat16 by default (this CPU has
   native bfloat16, float16 is emulated; hwkit's D6 computes in bfloat16 too). BatchNorm stays float32
   as in the original.
4. Timing: ``torch.cuda.Event`` / ``torch.cuda.synchronize`` -> wall-clock ``time.perf_counter``
   (CPU work is synchronous), so ``total_time_seconds`` means the same: training + whitening init
   + final TTA, per-epoch evaluation excluded.
For a shortened smoke run, ``race.py`` sets ``hyp['opt']['train_epochs']`` (a value, not the code).
"""
from __future__ import annotations

import os
import time
import types
from pathlib import Path

PRELUDE = '''
import time as _time
DTYPE = _DTYPE
class _CpuEvent:
    def record(self):
        self.t = _time.perf_counter()
    def elapsed_time(self, end):   # milliseconds, as torch.cuda.Event's
        return 1e3 * (end.t - self.t)
def _cpu_synchronize():
    pass
class T:
    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)
        def __call__(self, x):
            return ((x - self.mean.to(x.dtype)) / self.std.to(x.dtype))
'''

# (original text, replacement, how many times it must occur)
PATCHES = (
    ("import torchvision\n", "", 1),
    ("import torchvision.transforms as T\n", "", 1),
    ("map_location=torch.device(gpu)", "map_location=torch.device('cpu')", 1),
    ("self.images.half()", "self.images.to(DTYPE)", 1),
    ("net = net.half().cuda()", "net = net.to(DTYPE)", 1),
    ("(torch.half, torch.float)", "(DTYPE, torch.float)", 1),
    ("torch.cuda.Event(enable_timing=True)", "_CpuEvent()", 2),
    ("torch.cuda.synchronize()", "_cpu_synchronize()", 3),
)


def patched_source(text: str) -> str:
    """The original's text with ``PATCHES`` applied; refuses a version where a patch does not match as stated."""
    for old, new, count in PATCHES:
        found = text.count(old)
        if found != count:
            raise ValueError(f"airbench94 source: {old!r} occurs {found} times, expected {count}: "
                             "not the reviewed version (commit 1b8f7949 of legacy/airbench94.py)")
        text = text.replace(old, new)
    leftover = [w for w in ("cuda.Event", ".half()", ".cuda()") if w in text]
    if leftover:
        raise ValueError(f"airbench94 source still has {leftover}")
    return text


def load(source: str | os.PathLike, dtype: str = "bfloat16") -> types.ModuleType:
    """Execute the patched original as a module (``__name__`` is not ``__main__``: its 25-run loop does not start)."""
    import torch
    module = types.ModuleType("airbench94_cpu_original")
    module.__dict__["_DTYPE"] = getattr(torch, dtype)
    text = Path(source).read_text()
    code = compile(PRELUDE + patched_source(text), str(source), "exec")
    exec(code, module.__dict__)   # noqa: S102 - the reviewed original, patched as listed above
    return module


def write_data(folder: Path, x_train, y_train, x_test, y_test) -> None:
    """``folder/train.pt`` and ``test.pt`` in the layout the original's CifarLoader saves (uint8 NHWC images)."""
    import numpy as np
    import torch
    folder.mkdir(parents=True, exist_ok=True)
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    for name, x, y in (("train.pt", x_train, y_train), ("test.pt", x_test, y_test)):
        torch.save({"images": torch.tensor(np.asarray(x, np.uint8)),
                    "labels": torch.tensor(np.asarray(y).reshape(-1), dtype=torch.long), "classes": classes},
                   folder / name)


def train(module: types.ModuleType, workdir: Path, run: int = 0, epochs: float | None = None,
          tta_level: int | None = None) -> dict:
    """One ``main(run)`` of the original in ``workdir`` (which holds ``cifar10/``): its per-epoch log as data."""
    import torch
    torch.manual_seed(run)
    if epochs is not None:
        module.hyp["opt"]["train_epochs"] = epochs
    if tta_level is not None:
        module.hyp["net"]["tta_level"] = tta_level
    log = []
    original = module.print_training_details

    def record(variables, is_final_entry):   # the original's logging hook, read instead of parsed
        log.append({"epoch": variables.get("epoch"), "val_acc": variables.get("val_acc"),
                    "tta_val_acc": variables.get("tta_val_acc"), "seconds": variables.get("total_time_seconds")})
        original(variables, is_final_entry)
    module.print_training_details = record
    cwd = os.getcwd()
    os.chdir(workdir)
    started = time.perf_counter()
    try:
        tta = module.main(run)
    finally:
        os.chdir(cwd)
        module.print_training_details = original
    return {"tta_val_acc": tta, "log": log, "wall_s": time.perf_counter() - started,
            "steps_per_epoch": 50_000 // module.hyp["opt"]["batch_size"],
            "train_epochs": module.hyp["opt"]["train_epochs"], "dtype": str(module.DTYPE)}
