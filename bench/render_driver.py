"""Time one renderer in-process, in whichever interpreter runs this file (bench_compare runs it in each
side's venv), ``repeat`` times.

    python bench/render_driver.py PIPELINE.yaml CONFIG.yaml [REPEAT]

Each time: load and check the pipeline and its config (``prepare``), then render. Prints one JSON
line: the best load+check+render and the best render alone (seconds), whether every render was
byte-identical, the size and the sha256 of the render (bench_compare compares it across processes).
Uses the internal render API (``stepline.run.prepare``, ``stepline.orchestration.render``), which the
previous release must share; if it moves, this driver is where both sides are adapted.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time


def main(pipeline: str, config: str, repeat: int = 5) -> None:
    from stepline.orchestration.render import RenderJob
    from stepline.run.prepare import prepare

    total = render = float("inf")
    texts = set()
    for _ in range(repeat):
        started = time.perf_counter()
        prepared = prepare(pipeline, config)
        job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file=pipeline,
                        config_file=config)
        checked = time.perf_counter()
        text = prepared.services.executor.render_text(job)
        done = time.perf_counter()
        total, render = min(total, done - started), min(render, done - checked)
        texts.add(text)
    data = text.encode()
    print(json.dumps({"total": total, "render": render, "identical": len(texts) == 1, "bytes": len(data),
                      "sha256": hashlib.sha256(data).hexdigest()}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:4]))
