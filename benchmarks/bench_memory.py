"""Peak memory (RSS) of ``run()`` on a short and a long clip: it must stay flat (target < 1.5 GB).

Each run is its own subprocess, so its peak RSS (VmHWM; ``ru_maxrss`` off Linux) is its own;
the child also samples its RSS every half second, to show that memory does
not grow along the video. 10 minutes of 1080p60 takes hours on a 2-core
machine, so by default the pair is 640x360 at 30 fps, 10 s and 1 min, made
from the cached 1080p60 clip (resized, resampled and looped forwards and
backwards, then cached); ``--long-seconds 600`` gives the 10-minute run and
``--hd`` adds the 10 s 1080p60 clip itself.

    python benchmarks/bench_memory.py [--long-seconds 60] [--width 640 --height 360 --fps 30] [--hd]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import (
    machine,
    machine_lines,
    make_clip,
    md_table,
    quiet_pipeline,
    random_mtl_weights,
    scaled_looped_clip,
    write_result,
)

SAMPLE_S = 0.5


def rss_mib() -> float:
    """This process's resident set size now (MiB), from /proc/self/statm."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """This process's peak RSS (MiB): VmHWM on Linux, else ru_maxrss.

    On Linux ru_maxrss survives fork+exec, so a child started by a parent that
    once held more would report the parent's peak; VmHWM belongs to this
    process image only.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def measure(clip: Path, au_model: str) -> dict[str, Any]:
    """Run ``run()`` on ``clip`` in this process; peak RSS and RSS samples along the run."""
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        start = time.perf_counter()
        while not stop.wait(SAMPLE_S):
            samples.append((time.perf_counter() - start, rss_mib()))

    weights = {"mtl": str(random_mtl_weights())} if au_model == "openface3" else None
    pipeline = quiet_pipeline(au_model=au_model, weights=weights)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with tempfile.TemporaryDirectory() as tmp:
        result = pipeline.run(clip, tmp)
    stop.set()
    sampler.join()
    return {
        "frames": result.frames,
        "seconds": result.timings["total"]["seconds"],
        "fps": result.fps,
        "peak_rss_mib": peak_rss_mib(),
        "samples": samples,
    }


def quarters(samples: list[tuple[float, float]]) -> str:
    """Max RSS in each quarter of the run (MiB): flat memory gives four similar numbers."""
    if not samples:
        return ""
    end = samples[-1][0]
    out = []
    for q in range(4):
        part = [r for t, r in samples if q * end / 4 <= t <= (q + 1) * end / 4]
        out.append(f"{max(part):.0f}" if part else "-")
    return " / ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short-seconds", type=float, default=10)
    parser.add_argument("--long-seconds", type=float, default=60)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--hd", action="store_true", help="also measure the 10 s 1080p60 clip")
    parser.add_argument(
        "--au-model", default="blendshapes", choices=["blendshapes", "openface3"], help="openface3: random MTL weights"
    )
    parser.add_argument("--out", default="memory", help="markdown name under benchmarks/results/")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.au_model)))
        return

    facts = machine()
    clips = {
        f"{args.short_seconds:g} s": scaled_looped_clip(args.short_seconds, args.width, args.height, args.fps),
        f"{args.long_seconds:g} s": scaled_looped_clip(args.long_seconds, args.width, args.height, args.fps),
    }
    if args.hd:
        clips["10 s 1080p60"] = make_clip()
    results = {}
    for name, clip in clips.items():
        print(f"run() on {clip.name} ...", file=sys.stderr)
        cmd = [sys.executable, __file__, "--measure", str(clip), "--au-model", args.au_model]
        child = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results[name] = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"  peak RSS {results[name]['peak_rss_mib']:.0f} MiB, {results[name]['fps']:.1f} fps", file=sys.stderr)

    rows = [
        [
            f"{name} ({clips[name].name})",
            r["frames"],
            f"{r['seconds']:.0f}",
            f"{r['fps']:.1f}",
            f"{r['peak_rss_mib']:.0f}",
            quarters(r["samples"]),
        ]
        for name, r in results.items()
    ]
    command = "python benchmarks/bench_memory.py " + " ".join(sys.argv[1:])
    weights_note = " (random MTL weights)" if args.au_model == "openface3" else ""
    lines = [
        f"`run()` with au_model={args.au_model!r}{weights_note}, default backends (auto), default quality "
        "(x264 veryfast), debug video on. "
        f"Clips: {args.width}x{args.height} @ {args.fps} fps made from the 1080p60 clip of a real face "
        "(10 minutes at 1080p60 would take hours on this machine).",
        *machine_lines(facts, " ".join(f"{x:.2f}" for x in os.getloadavg())),
        "",
        *md_table(["clip", "frames", "seconds", "fps", "peak RSS (MiB)", "max RSS per quarter of the run (MiB)"], rows),
        "",
        "Target: peak < 1536 MiB and the same for the short and the long clip (memory does not grow with length).",
    ]
    write_result(args.out, "Peak memory of run()", command, lines)


if __name__ == "__main__":
    main()
