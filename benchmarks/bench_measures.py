"""What the clinical measures cost per 1080p frame: each step alone, and ``measure()`` with and without the field.

Steps, on frames of the 1080p60 clip (a real face, about 500 px tall), each
the median process CPU time over the frames with OpenCV on one thread: the
landmark-only measures (``frame_measures``), the mirror-flow asymmetry field
(``MeasureRecorder.field_for``), the rest of ``MeasureRecorder.add`` given the
field (the correction of every mirror pair, the measures again, key frames),
and the face tracker for scale. Then ``measure()`` on the same clip with the
field (default) and without it (``Measures(flow=False)``), interleaved
``--repeat`` times, with the threads' busy shares.

    python benchmarks/bench_measures.py [--seconds 1] [--frames 20] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

from common import clip_prefix, machine, machine_lines, md_table, quiet_pipeline, write_result
from facemirror import Measures, Outputs, Pipeline
from facemirror.measures import MeasureRecorder, frame_measures
from facemirror.mirror.midline import estimate_midline
from facemirror.profiling import profile_dict
from facemirror.video import VideoReader


def cpu_ms(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """(process CPU milliseconds of one call ``fn(*args)``, its result)."""
    t0 = time.process_time()
    out = fn(*args)
    return 1000 * (time.process_time() - t0), out


def step_costs(clip: Path, frames: int) -> dict[str, float]:
    """Median CPU ms per frame of each step, on the first ``frames`` frames of ``clip``."""
    tracker = quiet_pipeline(threads=1).face_tracker
    recorder = MeasureRecorder(Measures())
    costs: dict[str, list[float]] = {"face tracker": [], "landmark measures": [], "field": [], "rest of add": []}
    cv2.setNumThreads(1)
    try:
        with VideoReader(clip) as reader:
            for frame in reader:
                if frame.index >= frames:
                    break
                ms, face = cpu_ms(tracker.track, frame.image, frame.timestamp)
                costs["face tracker"].append(ms)
                if face is None:
                    continue
                midline = estimate_midline(face.landmarks, face.layout)
                ms, _ = cpu_ms(frame_measures, face.landmarks, face.layout, midline)
                costs["landmark measures"].append(ms)
                ms, field = cpu_ms(recorder.field_for, frame.image, face.landmarks, midline)
                costs["field"].append(ms)
                args = (frame.index + 1, frame.timestamp, frame.image, face.landmarks, face.layout, midline)
                ms, _ = cpu_ms(recorder.add, *args, 0.0, field)
                costs["rest of add"].append(ms)
    finally:
        cv2.setNumThreads(-1)
    return {name: statistics.median(values[1:] or values) for name, values in costs.items() if values}


def job(pipeline: Pipeline, clip: Path, out: Path) -> dict[str, Any]:
    result = pipeline.measure(clip, out)
    return profile_dict(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds of the 1080p60 clip for measure()")
    parser.add_argument("--frames", type=int, default=20, help="frames for the per-step costs")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds of the two measure() jobs")
    args = parser.parse_args()
    facts = machine()
    clip = clip_prefix(args.seconds)
    steps = step_costs(clip, args.frames)

    outputs = Outputs(quality="fast")
    jobs = {
        "measure(), with the field": Pipeline(outputs=outputs, progress=False),
        "measure(), landmarks only (flow=False)": Pipeline(
            outputs=outputs, measures=Measures(flow=False), progress=False
        ),
    }
    for pipeline in jobs.values():
        pipeline.face_tracker  # noqa: B018  (load outside the clock)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            for name, pipeline in jobs.items():
                profile = job(pipeline, clip, Path(tmp) / f"{round_}")
                runs[name].append(profile)
                print(f"  {name}: {profile['fps']:.2f} fps", file=sys.stderr)

    step_rows = [[name, f"{ms:.1f}"] for name, ms in steps.items()]
    job_rows = []
    for name, profiles in runs.items():
        best = max(profiles, key=lambda p: p["fps"])
        cpu = 1000 * (best["cpu_seconds"] or 0.0) / max(1, best["frames"])
        busy = ", ".join(
            f"{t} {100 * v['busy_share']:.0f}%" for t, v in best["threads"].items() if v["busy_share"] >= 0.05
        )
        job_rows.append([name, str(best["frames"]), f"{best['fps']:.2f}", f"{cpu:.0f}", busy])
    lines = [
        f"Clip: {clip.name} (a real face photo panned and zoomed at 1920x1080, the face about 500 px tall).",
        *machine_lines(facts, " ".join(f"{x:.2f}" for x in os.getloadavg())),
        "",
        f"## CPU ms per 1080p frame, each step alone (OpenCV on 1 thread, median over {args.frames} frames)",
        "",
        *md_table(["step", "ms"], step_rows),
        "",
        "`rest of add`: what `MeasureRecorder.add` does given the field (the correction of every mirror pair and "
        "of the measures' own points, the measures again, the key frames). The measures' cost per frame is "
        "`landmark measures` without the field, `field + rest of add` with it.",
        "",
        f"## measure() on {args.seconds:g} s of the clip (best of {args.repeat} interleaved rounds)",
        "",
        *md_table(["job", "frames", "fps", "CPU ms/frame", "threads (busy share of wall time)"], job_rows),
        "",
        "The fields of successive frames are made at once on `Measures.flow_threads` threads (default half the "
        f"cores, here {max(1, (os.cpu_count() or 1) // 2)}).",
    ]
    command = "python benchmarks/bench_measures.py " + " ".join(sys.argv[1:])
    write_result("measures", "Cost of the clinical measures at 1080p", command, lines)


if __name__ == "__main__":
    main()
