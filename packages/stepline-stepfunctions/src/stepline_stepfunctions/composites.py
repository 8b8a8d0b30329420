"""The state shapes of composite steps (parallel/dag, map, conditional, loop), each a function of
the renderer that adds the step's states to ``states``."""

from __future__ import annotations

import hashlib
from typing import Any

from stepline.api import StepLineError

from stepline_stepfunctions.scope import Scope, join


def parallel(r, node, name, template, scope, states, me, nxt, on_fail, overrides) -> None:
    """``fan out`` -> Parallel of the branches -> ``fan in``."""
    branches = node.branch_graphs()
    if not branches:
        raise StepLineError("a parallel step needs at least one branch", file=r.source, step=template)
    fan_in = r.state_name(f"{me} (fan in)")
    body = r.state_name(f"{me} (branches)")
    states[me] = r.attach(r.fan(me, template, scope, name, "out", relay=False, overrides=overrides), on_fail, body)
    states[body] = {"Type": "Parallel",
                    "Branches": [r.sub(g, Scope(scope.dynamic, join(join(scope.rel, name), key), join(template, key)))
                                 for key, g in branches.items()],
                    "ResultPath": None, "Catch": r.catch(fan_in), "Next": fan_in}
    states[fan_in] = r.attach(r.fan(me, template, scope, name, "in", relay=False, overrides=overrides), on_fail, nxt)


def map_(r, node, name, template, scope, states, me, nxt, on_fail, overrides) -> None:
    """``fan out`` (through the relay) -> ``read`` -> Map over the keys -> ``fan in``."""
    read = r.state_name(f"{me} (read branches)")
    body = r.state_name(f"{me} (map)")
    fan_in = r.state_name(f"{me} (fan in)")
    items = [str(x) for x in r.tasks.result(template, [])]
    states[me] = r.attach(r.fan(me, template, scope, name, "out", relay=True, overrides=overrides), on_fail, read)
    states[read] = r.attach(r.reader(scope, name, "out", {"items": items}), fan_in, body)
    inner = Scope(True, "", join(template, "*"))
    processor = r.sub(node.branch, inner)
    mapped: dict[str, Any] = {"Type": "Map", "ItemsPath": "$.fan.items",
                              "ItemSelector": {"branch.$": r.branch_expr(scope, name, "$$.Map.Item.Value")}}
    if r.s.map_mode == "distributed":
        processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        mapped["Label"] = "stepline-" + hashlib.sha256(template.encode()).hexdigest()[:12]
    else:
        processor["ProcessorConfig"] = {"Mode": "INLINE"}
    mapped["ItemProcessor"] = processor
    if r.s.max_concurrency:
        mapped["MaxConcurrency"] = r.s.max_concurrency
    mapped.update({"ResultPath": None, "Catch": r.catch(fan_in), "Next": fan_in})
    states[body] = mapped
    states[fan_in] = r.attach(r.fan(me, template, scope, name, "in", relay=False, overrides=overrides), on_fail, nxt)


def conditional(r, node, name, template, scope, states, me, nxt, on_fail, overrides) -> None:
    """``fan out`` -> ``read`` -> Choice on the key -> a one-branch Parallel -> ``fan in``."""
    read = r.state_name(f"{me} (read branch)")
    choice = r.state_name(f"{me} (choose)")
    fan_in = r.state_name(f"{me} (fan in)")
    taken = r.tasks.result(template, next(iter(node.branch_graphs())))
    states[me] = r.attach(r.fan(me, template, scope, name, "out", relay=True, overrides=overrides), on_fail, read)
    states[read] = r.attach(r.reader(scope, name, "out", {"items": [str(taken)]}), fan_in, choice)
    choices = []
    for key, g in node.branch_graphs().items():
        branch_state = r.state_name(f"{me} ({key})")
        states[branch_state] = {"Type": "Parallel",
                                "Branches": [r.sub(g, Scope(scope.dynamic, join(join(scope.rel, name), key),
                                                            join(template, key)))],
                                "ResultPath": None, "Catch": r.catch(fan_in), "Next": fan_in}
        choices.append({"Variable": "$.fan.items[0]", "StringEquals": key, "Next": branch_state})
    # fan out fails when nothing matches and there is no default; fan in then records it
    states[choice] = {"Type": "Choice", "Choices": choices, "Default": fan_in}
    states[fan_in] = r.attach(r.fan(me, template, scope, name, "in", relay=False, overrides=overrides), on_fail, nxt)


def loop(r, node, name, template, scope, states, me, nxt, on_fail, overrides) -> None:
    """A counter -> ``fan out`` -> one-branch Parallel -> ``fan in`` -> ``read`` -> Choice back to
    the counter's increment until the loop is done or ``max_iterations``."""
    fan_out = r.state_name(f"{me} (fan out)")
    body = r.state_name(f"{me} (iteration)")
    fan_in = r.state_name(f"{me} (fan in)")
    read = r.state_name(f"{me} (read decision)")
    check = r.state_name(f"{me} (check)")
    again = r.state_name(f"{me} (next iteration)")
    states[me] = {"Type": "Pass", "Result": {"i": 0}, "ResultPath": "$.loop", "Next": fan_out}
    states[fan_out] = r.attach(r.fan(fan_out, template, scope, name, "out", relay=False,
                                     overrides=overrides, loop=True), on_fail, body)
    states[body] = {"Type": "Parallel",
                    "Branches": [r.sub(node.branch, Scope(True, "", join(template, "*")))],
                    "Parameters": {"branch.$": r.branch_expr(scope, name, "$.loop.i")},
                    "ResultPath": None, "Catch": r.catch(fan_in), "Next": fan_in}
    # fan in --iteration N prints continue (exit 0), SUCCESS (exit 0) or FAIL (exit 1)
    fan_in_state = r.fan(me, template, scope, name, "in", relay=True, overrides=overrides, loop=True)
    states[fan_in] = r.attach(fan_in_state, on_fail, read)
    breaks = r.tasks.result(template)
    if breaks is None:
        answer: dict[str, Any] = {"answer": "continue"}
    else:
        answers = ", ".join(["'continue'"] * int(breaks) + ["'SUCCESS'"])
        answer = {"answer.$": f"States.ArrayGetItem(States.Array({answers}), $.loop.i)"}
    states[read] = r.attach(r.reader(scope, name, "in", answer, loop=True, field="answer"), on_fail, check)
    # bounded by the machine too: never more than max_iterations, whatever the answer
    states[check] = {"Type": "Choice", "Choices": [{"And": [
        {"Variable": "$.fan.answer", "StringEquals": "continue"},
        {"Variable": "$.loop.i", "NumericLessThan": node.max_iterations - 1}], "Next": again}],
        "Default": nxt}
    states[again] = {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.loop.i, 1)"},
                     "ResultPath": "$.loop", "Next": fan_out}


#: node type -> the function adding its states
SHAPES = {"parallel": parallel, "dag": parallel, "map": map_, "conditional": conditional, "loop": loop}
