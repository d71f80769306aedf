"""Speed of ``mirror()`` and ``run()`` on 1080p60 video, next to the I/O floor measured in the same run.

The I/O floor decodes the same clip and encodes what ``mirror()`` writes (two
full-size videos and the half-size debug video, same encoder and quality
preset) with no face work. The floor runs before and after the jobs; the
ratio pipeline/floor uses the best floor (the target is >= 0.8). A second
floor encodes mirror()'s own output pictures (decoded from its files before
the clock starts) instead of the input's: mirrored pictures cost x264 more,
and that cost is the outputs', not the pipeline's work. ``run()`` is
measured with the embedded blendshapes and with OpenFace 3.0's MTL on random
weights in the official layout. When ``auto`` runs the face networks on
another backend than ONNX Runtime (LiteRT, where installed), ``mirror()`` is
also measured with them on ONNX Runtime, side by side. The clip is the first
``--seconds`` of the cached 10 s clip of bench_video_io.py.

    python benchmarks/bench_mirror.py [--seconds 3] [--quality balanced] [--threads N] [--no-openface3]
                                      [--openface3-face]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import (
    CACHE,
    RETINAFACE_WEIGHTS,
    clip_prefix,
    decoded_frames,
    engines_line,
    io_floor,
    machine,
    machine_lines,
    md_table,
    quiet_pipeline,
    random_mtl_weights,
    write_result,
)
from facemirror.profiling import STAGE_ORDER, profile_dict, profile_from_timings
from facemirror.results import JobResult
from facemirror.settings import QUALITY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fixtures_star import write_star_checkpoint

MIRRORED_FLOOR = "I/O floor, mirror()'s own pictures"


def cpu_ms(profile: dict[str, Any]) -> float:
    """Process CPU milliseconds per frame (all threads)."""
    return 1000 * (profile["cpu_seconds"] or 0.0) / max(1, profile["frames"])


def job_row(name: str, profile: dict[str, Any], floor: dict[str, Any], mirrored: dict[str, Any] | None) -> list[str]:
    return [
        name,
        str(profile["frames"]),
        f"{profile['wall_seconds']:.1f}",
        f"{profile['fps']:.2f}",
        f"**{profile['fps'] / floor['fps']:.2f}**",
        f"{profile['fps'] / mirrored['fps']:.2f}" if mirrored else "",
        f"{cpu_ms(profile):.0f}",
        f"{cpu_ms(floor) / cpu_ms(profile):.2f}",
        f"{100 * (profile['cpu_share_of_all_cores'] or 0):.0f}%",
        f"{profile['bounding_thread']} ({100 * profile['bounding_busy_share']:.0f}% busy)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of the 1080p60 clip (max 10)")
    parser.add_argument("--quality", choices=list(QUALITY), default="balanced")
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default: its own choice)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of all jobs; the best of each is kept")
    parser.add_argument("--no-openface3", action="store_true", help="skip run() with the MTL network")
    parser.add_argument(
        "--openface3-face",
        action="store_true",
        help='also mirror() with face="openface3" (RetinaFace + STAR; STAR takes ~0.3 s a face here)',
    )
    parser.add_argument("--out", default="mirror", help="markdown name under benchmarks/results/")
    args = parser.parse_args()

    facts = machine()
    clip = clip_prefix(args.seconds)
    options: dict[str, Any] = {"quality": args.quality, "threads": args.threads}
    pipeline = quiet_pipeline(**options, load=["blendshapes"])
    # the same job with the face networks on ONNX Runtime, when auto chose another backend for them
    onnx_pipeline = None
    if any(e.info.backend != "onnx" for e in pipeline.face_tracker.engines().values()):
        onnx_pipeline = quiet_pipeline(**options, backend="onnx")
    of3 = None
    if not args.no_openface3:
        of3 = quiet_pipeline(**options, weights={"mtl": str(random_mtl_weights())}, load=["openface3"])
    # OpenFace 3.0's own face pipeline: RetinaFace (real weights) on the first frame and re-detections,
    # STAR (random weights in the official layout) on every frame
    of3_face = None
    if args.openface3_face:
        star = write_star_checkpoint(CACHE / "Landmark_98_random.pkl")
        weights = {"retinaface": str(RETINAFACE_WEIGHTS), "star": str(star)}
        of3_face = quiet_pipeline("openface3", **options, weights=weights)
    best: dict[str, dict[str, Any]] = {}
    results: dict[str, JobResult] = {}

    def keep(name: str, profile: dict[str, Any], result: JobResult | None = None) -> None:
        print(f"  {name}: {profile['fps']:.2f} fps", file=sys.stderr)
        if name not in best or profile["fps"] > best[name]["fps"]:
            best[name] = profile
            if result is not None:
                results[name] = result

    content: dict[str, list[Any]] = {}

    def floor(out: Path) -> None:
        f = io_floor(clip, out, quality=args.quality)
        keep("I/O floor", profile_from_timings(f["timings"], f["threads"], f["frames"]))
        if content:
            f = io_floor(clip, out, quality=args.quality, content=content)
            keep(MIRRORED_FLOOR, profile_from_timings(f["timings"], f["threads"], f["frames"]))

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for round_ in range(args.repeat):
            print(f"round {round_ + 1}/{args.repeat} on {clip.name}", file=sys.stderr)
            floor(out)
            jobs = {
                "mirror()": lambda: pipeline.mirror(clip, out / "mirror"),
                **(
                    {"mirror(), face nets on onnx": lambda: onnx_pipeline.mirror(clip, out / "mirror-onnx")}
                    if onnx_pipeline
                    else {}
                ),
                "run() blendshapes": lambda: pipeline.run(clip, out / "run-bs", au_model="blendshapes"),
            }
            if of3 is not None:
                jobs["run() openface3 (MTL)"] = lambda: of3.run(clip, out / "run-of3", au_model="openface3")
            if of3_face is not None:
                jobs['mirror() face="openface3" (RetinaFace + STAR)'] = lambda: of3_face.mirror(clip, out / "of3")
            for name, job in jobs.items():
                result = job()
                keep(name, profile_dict(result), result)
            if not content:
                content.update({side: decoded_frames(results["mirror()"].outputs[side]) for side in ("left", "right")})
            floor(out)
        content.clear()

    floor_best = best["I/O floor"]
    mirrored_best = best.get(MIRRORED_FLOOR)
    header = [
        "job",
        "frames",
        "seconds",
        "fps",
        "fps / floor",
        "fps / floor on mirrored pictures",
        "CPU ms/frame",
        "floor/job CPU",
        "CPU use",
        "bounding",
    ]
    rows = [job_row(name, p, floor_best, mirrored_best) for name, p in best.items()]
    profiles = {name: p for name, p in best.items() if name not in ("I/O floor", MIRRORED_FLOOR)}
    stage_cols = {"I/O floor": floor_best, **({MIRRORED_FLOOR: mirrored_best} if mirrored_best else {}), **profiles}
    stage_rows = []
    for stage in STAGE_ORDER:
        cells = [stage_cols[c]["stages"].get(stage) for c in stage_cols]
        if any(cells):
            stage_rows.append([stage] + [f"{c['ms_per_frame']:.1f}" if c else "" for c in cells])
    busy_rows = []
    for name, p in stage_cols.items():
        busy = ", ".join(
            f"{t} {100 * v['busy_share']:.0f}%" for t, v in p["threads"].items() if v["busy_share"] >= 0.05
        )
        busy_rows.append([name, busy])

    first = next(iter(results.values()))
    command = "python benchmarks/bench_mirror.py " + " ".join(sys.argv[1:])
    lines = [
        f"Clip: {clip.name}, {first.video.width}x{first.video.height} @ {float(first.video.fps):g} fps, "
        f"{first.frames} frames (a real face photo panned and zoomed; see bench_video_io.py).",
        f"Quality preset {args.quality!r} = x264 CRF/preset {QUALITY[args.quality]}; encoder {first.encoder}; "
        f"ONNX Runtime threads: {args.threads or 'default'}; debug video at half size.",
        "Engines: " + "; ".join(f"{name}: {engines_line(r.engines)}" for name, r in results.items()) + ".",
        *machine_lines(facts, " ".join(f"{x:.2f}" for x in os.getloadavg())),
        "",
        "## Throughput",
        "",
        *md_table(header, rows),
        "",
        f"Best of {args.repeat} round(s); the I/O floor ran before and after the jobs in each round "
        f"(the {MIRRORED_FLOOR!r} after them). fps / floor: the ratio to reach (target >= 0.8). "
        "fps / floor on mirrored pictures: the same against the floor that encodes mirror()'s own output "
        "pictures, which leaves out what the outputs themselves cost to encode. floor/job CPU: the same ratio "
        "from process CPU time per frame, which other processes on the machine disturb less (it is what a "
        "machine with every core free would show if both ran CPU-bound).",
        "",
        "## Milliseconds per frame by stage (each on its own thread; see `--profile`)",
        "",
        *md_table(["stage", *stage_cols], stage_rows),
        "",
        "## Busy time per thread (share of wall time, threads >= 5%)",
        "",
        *md_table(["job", "threads"], busy_rows),
    ]
    write_result(args.out, "mirror() / run() speed vs the I/O floor (1080p60)", command, lines)


if __name__ == "__main__":
    main()
