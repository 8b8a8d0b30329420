"""Functions the fixture scripts use as tasks (runnable's examples keep theirs in a module too)."""

import argparse
import os


def greet(name: str = "world"):
    print(f"hello {name}")
    return f"hello {name}"


def check_flag():
    if os.environ.get("should_pass", "false") != "true":
        raise ValueError("should_pass is not true")
    print("flag is set")


def settings(rate: float, args: argparse.Namespace):
    # everything not named above arrives on args
    print(f"rate={rate} epochs={args.epochs} label={args.label}")
    return rate * args.epochs


def count(counter: int):
    # the iteration number is also in the environment, under the loop's index_as
    from_env = int(os.environ["counter"])
    assert from_env == counter, (from_env, counter)
    print(f"python iteration {from_env}")
    return from_env, False


def check_final(counter: int, stop: bool):
    assert counter == 2 and stop is False, (counter, stop)
    print(f"loop ended at iteration {counter}")


def square(x: int):
    return x * x


def total(squares: list):
    print(f"total {sum(squares)}")
    return sum(squares)
