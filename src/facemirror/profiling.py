"""Where a job's time went: per-stage and per-thread time, model costs, and the stage that bounds throughput.

The pipeline's stages run on their own threads (decode, face stage, mirror
stage, one encoder per video, one AU worker), so their times overlap:
shares of wall time can add up to more than 100%. What limits throughput is
the thread with the most busy time (work, not time blocked on a queue), or,
when the process already uses every core, the CPU itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facemirror.atomic import AtomicFile, OutputGroup
from facemirror.timing import WAIT_PREFIX

if TYPE_CHECKING:
    from facemirror.results import JobResult

#: stages in pipeline order (others follow alphabetically)
STAGE_ORDER = (
    "decode",
    "landmarks",
    "midline",
    "head_pose",
    "reflection",
    "debug",
    "frame_copy",
    "encode-left",
    "encode-right",
    "encode-debug",
    "au_crop",
    "au_preprocess",
    "blendshapes",
    "au_model",
)
#: stages that run a network or per-frame model maths, reported as mean ms per call
MODEL_STAGES = (
    "landmarks",
    "midline",
    "head_pose",
    "reflection",
    "debug",
    "au_crop",
    "au_preprocess",
    "blendshapes",
    "au_model",
)
#: the timings entries that are not stages
_TOTALS = ("total", "cpu")
#: a process using at least this share of all cores is CPU-bound, whatever its threads do
CPU_BOUND_SHARE = 0.9


def _order(stage: str) -> tuple[int, int, str]:
    wait = stage.startswith(WAIT_PREFIX)
    known = STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)
    return (wait, known, stage)


def thread_label(name: str) -> str:
    """A short name for a pipeline thread: ``facemirror-encode-left`` -> ``encode-left``."""
    return name.removeprefix("facemirror-")


def profile_from_timings(
    timings: Mapping[str, Mapping[str, float]],
    threads: Mapping[str, Mapping[str, float]],
    frames: int,
    *,
    cores: int | None = None,
) -> dict[str, Any]:
    """The profile as a dict, from ``StageTimes.as_dict()`` and ``StageTimes.threads()`` and the frame count."""
    wall = float(timings.get("total", {}).get("seconds", 0.0))
    cpu = timings.get("cpu", {}).get("seconds")
    cores = cores or os.cpu_count() or 1
    stages: dict[str, dict[str, Any]] = {}
    for name in sorted((s for s in timings if s not in _TOTALS), key=_order):
        t = timings[name]
        seconds, calls = float(t["seconds"]), int(t["calls"])
        stages[name] = {
            "seconds": seconds,
            "calls": calls,
            "ms_per_call": 1000 * seconds / calls if calls else 0.0,
            "ms_per_frame": 1000 * seconds / frames if frames else 0.0,
            "share": seconds / wall if wall else 0.0,
            "thread": "+".join(sorted(thread_label(t) for t, spent in threads.items() if name in spent)) or "?",
            "wait": name.startswith(WAIT_PREFIX),
        }
    per_thread: dict[str, dict[str, Any]] = {}
    for thread, spent in threads.items():
        work = {k: v for k, v in spent.items() if not k.startswith(WAIT_PREFIX)}
        busy = sum(work.values())
        per_thread[thread_label(thread)] = {
            "busy_seconds": busy,
            "wait_seconds": sum(v for k, v in spent.items() if k.startswith(WAIT_PREFIX)),
            "busy_share": busy / wall if wall else 0.0,
            "stages": sorted(work, key=lambda k: -work[k]),
        }
    per_thread = dict(sorted(per_thread.items(), key=lambda kv: -kv[1]["busy_seconds"]))
    bound = next(iter(per_thread), None)
    cpu_share = float(cpu) / (wall * cores) if (cpu is not None and wall) else None
    return {
        "frames": frames,
        "wall_seconds": wall,
        "fps": frames / wall if wall else 0.0,
        "cpu_seconds": float(cpu) if cpu is not None else None,
        "cores": cores,
        "cpu_share_of_all_cores": cpu_share,
        "cpu_bound": cpu_share is not None and cpu_share >= CPU_BOUND_SHARE,
        "stages": stages,
        "stage_share_sum": sum(s["share"] for s in stages.values() if not s["wait"]),
        "models": {
            name: {k: stages[name][k] for k in ("calls", "ms_per_call", "ms_per_frame")}
            for name in MODEL_STAGES
            if name in stages
        },
        "threads": per_thread,
        "bounding_thread": bound,
        "bounding_stages": per_thread[bound]["stages"] if bound else [],
        "bounding_busy_share": per_thread[bound]["busy_share"] if bound else 0.0,
    }


def profile_dict(result: JobResult) -> dict[str, Any]:
    """The profile of a finished job as plain data (what ``.profile.json`` holds)."""
    data = profile_from_timings(result.timings, result.threads, result.frames)
    return {
        "input": str(result.input),
        "job": result.job,
        "video": f"{result.video.width}x{result.video.height} @ {float(result.video.fps):.3f} fps",
        "encoder": result.encoder,
        "engines": {name: f"{e.get('backend', '?')}/{e.get('provider', '?')}" for name, e in result.engines.items()},
        **data,
    }


def format_profile(data: Mapping[str, Any]) -> str:
    """The text report of a profile dict (from :func:`profile_dict` or :func:`profile_from_timings`)."""
    head = f"Profile of {Path(data['input']).name} ({data['job']}, {data['video']})" if "input" in data else "Profile"
    lines = [head, f"  {data['frames']} frames in {data['wall_seconds']:.2f} s = {data['fps']:.1f} frames/s"]
    if data["cpu_seconds"] is not None:
        lines.append(
            f"  CPU: {data['cpu_seconds']:.2f} s process time = {100 * data['cpu_share_of_all_cores']:.0f}% "
            f"of all {data['cores']} cores"
        )
    if data.get("engines"):
        lines.append("  engines: " + ", ".join(f"{k} {v}" for k, v in data["engines"].items()))
    if data.get("encoder"):
        lines.append(f"  encoder: {data['encoder']}")
    lines += [
        "",
        f"{'stage':<24} {'thread':<16} {'seconds':>8} {'share':>7} {'calls':>7} {'ms/call':>9} {'ms/frame':>9}",
    ]
    for name, s in data["stages"].items():
        lines.append(
            f"{name:<24} {s['thread']:<16} {s['seconds']:>8.2f} {100 * s['share']:>6.0f}% {s['calls']:>7d} "
            f"{s['ms_per_call']:>9.2f} {s['ms_per_frame']:>9.2f}"
        )
    lines += [
        "",
        f"Shares are of wall time. The stages run on different threads at once, so the work stages add up to "
        f"{100 * data['stage_share_sum']:.0f}% (more than 100% means overlap); wait:get/wait:put rows are time "
        "blocked on a queue (get: starved of input, put: the next stage is full).",
        "",
        "Busy time per thread (work, not queue waits):",
        f"{'thread':<16} {'busy s':>8} {'busy':>6} {'wait s':>8}  stages",
    ]
    for name, t in data["threads"].items():
        lines.append(
            f"{name:<16} {t['busy_seconds']:>8.2f} {100 * t['busy_share']:>5.0f}% {t['wait_seconds']:>8.2f}  "
            + ", ".join(t["stages"])
        )
    if data["models"]:
        lines += ["", "Models (mean per call; au_model runs a batch per call):"]
        lines += [
            f"  {name:<12} {m['ms_per_call']:>8.2f} ms x {m['calls']} calls ({m['ms_per_frame']:.2f} ms/frame)"
            for name, m in data["models"].items()
        ]
    lines.append("")
    if data["bounding_thread"] is not None:
        lines.append(
            f"Bounding stage: {', '.join(data['bounding_stages']) or '(untimed work)'} on thread "
            f"{data['bounding_thread']}, busy {100 * data['bounding_busy_share']:.0f}% of the wall time."
        )
    if data["cpu_bound"]:
        lines.append(
            f"The process used {100 * data['cpu_share_of_all_cores']:.0f}% of all cores: it is CPU-bound, so "
            "cutting any stage's CPU time speeds it up, not only the bounding one."
        )
    return "\n".join(lines) + "\n"


def profile_report(result: JobResult) -> str:
    """A text report of where ``result``'s time went (what ``--profile`` prints)."""
    return format_profile(profile_dict(result))


def profile_base(result: JobResult) -> Path:
    """``<output folder>/<stem>`` to which ``.profile.txt``/``.profile.json`` are appended."""
    if "csv" in result.outputs:
        return result.outputs["csv"].with_suffix("")
    return next(iter(result.outputs.values())).parent / result.input.stem


def write_profile(result: JobResult, group: OutputGroup | None = None) -> dict[str, Path]:
    """Write ``<stem>.profile.txt`` and ``<stem>.profile.json`` beside the job's outputs; returns their paths.

    With ``group`` (the job's :class:`~facemirror.atomic.OutputGroup`) they are renamed together with the outputs.
    """
    data = profile_dict(result)
    base = profile_base(result)
    paths = {"profile": Path(f"{base}.profile.txt"), "profile_json": Path(f"{base}.profile.json")}
    texts = {"profile": format_profile(data), "profile_json": json.dumps(data, indent=2) + "\n"}
    files = OutputGroup() if group is None else group
    for key, path in paths.items():
        files.add(AtomicFile(path, texts[key]))
    files.finish()
    if group is None:
        files.commit()
    return paths
