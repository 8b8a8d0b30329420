"""What the render benchmarks share: issue 19's render figure, measured one way for every renderer.

The figure is the time to load and check a pipeline file and render it, in-process, best of
``repeat`` (the first call also pays for imports and is shown apart), next to the target; and the
wall time of the ``stepline execute PIPELINE -c CONFIG`` that renders it from the command line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from common import run_cli

TARGET = 0.3  # seconds: load + check + render of a 1,000-node pipeline (issue 19)


@dataclass
class RenderTimes:
    first: float  # the first load + check + render of the process (imports included)
    load: float  # best load + check
    render: float  # best render (writing the output file included)
    total: float  # best load + check + render: the figure
    cpu: float  # best CPU seconds of the same (less sensitive to other processes on a shared machine)
    identical: bool  # every render wrote the same bytes
    size: int  # bytes written
    cli: float  # best wall time of `stepline execute` rendering it


def time_render(folder: Path, pipeline: str, config: str, repeat: int = 5) -> RenderTimes:
    """Load, check and render ``pipeline`` with ``config`` (files in ``folder``, the working folder)
    ``repeat`` times after a first call, then through the CLI 3 times."""
    import os

    from stepline.orchestration.render import RenderJob
    from stepline.run.prepare import prepare

    os.chdir(folder)
    loads, renders, totals, cpus, texts = [], [], [], [], set()
    for _ in range(repeat + 1):
        cpu = time.process_time()
        started = time.perf_counter()
        prepared = prepare(pipeline, config)
        loaded = time.perf_counter()
        job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file=pipeline,
                        config_file=config)
        written = Path(prepared.services.executor.render(job))
        done = time.perf_counter()
        cpus.append(time.process_time() - cpu)
        loads.append(loaded - started)
        renders.append(done - loaded)
        totals.append(done - started)
        texts.add(written.read_bytes())
    cli = min(run_cli(folder, "execute", pipeline, "-c", config)[0] for _ in range(3))
    return RenderTimes(first=totals[0], load=min(loads[1:]), render=min(renders[1:]), total=min(totals[1:]), cpu=min(cpus[1:]),
                       identical=len(texts) == 1, size=written.stat().st_size, cli=cli)


def report(name: str, nodes: int, times: RenderTimes) -> str:
    """One renderer's lines: the issue's figure against the target, then its parts."""
    verdict = "meets" if times.total < TARGET else "MISSES"
    same = "byte-identical" if times.identical else "RENDERS DIFFER"
    return (f"{name}: {nodes} nodes, load+check+render {times.total:.3f} s best of 5 "
            f"(target < {TARGET} s: {verdict}; CPU {times.cpu:.3f} s), {same}, {times.size / 1024:.0f} KiB\n"
            f"  parts: load+check {times.load:.3f} s + render {times.render:.3f} s;   first call in the "
            f"process (imports too) {times.first:.3f} s;   CLI `stepline execute` wall {times.cli:.3f} s")
