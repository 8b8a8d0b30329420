"""Render a Stepline graph as an Amazon States Language (ASL) state machine.

Shape (state names are derived from step paths, so two renders give identical bytes):

- the machine starts with ``start run`` (creates the run log; the run id is the execution name,
  ``$$.Execution.Name``) and ends through ``finish run`` / ``finish run (failed)``;
- a task or stub is a Task state (``batch:submitJob.sync`` or ``ecs:runTask.sync``) running
  ``stepline execute-single-node RUN STEP -f PIPELINE -c CONFIG``; Retry for AWS-side errors,
  Catch (``States.ALL``) to the step's ``on_failure`` or the graph's fail step;
- a parallel or dag is ``fan out`` -> Parallel -> ``fan in``;
- a map is ``fan out`` (through the relay, which stores the printed branch keys on S3) ->
  ``read`` (``aws-sdk:s3:getObject``) -> Map over the keys -> ``fan in``;
- a conditional is ``fan out`` -> ``read`` -> Choice on the key -> a one-branch Parallel -> ``fan in``;
- a loop is a counter (Pass) -> ``fan out`` -> one-branch Parallel -> ``fan in`` -> ``read`` ->
  Choice that goes back to the counter's increment until the loop is done or ``max_iterations``.

Modules: this one (names, callback commands, graphs, the whole machine); :mod:`.composites` (the
shapes above); :mod:`.compute` (Batch/ECS Task states); :mod:`.stand_ins` (real tasks or test
stand-ins, chosen once); :mod:`.intrinsics` (intrinsic-function arguments).

Inside maps and loops the internal name of a step is built at run time from ``$.branch`` (the
branch prefix the Map's ItemSelector / the loop's Parameters set) with ``States.Format``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from stepline.api import (
    STEPLINE,
    NotSupportedError,
    StepLineError,
    fan_command,
    finish_run_command,
    reachable_from,
    single_node_command,
    start_run_command,
)

from stepline_stepfunctions.composites import SHAPES
from stepline_stepfunctions.compute import RUN_ID
from stepline_stepfunctions.intrinsics import Expr, fmt, lit
from stepline_stepfunctions.scope import Scope
from stepline_stepfunctions.scope import join as _join
from stepline_stepfunctions.stand_ins import tasks_for

# placeholders handed to the core's callback command builders, replaced by intrinsic expressions
_RUN, _STEP, _ITER = "\0run", "\0step", "\0iteration"
MAX_NAME = 80
SUPPORTED = ("task", "stub", "success", "fail", "parallel", "map", "conditional", "loop", "dag")


def _reached(start: str, states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``states`` without those no transition enters (``finish run`` of a pipeline that always fails)."""
    seen, stack = set(), [start]
    while stack:
        name = stack.pop()
        if name in seen or name not in states:
            continue
        seen.add(name)
        state = states[name]
        stack += [t for t in (state.get("Next"), state.get("Default")) if t]
        stack += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", []) if "Next" in c]
    return {name: state for name, state in states.items() if name in seen}


class Renderer:
    def __init__(self, executor, *, pipeline_file: str, config_file: str | None,
                 params_file: str | None = None) -> None:
        self.executor = executor
        self.s = executor.settings
        self.pipeline_file = self.s.pipeline_file or pipeline_file
        self.config_file = self.s.config_file or config_file
        self.params_file = self.s.parameters_file or params_file
        self.source = pipeline_file
        self.names: dict[str, str] = {}  # state name -> the template it was made for
        self.tasks = tasks_for(self.s, self.state_name)  # real compute or test stand-ins, chosen once

    # ---- names and command pieces --------------------------------------------------------------
    def state_name(self, label: str) -> str:
        """A unique ASL state name (at most 80 characters) for ``label``; stable across renders."""
        name = label
        if len(name) > MAX_NAME:
            digest = hashlib.sha256(label.encode()).hexdigest()[:8]
            name = f"{label[:MAX_NAME - 10]}~{digest}"
        if self.names.setdefault(name, label) != label:
            raise StepLineError(f"two states would both be named {name!r}", file=self.source,
                                hint="rename one of the steps")
        return name

    def path_expr(self, scope: Scope, name: str) -> str:
        """An intrinsic-function argument giving the internal name of step ``name`` in ``scope``."""
        rel = _join(scope.rel, name)
        if scope.dynamic:
            return fmt(Expr("$.branch"), "." + rel)
        return lit(rel)

    def branch_expr(self, scope: Scope, rel_suffix: str, key_path: str) -> str:
        """``States.Format`` of a new branch prefix: the scope's prefix, ``rel_suffix``, the key."""
        rel = _join(scope.rel, rel_suffix)
        if scope.dynamic:
            return fmt(Expr("$.branch"), f".{rel}.", Expr(key_path))
        return fmt(f"{rel}.", Expr(key_path))

    def files(self) -> list[str]:
        found = ["-f", self.pipeline_file]
        if self.config_file:
            found += ["-c", self.config_file]
        return found

    def command(self, args: list[str]) -> str:
        """``States.Array(...)`` of the container command; ``args`` are intrinsic arguments."""
        return "States.Array(" + ", ".join(args) + ")"

    def lit(self, text: str) -> str:
        return lit(text)

    def base_args(self) -> list[str]:
        return [self.lit(part) for part in self.s.stepline_command]

    def callback_args(self, argv: list[str], subs: dict[str, str]) -> list[str]:
        """Intrinsic arguments of a callback argv from the core's command builders, whose
        placeholders (the run id, the step path, ...) become expressions."""
        args: list[str] = []
        for i, part in enumerate(argv):
            if i == 0 and part == STEPLINE:
                args += self.base_args()
            else:
                args.append(subs[part] if part in subs else self.lit(part))
        return args

    def leaf_command(self, scope: Scope, name: str) -> str:
        argv = single_node_command(_RUN, _STEP, self.pipeline_file, self.config_file)
        return self.command(self.callback_args(argv, {_RUN: RUN_ID, _STEP: self.path_expr(scope, name)}))

    def fan_command(self, scope: Scope, name: str, direction: str, relay: bool, loop: bool = False) -> str:
        argv = fan_command(_RUN, _STEP, direction, self.pipeline_file, self.config_file,
                           iteration=_ITER if loop else None)
        subs = {_RUN: RUN_ID, _STEP: self.path_expr(scope, name), _ITER: "States.Format('{}', $.loop.i)"}
        args = self.callback_args(argv, subs)
        if relay:
            bucket, key = self.exchange_key_expr(scope, name, direction, loop=loop)
            return self.command([self.lit("python"), self.lit("-m"), self.lit("stepline_stepfunctions.relay"),
                                 fmt(f"s3://{bucket}/", Expr(key)), self.lit("--")] + args)
        return self.command(args)

    def run_command(self, phase: str) -> str:
        if phase == "start":
            argv = start_run_command(_RUN, self.pipeline_file, self.config_file, self.params_file)
        else:
            argv = finish_run_command(_RUN, self.pipeline_file, self.config_file)
        return self.command(self.callback_args(argv, {_RUN: RUN_ID}))

    def exchange(self, step: str) -> tuple[str, str]:
        location = self.s.exchange_location
        if not location:
            raise StepLineError("map, conditional and loop steps hand their fan-out result to the state machine "
                                "through S3, but exchange_location is not set", file=self.source, step=step,
                                hint="set executor.config.exchange_location: s3://BUCKET/PREFIX")
        bucket, _, prefix = location[len("s3://"):].partition("/")
        return bucket, prefix.strip("/")

    def exchange_key_expr(self, scope: Scope, name: str, direction: str, loop: bool = False) -> tuple[str, str]:
        """The S3 key where the relay stores what ``fan STEP direction`` printed (one per loop iteration)."""
        bucket, prefix = self.exchange(_join(scope.template, name))
        rel = _join(scope.rel, name)
        head = f"{prefix}/" if prefix else ""
        tail: list[str] = [f".{rel}.{direction}", *([".", Expr("$.loop.i")] if loop else []), ".json"]
        if scope.dynamic:
            return bucket, fmt(head, Expr(RUN_ID), "/", Expr("$.branch"), *tail)
        return bucket, fmt(head, Expr(RUN_ID), "/", *[t[1:] if i == 0 else t for i, t in enumerate(tail)])

    # ---- states ------------------------------------------------------------------------------------
    def reader(self, scope: Scope, name: str, direction: str, simulated: dict[str, Any], loop: bool = False,
               field: str = "items") -> dict[str, Any]:
        """The state that reads what the relay stored into ``$.fan.<field>`` (``simulated`` for stand-ins)."""
        bucket, key = self.exchange_key_expr(scope, name, direction, loop=loop)
        return self.tasks.reader(bucket, key, field, simulated)

    def attach(self, state: dict[str, Any], catch: str | None, nxt: str | None) -> dict[str, Any]:
        """``state`` with its Catch (not on Pass stand-ins, which cannot fail) and Next."""
        state = dict(state)
        if catch and state["Type"] != "Pass":
            state["Catch"] = self.catch(catch)
        state["Next"] = nxt
        return state

    @staticmethod
    def catch(target: str) -> list[dict[str, Any]]:
        return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": target}]

    # ---- graphs ----------------------------------------------------------------------------------
    def graph(self, graph, scope: Scope, entry: list[tuple[str, dict[str, Any]]] | None = None) -> dict[str, Any]:
        """``{"StartAt", "States"}`` of ``graph``. ``entry`` states run first (start run)."""
        states: dict[str, dict[str, Any]] = {}
        first: dict[str, str] = {}   # step name -> its first state's name
        # a step no path reaches (the implicit success of a pipeline that always fails) would be a
        # state the machine never enters, which Step Functions refuses
        reached = reachable_from(graph, graph.start_at, at_run_time=True)
        steps = {name: node for name, node in graph.steps.items() if name in reached}
        for name, node in steps.items():
            first[name] = self.state_name(self.label(scope, name, node))
        for name, node in steps.items():
            self.node(graph, name, node, scope, states, first)
        start = first[graph.start_at]
        if entry:
            for i, (state_name, state) in enumerate(entry):
                state["Next"] = entry[i + 1][0] if i + 1 < len(entry) else start
            states = {**{n: s for n, s in entry}, **states}
            start = entry[0][0]
        return {"StartAt": start, "States": states}

    def label(self, scope: Scope, name: str, node) -> str:
        return _join(scope.template, name)

    def node(self, graph, name: str, node, scope: Scope, states: dict, first: dict[str, str]) -> None:
        template = _join(scope.template, name)
        if node.type not in SUPPORTED:
            raise NotSupportedError(f"the step-functions executor cannot express '{node.type}' steps",
                                    file=self.source, step=template,
                                    hint=f"it renders: {', '.join(SUPPORTED)}")
        me = first[name]
        nxt = first[node.next] if node.next else None
        on_fail = first[graph.failure_target(name)] if not node.terminal else None
        if node.terminal:
            # the callback records the success/fail node (a fail node exits 1), then the graph ends
            if scope.top:
                after = self.finish_ok if node.type == "success" else self.finish_failed
                states[me] = self.attach(self.tasks.callback(me, template, self.leaf_command(scope, name)), after, after)
                return
            fail_end = self.state_name(f"{first[graph.fail_name]} (end)")
            if node.type == "success":
                end = self.state_name(f"{me} (end)")
                states[me] = self.attach(self.tasks.callback(me, template, self.leaf_command(scope, name)), fail_end, end)
                states[end] = {"Type": "Succeed"}
            else:
                states[me] = self.attach(self.tasks.callback(me, template, self.leaf_command(scope, name)), fail_end,
                                         fail_end)
                states[fail_end] = {"Type": "Fail", "Error": "Stepline.BranchFailed",
                                    "Cause": f"the branch ended in step '{template}'"}
            return
        overrides = self.overrides(node, template)
        if not node.composite:
            state = self.tasks.callback(me, template, self.leaf_command(scope, name), overrides, stand_in=template)
            retry = self.tasks.retry(node)
            if retry:
                state["Retry"] = retry
            states[me] = self.attach(state, on_fail, nxt)
            return
        SHAPES[node.type](self, node, name, template, scope, states, me, nxt, on_fail, overrides)

    def overrides(self, node, template: str) -> dict[str, Any]:
        found = self.executor.step_overrides(node)
        allowed = {"job_queue", "job_definition", "cluster", "task_definition", "container_name", "environment"}
        bad = sorted(set(found) - allowed)
        if bad:
            raise StepLineError(f"unknown step-functions override '{bad[0]}'", file=self.source, step=template,
                                hint=f"overrides: {', '.join(sorted(allowed))}")
        return found

    def fan(self, me: str, template: str, scope: Scope, name: str, direction: str, *, relay: bool,
            overrides: dict[str, Any], loop: bool = False) -> dict[str, Any]:
        label = f"{me} (fan {direction})" if direction == "in" else me
        return self.tasks.callback(label, template, self.fan_command(scope, name, direction, relay, loop), overrides,
                             stand_in=f"{template}:{direction}")

    def sub(self, graph, scope: Scope) -> dict[str, Any]:
        body = self.graph(graph, scope)
        if not body["States"]:
            raise StepLineError("a branch has no states", file=self.source, step=scope.template)
        return body

    # ---- whole machine ---------------------------------------------------------------------------
    def machine(self, graph) -> dict[str, Any]:
        top = Scope(False, "", "", top=True)
        start = self.state_name("start run")
        self.finish_ok = self.state_name("finish run")
        self.finish_failed = self.state_name("finish run (failed)")
        succeeded, failed = self.state_name("run succeeded"), self.state_name("run failed")
        entry = [(start, self.attach(self.tasks.callback(start, "", self.run_command("start")), failed, None))]
        body = self.graph(graph, top, entry=entry)
        # finish-run sets the run's status from its steps and exits 1 when the run failed
        finish = self.run_command("finish")
        body["States"][self.finish_ok] = self.attach(self.tasks.callback(self.finish_ok, "", finish), failed, succeeded)
        body["States"][self.finish_failed] = self.attach(self.tasks.callback(self.finish_failed, "", finish), failed, failed)
        body["States"][succeeded] = {"Type": "Succeed"}
        body["States"][failed] = {"Type": "Fail", "Error": "Stepline.RunFailed",
                                  "Cause": "the run failed: stepline runs show RUN_ID (the execution name) tells why"}
        body["States"] = _reached(body["StartAt"], body["States"])
        machine: dict[str, Any] = {"Comment": self.s.comment or f"Stepline pipeline {self.source}"}
        machine.update(body)
        if self.s.timeout_seconds:
            machine["TimeoutSeconds"] = self.s.timeout_seconds
        self.tasks.check_names(self.source)
        return machine

    def document(self, graph) -> dict[str, Any]:
        machine = self.machine(graph)
        if self.s.output_format == "asl":
            return machine
        props: dict[str, Any] = {"RoleArn": self.s.role_arn, "Definition": machine}
        if self.s.state_machine_name:
            props["StateMachineName"] = self.s.state_machine_name
        return {"AWSTemplateFormatVersion": "2010-09-09",
                "Description": f"Stepline pipeline {self.source}",
                "Resources": {"StateMachine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": props}},
                "Outputs": {"StateMachineArn": {"Value": {"Ref": "StateMachine"}}}}


def render_document(graph, executor, *, pipeline_file: str, config_file: str | None,
                    params_file: str | None = None) -> dict[str, Any]:
    return Renderer(executor, pipeline_file=pipeline_file, config_file=config_file,
                    params_file=params_file).document(graph)


#: Step Functions refuses definitions larger than this (bytes).
MAX_DEFINITION = 1024 * 1024


def render_text(graph, executor, *, pipeline_file: str, config_file: str | None, params_file: str | None = None) -> str:
    """Indented JSON; compact JSON when the definition is over half of Step Functions' 1 MiB limit
    (indentation could pass it, and is slow to write); an error when even compact JSON is too large."""
    document = render_document(graph, executor, pipeline_file=pipeline_file, config_file=config_file,
                               params_file=params_file)
    compact = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    size = len(compact.encode())
    if size > MAX_DEFINITION:
        raise NotSupportedError(f"the state machine would be {size:,} bytes; Step Functions accepts at most "
                                f"{MAX_DEFINITION:,}", file=pipeline_file,
                                hint="split the pipeline, or move repeated parts into a map")
    if size > MAX_DEFINITION // 2:  # indentation (slow to write) would likely pass the limit: stay compact
        return compact
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return text if len(text.encode()) <= MAX_DEFINITION else compact
