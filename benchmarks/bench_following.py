"""Which person ``mirror()`` follows, second by second, on clips with more than one person: before and after a change.

The clips are the tests' (tests/multi_face_clips.py: real faces from
``../shared/media/multi_face.jpg``, 640x360 at 30 fps, 150 frames) with every
person's true face box in every frame: a panned group, a larger face walking in
after the subject is followed, and the subject leaving while another person
stays, then coming back. Each frame's followed face (the midline CSV's face box,
or in versions without one the raw midline point, which lies on the face) is
assigned to the person whose true box holds it; ``-`` is a frame without a face.
Per second: the person followed most, then every person seen in that second.
The older version runs from git (``--before``) in its own process, as in
bench_before_after.py.

    python benchmarks/bench_following.py [--before b577d9e^]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

CLIPS = ("panned_group", "walk_in", "leave_and_return")


def worker(out: Path) -> dict[str, dict[str, object]]:
    """Mirror each clip with this process's facemirror; per clip the person per frame and the largest midline jump."""
    import numpy as np

    import multi_face_clips
    from facemirror import Pipeline

    try:  # the composable Pipeline groups its settings; the older one took them as keywords
        from facemirror import Outputs

        pipeline = Pipeline(outputs=Outputs(quality="fast", debug_video=False), progress=False)
    except ImportError:
        pipeline = Pipeline(quality="fast", debug_video=False, progress=False)  # type: ignore[call-arg]
    found: dict[str, dict[str, object]] = {}
    for name in CLIPS:
        clip = getattr(multi_face_clips, name)(out / f"{name}.mp4")
        with open(pipeline.mirror(clip.path, out / name).outputs["midline_csv"], newline="") as f:
            rows = list(csv.DictReader(f))
        who = []
        for frame, row in enumerate(rows):
            if row.get("face_x1"):
                x = (float(row["face_x1"]) + float(row["face_x2"])) / 2
                point = [x, (float(row["face_y1"]) + float(row["face_y2"])) / 2]
            elif row.get("raw_midline_x"):
                point = [float(row["raw_midline_x"]), float(row["raw_midline_y"])]
            else:
                who.append("-")
                continue
            person = clip.person_at(frame, np.array(point))
            who.append("?" if person is None else str(person))
        xs = np.array([float(r["midline_x"]) if r["midline_x"] else np.nan for r in rows])
        jumps = np.abs(np.diff(xs))
        found[name] = {"who": who, "max_jump_px": float(np.nanmax(jumps)) if np.isfinite(jumps).any() else math.nan}
    return found


def per_second(who: list[str], fps: int = 30) -> str:
    """``0, 0, 1/01, -/-0``: per second the person followed most, then (when more than one) everyone followed."""
    cells = []
    for start in range(0, len(who), fps):
        second = who[start : start + fps]
        most = max(sorted(set(second)), key=second.count)
        seen = "".join(sorted(set(second)))
        cells.append(most if len(seen) == 1 else f"{most}/{seen}")
    return ", ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="b577d9e^", help="the older commit (default: %(default)s)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(Path(args.worker))))
        return

    from bench_before_after import older_source
    from common import machine, machine_lines, md_table, write_result

    facts = machine()
    short = {
        ref: subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", ref], capture_output=True, text=True
        ).stdout.strip()
        for ref in (args.before, "HEAD")
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, src in (("before", older_source(args.before, Path(tmp))), ("after", ROOT / "src")):
            out = Path(tmp) / f"{label}-outputs"
            out.mkdir()
            env = {**os.environ, "PYTHONPATH": str(src)}
            done = subprocess.run(
                [sys.executable, __file__, "--worker", str(out)], env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                sys.exit(f"the {label} version failed:\n{done.stderr[-3000:]}")
            results[label] = json.loads(done.stdout.strip().splitlines()[-1])
            print(label, {k: per_second(v["who"]) for k, v in results[label].items()})
    rows = []
    for name in CLIPS:
        for label in ("before", "after"):
            found = results[label][name]
            version = f"{label} ({short[args.before if label == 'before' else 'HEAD']})"
            rows.append([name, version, per_second(found["who"]), f"{found['max_jump_px']:.2f}"])
    lines = [
        "Clips: tests/multi_face_clips.py (real faces from multi_face.jpg, 640x360, 30 fps, 150 frames). Person 0 is "
        "the face the primary rule picks at the start (the largest, then the most central); `-`: no face followed; "
        "`?`: a box on no one.",
        *machine_lines(facts),
        "",
        *md_table(["clip", "version", "followed person per second (most / all)", "largest midline step, px"], rows),
    ]
    title = "Which person mirror() follows, before and after"
    write_result("following", title, "python benchmarks/bench_following.py", lines)


if __name__ == "__main__":
    main()
