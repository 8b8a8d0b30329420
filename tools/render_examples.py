"""Render every example pipeline with every renderer into one folder, to compare renders before and
after a change (``diff -r``) without keeping golden files in the repository.

    uv run --no-sync python tools/render_examples.py OUT_FOLDER

Each ``examples/*/*.yaml`` pipeline is rendered with the demo-renderer, argo and step-functions
(standard configurations below) and with every renderer configuration the example ships; a render
that fails writes its one-line error instead, so a change in errors shows up too.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {
    "demo-renderer": {"executor": {"type": "demo-renderer"}},
    "argo": {"executor": {"type": "argo", "config": {"image": "x:1", "persistent_volumes": [
        {"name": "v", "mount_path": "/mnt"}]}},
             "run_log_store": {"type": "chunked-fs", "config": {"log_folder": "/mnt/runs"}},
             "catalog": {"type": "file-system", "config": {"catalog_location": "/mnt/catalog"}}},
    "step-functions": {"executor": {"type": "step-functions", "config": {
        "job_queue": "q", "job_definition": "d", "exchange_location": "s3://bucket/exchange"}},
        "run_log_store": {"type": "chunked-fsspec", "config": {"location": "s3://bucket/runs"}},
        "catalog": {"type": "fsspec", "config": {"location": "s3://bucket/catalog"}}},
}
RENDERERS = {"demo-renderer", "argo", "step-functions"}


def is_pipeline(path: Path) -> bool:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return False
    return isinstance(raw, dict) and ("dag" in raw or "pipeline" in raw)


def own_configs(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text())
        if isinstance(raw, dict) and (raw.get("executor") or {}).get("type") in RENDERERS:
            found.append(path)
    return found


def render_one(pipeline: Path, config: Path, params: Path | None) -> str:
    from stepline.errors import StepLineError
    from stepline.orchestration.render import RenderJob
    from stepline.run.prepare import prepare

    os.chdir(pipeline.parent)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prepared = prepare(pipeline.name, str(config))
            job = RenderJob(graph=prepared.graph, services=prepared.services, pipeline_file=pipeline.name,
                            config_file=config.name if config.parent == pipeline.parent else "config.yaml",
                            params_file=params.name if params else None)
            return prepared.services.executor.render_text(job)
    except StepLineError as exc:  # the output folder is left out, so two runs compare equal
        return f"error: {exc}\n".replace(str(config.parent), "CONFIGS")


def main() -> None:
    out = Path(sys.argv[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("S3_BUCKET", "bucket")
    standard = out / "_configs"
    standard.mkdir(exist_ok=True)
    for name, config in CONFIGS.items():
        (standard / f"{name}.yaml").write_text(yaml.safe_dump(config))
    for folder in sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir()):
        params = folder / "params.yaml" if (folder / "params.yaml").is_file() else None
        configs = [standard / f"{n}.yaml" for n in CONFIGS] + own_configs(folder)
        for pipeline in sorted(p for p in folder.glob("*.yaml") if is_pipeline(p)):
            for config in configs:
                tag = config.stem if config.parent == standard else f"own-{config.stem}"
                text = render_one(pipeline, config, params)
                (out / f"{folder.name}--{pipeline.stem}--{tag}.txt").write_text(text)
    print(f"rendered into {out}: {len(list(out.glob('*.txt')))} files")


if __name__ == "__main__":
    main()
