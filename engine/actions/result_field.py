"""Where a data step's result goes (Math Operation, Text Formatter): always the step's output, read by later
steps as {{ steps.<step id>.value }}, and, if the step names one, a contact field too."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from engine.actions.update_contact_field import STANDARD_FIELDS, _check_field, problem_with
from engine.context import StepContext
from engine.registry import Outcome, Result


def _check_save_to(value: str) -> None:
    if value:
        _check_field(value)


def save_to_field() -> fields.String:
    return fields.String(
        load_default="", validate=_check_save_to,
        metadata={"label": "Also save to contact field", "suggest": "contact_fields",
                  "help": f"Optional: {', '.join(STANDARD_FIELDS)}, or custom.<key>. Later steps read the result "
                          "as {{ steps.<this step's id>.value }} either way."})


def failed(message: str, **output: Any) -> Result:
    """The step fails with `message`: the run stops and the log says why."""
    return Result(Outcome.FAILED, output=output, error=message)


def finish(ctx: StepContext, value: Any, text: str, **output: Any) -> Result:
    """Hand on `value` (written as `text`) and save it to the chosen contact field, if any. An empty result
    never clears a field: the step is skipped, saying so, and later steps still read the empty value."""
    name = ctx.config.get("save_to") or ""
    if not name:
        return Result.go(ctx.step.next, value=value, **output)
    if text == "":
        return Result.skip(ctx.step.next, f"the result is empty, so {name} is left as it was", value=value,
                           field=name, **output)
    problem = problem_with(name, text)
    if problem:
        return failed(f"cannot save the result to {name}: {problem}", value=value, field=name, **output)
    # Custom fields keep numbers as numbers (as the contact API stores them); standard fields are text.
    ctx.store.set_field(ctx.contact, name, value if name.startswith("custom.") else text)
    return Result.go(ctx.step.next, value=value, field=name, **output)
