"""Time one renderer in-process, in whichever interpreter runs this file (bench_compare runs it in each
side's venv): load and check the pipeline once, then render it ``repeat`` times.

    python bench/render_driver.py PIPELINE.yaml CONFIG.yaml [REPEAT]

Prints one JSON line: best render seconds, whether every render was byte-identical, and the size.
Uses the internal render API (``stepline.run.prepare``, ``stepline.orchestration.render``), which the
previous release must share; if it moves, this driver is where both sides are adapted.
"""

from __future__ import annotations

import json
import sys
import time


def main(pipeline: str, config: str, repeat: int = 5) -> None:
    from stepline.orchestration.render import RenderJob
    from stepline.run.prepare import prepare

    prepared = prepare(pipeline, config)
    job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file=pipeline,
                    config_file=config)
    best, texts = float("inf"), set()
    for _ in range(repeat):
        started = time.perf_counter()
        text = prepared.services.executor.render_text(job)
        best = min(best, time.perf_counter() - started)
        texts.add(text)
    print(json.dumps({"seconds": best, "identical": len(texts) == 1, "bytes": len(text.encode())}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:4]))
