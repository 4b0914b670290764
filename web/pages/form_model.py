"""A posted form read with the JSON API's own pydantic model.

The API's models (``web/api/schemas.py``) hold every limit a value must keep; a
page reads its form with the same model, so a form and a JSON body are refused
for the same reasons. Two things differ, and are handled here:

- a form is text: the model validates in lax mode ("42" is a number here), and a
  blank field is left out (so its default applies or it is "required"), except
  for free text, where blank is a value the domain judges;
- a person reads the messages: each pydantic error becomes a sentence built from
  the field's :class:`Label` ("Age must be a whole number.") and is put next to
  the form field it came from (``names`` maps the model's ``care_history.0.kind``
  to the form's ``care-2-kind``);
- a person fixes the whole form in one pass: the domain's own rules on values that
  need no other (``rules``: "the question is required", "a specialist needs a
  specialty") run on what was typed even when another field is already wrong, so
  every problem is shown at once, not one more on each submit.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from conference.errors import InvalidInput
from web.pages.forms import Form, apply_error

B = TypeVar("B", bound=BaseModel)
Shape = Callable[[Form], tuple[dict[str, Any], Mapping[str, str]]]
# The domain's checks on the values as typed (the shaped data): raise InvalidInput
# (or InvalidInputs, see conference.errors.gather) for every problem found.
Rules = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class Label:
    """How messages name a field: ``Label("Age")`` says "Age is required.";
    ``Label("urgency", choice=True)`` says "Choose urgency.". ``required`` and
    ``invalid`` replace the sentence for a missing or a wrong value, where the
    domain says it better ("A case gets 1 to 120 minutes.")."""

    text: str
    choice: bool = False
    required: str | None = None
    invalid: str | None = None


def message(error: ErrorDetails, label: Label | None) -> str:
    """One pydantic error as a sentence about the field."""
    if label is None:
        return f"{error['msg']}."
    kind, ctx, name = error["type"], error.get("ctx") or {}, label.text
    if kind in ("missing", "none_required") or (
            kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1):
        if label.required:
            return label.required
        return f"Choose {name}." if label.choice else f"{name} is required."
    if label.invalid:
        return label.invalid
    if kind == "enum":
        return f"{error['input']!r} is not a valid {name}."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{name} must be a whole number."
    if kind.startswith("date"):
        return f"{name} must be a date (YYYY-MM-DD)."
    if kind in ("greater_than_equal", "greater_than"):
        return f"{name} must be at least {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"{name} must be at most {ctx.get('le', ctx.get('lt'))}."
    if kind in ("string_too_long", "too_long"):
        return f"{name} is too long: at most {ctx.get('max_length')}."
    return f"{name}: {error['msg'][:1].lower()}{error['msg'][1:]}."


def _bare(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_text(annotation: Any) -> bool:
    annotation = _bare(annotation)
    if annotation is str:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_text(a) for a in get_args(annotation) if a is not type(None))
    return False


def _is_list(annotation: Any) -> bool:
    annotation = _bare(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation) if a is not type(None))
    return get_origin(annotation) is list


def fields_of(form: Form, model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """The model's fields as the form has them (``prefix`` + name): lists from
    repeated values, free text as typed, anything else left out when blank."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        if _is_list(info.annotation):
            values = [v for v in form.getlist(key) if v.strip()]
            if values or key in form.data:
                data[name] = values
        elif _is_text(info.annotation):
            if key in form.data:
                data[name] = form.get(key)
        elif form.text(key):
            data[name] = form.text(key)
    return data


def rows_of(form: Form, model: type[BaseModel], *, field: str, prefix: str, minimum: int,
            defaults: Mapping[str, str] | None = None,
            ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Repeated rows ``<prefix>-<row>-<name>`` as the list ``field`` of ``model``s,
    leaving out untouched rows (blank, or at their ``defaults``), and a map from
    each entry's fields (``field.0.name``) to the form row's (``prefix-2-name``)."""
    entries: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for row in range(form.rows(prefix, minimum)):
        start = f"{prefix}-{row}-"
        if all(form.text(start + n) in ("", (defaults or {}).get(n, ""))
               for n in model.model_fields):
            continue
        for name in model.model_fields:
            names[f"{field}.{len(entries)}.{name}"] = start + name
        entries.append(fields_of(form, model, start))
    return entries, names


def _pattern(loc: tuple[int | str, ...]) -> str:
    return ".".join("*" if isinstance(part, int) else str(part) for part in loc)


class FormModel(Generic[B]):
    """Reads a form into ``model``. ``shape`` builds the model's input from the form
    when it is not flat (rows of treatments) and says which form field each part
    came from; ``labels`` (keys like ``care_history.*.kind``) name the fields;
    ``rules`` are the domain's checks that judge the typed values on their own."""

    def __init__(self, model: type[B], *, labels: Mapping[str, Label],
                 shape: Shape | None = None, rules: Rules | None = None) -> None:
        self.model = model
        self.labels = labels
        self.shape = shape
        self.rules = rules

    def read(self, form: Form) -> B:
        """The valid body, or :class:`FormInvalid` with each problem on its field."""
        data, names = self.shape(form) if self.shape else (fields_of(form, self.model), {})
        for name, to in names.items():  # the domain names list entries field[0].name
            form.aliases[name] = to
            first, _, rest = name.partition(".")
            index, _, last = rest.partition(".")
            if index.isdigit():
                form.aliases[f"{first}[{index}].{last}"] = to
        body: B | None = None
        try:
            body = self.model.model_validate(data, strict=False)
        except ValidationError as exc:
            for error in exc.errors():
                loc = ".".join(str(part) for part in error["loc"])
                form.fail(names.get(loc, loc), message(error, self.labels.get(
                    _pattern(error["loc"]))))
        if self.rules is not None:
            try:  # after the model's messages: a field keeps its first one
                self.rules(data)
            except InvalidInput as exc:
                apply_error(form, exc)
        form.check()  # the model's, the rules' and what ``shape`` found (a time zone)
        assert body is not None
        return body
