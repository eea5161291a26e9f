"""Math Operation: add, subtract, multiply, divide or round numbers, or move a date by days, weeks, months or
years. The inputs are templates (a contact field, a run variable or a constant), read when the step runs;
the result is the step's output (`value`) and, if chosen, a contact field.

A value that is not a number or a date, or a division by zero, fails the step with a message naming it.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine import arithmetic, dates
from engine.actions.fields import Template
from engine.actions.result_field import failed, finish, save_to_field
from engine.arithmetic import BINARY_OPERATIONS, shown
from engine.registry import Action, Result, register

INPUT_MAX = 500
OPERATIONS = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "divide": "Divide", "round": "Round",
              "date_add": "Add time to a date", "date_subtract": "Subtract time from a date"}
DATE_OPERATIONS = ("date_add", "date_subtract")


class MathOperationConfig(Schema):
    operation = fields.String(load_default="add", validate=validate.OneOf(list(OPERATIONS)),
                              metadata={"label": "Operation", "choice_labels": OPERATIONS})
    value = Template(required=True, validate=validate.Length(min=1, max=INPUT_MAX),
                     metadata={"label": "Value", "help": "A number or a date (YYYY-MM-DD, or today): a merge field "
                                                         "such as {{ contact.custom.score }}, or a constant."})
    operand = Template(validate=validate.Length(max=INPUT_MAX),
                       metadata={"label": "Second number", "help": "A merge field or a constant.",
                                 "required_if": {"field": "operation", "value": "add"},
                                 "shown_if": {"field": "operation", "in": list(BINARY_OPERATIONS)}})
    decimals = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=arithmetic.MAX_DECIMALS),
                              metadata={"label": "Decimal places", "shown_if": {"field": "operation", "in": ["round"]}})
    amount = Template(load_default="1", validate=validate.Length(min=1, max=INPUT_MAX),
                      metadata={"label": "Amount", "help": "A whole number: a merge field or a constant.",
                                "shown_if": {"field": "operation", "in": list(DATE_OPERATIONS)}})
    unit = fields.String(load_default="days", validate=validate.OneOf(list(dates.UNITS)),
                         metadata={"label": "Unit", "shown_if": {"field": "operation", "in": list(DATE_OPERATIONS)}})
    save_to = save_to_field()

    @validates_schema
    def _operand_when_needed(self, data, **_):
        if data["operation"] in BINARY_OPERATIONS and not (data.get("operand") or "").strip():
            raise ValidationError(f"Give the number to {data['operation']} by.", "operand")


def _read(ctx, name: str, label: str) -> str:
    """A rendered input; ValueError if it renders empty (naming the template, so the empty field shows)."""
    template = ctx.config[name]
    text = ctx.render(template).strip()
    if not text:
        raise ValueError(f"the {label} is empty (from {shown(template)})")
    return text


@register
class MathOperation(Action):
    type = "math_operation"
    label = "Math Operation"
    category = "Internal Tools"
    description = ("Adds, subtracts, multiplies, divides or rounds numbers, or adds time to a date; the result "
                   "goes to a contact field or a variable for later steps.")
    schema = MathOperationConfig
    outputs = {"value": "Result"}

    def run(self, ctx):
        operation = ctx.config["operation"]
        try:
            if operation in DATE_OPERATIONS:
                return self._on_date(ctx, operation)
            return self._on_numbers(ctx, operation)
        except ValueError as exc:  # a bad input is the step's failure, told in the log; never a crash
            return failed(str(exc), operation=operation)

    def _on_numbers(self, ctx, operation: str) -> Result:
        value = _parse(_read(ctx, "value", "value"), "value")
        operand = None
        if operation in BINARY_OPERATIONS:
            operand = _parse(_read(ctx, "operand", "second number"), "second number")
        result = arithmetic.calculate(operation, value, operand, ctx.config.get("decimals", 0))
        inputs = [value] if operand is None else [value, operand]
        return finish(ctx, arithmetic.as_json_number(result), arithmetic.as_text(result), operation=operation,
                      inputs=[arithmetic.as_text(number) for number in inputs])

    def _on_date(self, ctx, operation: str) -> Result:
        zone = dates.contact_zone(ctx.contact.timezone)
        moment = dates.parse_date(_read(ctx, "value", "date"), ctx.now, zone)
        amount_text = _read(ctx, "amount", "amount")
        amount = _parse(amount_text, "amount")
        if amount != amount.to_integral_value():
            raise ValueError(f"the amount {shown(amount_text)} is not a whole number")
        unit = ctx.config.get("unit", "days")
        step = int(amount) if operation == "date_add" else -int(amount)
        text = dates.as_text(dates.shift(moment, step, unit))
        return finish(ctx, text, text, operation=operation, date=dates.as_text(moment), amount=int(amount), unit=unit)


def _parse(text: str, label: str):
    try:
        return arithmetic.parse_number(text)
    except ValueError as exc:
        raise ValueError(f"the {label} {exc}") from None
