"""``mirror()`` before and after a change, side by side in one run: speed against the I/O floor, midline accuracy.

The older version is taken from git (``--before``, a commit; default the one
before the composable-pipeline redesign) into a temporary folder and run from
there in its own process; the current checkout runs the same way. Each round
runs the I/O floor, the older ``mirror()`` and the current ``mirror()`` in a
rotated order, each in a fresh process with its models loaded before the
clock. Speed is each job's frames per second over the floor's in the same
round (the median over rounds), so a busy machine slows all three alike.
Midline accuracy is measured on a real face made exactly symmetric and
animated (rotation up to 20 degrees, moving, zooming; tests/symmetric_face.py),
whose true midline is known in every frame, and on the same face held still
(the spread of the midline's position is its jitter).

    python benchmarks/bench_before_after.py [--before b577d9e^] [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_BEFORE = "b577d9e^"  # the commit before "composition redesign" (issue 11)
FPS = 30


# --- the worker: runs in its own process, with either version of facemirror on its path --------------------------


def worker(mode: str, clip: Path, out: Path, quality: str) -> dict[str, Any]:
    """One timed job in this process: ``floor`` or ``mirror`` (after an untimed warm-up that loads the models)."""
    if mode == "floor":
        sys.path.insert(0, str(HERE))
        from common import io_floor

        t0, c0 = time.perf_counter(), time.process_time()
        floor = io_floor(clip, out, quality=quality)
        return {"frames": floor["frames"], "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    import facemirror
    from facemirror import Pipeline

    try:  # the composable Pipeline groups its settings; the older one took them as keywords
        from facemirror import Outputs

        pipeline = Pipeline(outputs=Outputs(quality=quality), progress=False)
    except ImportError:
        pipeline = Pipeline(quality=quality, progress=False)  # type: ignore[call-arg]
    pipeline.mirror(clip, out / "warm-up")
    t0, c0 = time.perf_counter(), time.process_time()
    result = pipeline.mirror(clip, out / "job")
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "frames": result.frames,
        "seconds": seconds,
        "cpu": cpu,
        "midline_csv": str(result.outputs["midline_csv"]),
        "package": facemirror.__file__,
    }


# --- the parent: clips, versions, rounds, tables ------------------------------------------------------------------


def older_source(commit: str, into: Path) -> Path:
    """The ``src`` folder of ``commit`` (with its shipped weights where its package expects them)."""
    archive = into / "before.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), commit], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "before", filter="data")
    src = into / "before" / "src"
    (src / "facemirror" / "_bundled").symlink_to(into / "before" / "weights", target_is_directory=True)
    return src


def run_worker(src: Path, mode: str, clip: Path, out: Path, quality: str) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--worker", mode, "--clip", str(clip), "--out", str(out), "--quality", quality]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{mode} job with {src} failed:\n{done.stderr[-3000:]}")
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    if "package" in result and not Path(result["package"]).is_relative_to(src):
        sys.exit(f"the job meant for {src} imported facemirror from {result['package']}")
    return result


def symmetric_clips(cache: Path) -> dict[str, tuple[Path, list[tuple[tuple[float, float], float]]]]:
    """The moving and the still symmetric face at 1080p30 and their true midlines (point, angle), cached."""
    sys.path.insert(0, str(ROOT / "tests"))
    from facemirror.models.face_landmarker import FaceLandmarker
    from symmetric_face import HEIGHT, Pose, make_symmetric_face, moving_poses, render, write_video

    clips = {}
    face = None
    for kind in ("moving", "still"):
        path = cache / f"symmetric_{kind}.mp4"
        truth_path = path.with_suffix(".json")
        if not (path.exists() and truth_path.exists()):
            if face is None:
                face = make_symmetric_face(FaceLandmarker.from_weights(backend="onnx", with_blendshapes=False))
            base = 0.45 * HEIGHT / face.face_height
            still = Pose(angle=7.0, scale=base, cx=900, cy=560)
            poses = [still] * (4 * FPS) if kind == "still" else moving_poses(face, 4 * FPS, FPS)
            rendered = [render(face, pose) for pose in poses]
            write_video(path, [r[0] for r in rendered], FPS)
            truth_path.write_text(json.dumps([[list(r[1]), r[2]] for r in rendered]))
        truths = [(tuple(p), a) for p, a in json.loads(truth_path.read_text())]
        clips[kind] = (path, truths)
    return clips


def midline_errors(csv_path: Path, truths: list[tuple[tuple[float, float], float]]) -> dict[str, float]:
    """Angle and distance errors of a midline CSV against the true midlines, and the still-face jitter."""
    sys.path.insert(0, str(ROOT / "tests"))
    from symmetric_face import line_errors

    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    deg, px, crossings = [], [], []
    for row, (point, angle) in zip(rows, truths, strict=True):
        x, y, a = float(row["midline_x"]), float(row["midline_y"]), float(row["midline_angle_deg"])
        e_deg, e_px = line_errors(point, angle, (x, y), a)
        deg.append(e_deg)
        px.append(e_px)
        crossings.append(x - math.tan(math.radians(a)) * (point[1] - y))  # where it crosses the face centre's row
    return {
        "median_deg": statistics.median(deg),
        "max_deg": max(deg),
        "median_px": statistics.median(px),
        "max_px": max(px),
        "jitter_px": statistics.pstdev(crossings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="the older commit (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of the 1080p60 clip for speed")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of floor / before / after")
    parser.add_argument("--quality", default="balanced")
    parser.add_argument("--out", default="before_after", help="markdown name under benchmarks/results/")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--clip", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.clip), Path(args.out), args.quality)))
        return

    from common import CACHE, clip_prefix, machine, machine_lines, md_table, write_result

    facts = machine()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.before], capture_output=True, text=True, check=True
    ).stdout.strip()
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    clip = clip_prefix(args.seconds)
    symmetric = symmetric_clips(CACHE)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        versions = {f"before ({commit})": older_source(args.before, tmp_path), f"after ({head})": ROOT / "src"}
        jobs = {"I/O floor": ("floor", ROOT / "src")} | {name: ("mirror", src) for name, src in versions.items()}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
        names = list(jobs)
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                mode, src = jobs[name]
                run = run_worker(src, mode, clip, tmp_path / f"{r}-{len(runs[name])}-{mode}", args.quality)
                run["round"] = r
                runs[name].append(run)
                print(f"round {r + 1}: {name}: {run['frames'] / run['seconds']:.2f} fps", file=sys.stderr)
        accuracy = {}
        for name, src in versions.items():
            for kind, (path, truths) in symmetric.items():
                run = run_worker(src, "mirror", path, tmp_path / f"acc-{kind}-{len(accuracy)}", args.quality)
                accuracy[(name, kind)] = midline_errors(Path(run["midline_csv"]), truths)

    def fps(run: dict[str, Any]) -> float:
        return float(run["frames"] / run["seconds"])

    floor_by_round = {run["round"]: run for run in runs["I/O floor"]}
    speed_rows = []
    for name, job_runs in runs.items():
        ratios = [fps(run) / fps(floor_by_round[run["round"]]) for run in job_runs]
        cpu = [1000 * run["cpu"] / run["frames"] for run in job_runs]
        speed_rows.append(
            [
                name,
                str(job_runs[0]["frames"]),
                " / ".join(f"{fps(run):.2f}" for run in job_runs),
                f"**{statistics.median(ratios):.2f}**",
                f"{min(ratios):.2f}-{max(ratios):.2f}",
                f"{statistics.median(cpu):.0f}",
            ]
        )
    accuracy_rows = [
        [
            name,
            kind,
            f"{e['median_deg']:.3f}",
            f"{e['max_deg']:.3f}",
            f"{e['median_px']:.3f}",
            f"{e['max_px']:.3f}",
            f"{e['jitter_px']:.3f}" if kind == "still" else "",
        ]
        for (name, kind), e in accuracy.items()
    ]
    lines = [
        f"Speed clip: {clip.name} (1920x1080 at 60 fps, a real face panned and zoomed; bench_video_io.py). "
        f"Accuracy clips: a real face made exactly symmetric, {4 * FPS} frames of 1080p30 each, moving "
        "(rotation up to 20 degrees, translation, zoom) and still (tilted 7 degrees).",
        f"Each job ran in a fresh process with its models loaded before the clock; quality {args.quality!r}; "
        "the debug video at half size; both versions' defaults otherwise.",
        *machine_lines(facts, " ".join(f"{x:.2f}" for x in os.getloadavg())),
        "",
        f"## mirror() speed against the I/O floor, {args.rounds} rounds (order rotated each round)",
        "",
        *md_table(
            ["job", "frames", "fps per round", "fps / floor (median)", "fps / floor (range)", "CPU ms/frame"],
            speed_rows,
        ),
        "",
        "## Midline accuracy on a face of known symmetry",
        "",
        *md_table(
            ["version", "clip", "median deg", "max deg", "median px", "max px", "still jitter px (sd)"],
            accuracy_rows,
        ),
    ]
    command = "python benchmarks/bench_before_after.py " + " ".join(sys.argv[1:])
    write_result(args.out, "mirror() before and after, side by side", command, lines)


if __name__ == "__main__":
    main()
