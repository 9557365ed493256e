"""Declaring an operation: one declaration per request shape (DESIGN.md §5).

A view states its summary, parameters, request body schema, success responses and the
errors it can give with `@declare(...)`, under its route decorator:

    @bp.post("/v1/things")
    @declare("Add a thing", tag="things", body=schemas.thing, ok={201: schemas.THING},
             errors=(400, 413, 415, 422, 503), explain=lambda body: check_thing(body))
    def add_thing(): ...

api/openapi.py reads every declaration off the app's routes to build the document, and
compiles each body schema once per app; `api.bodies.json_body()` checks every request
body against its endpoint's compiled schema. So the schema the document shows is the
one requests are held to — there is no second copy to drift.

A schema is JSON Schema 2020-12, OpenAPI 3.1's own dialect, so it goes into the
document as it is. A schema may depend on settings (text length, batch size): then it
is a function of the settings. `explain` is the hand-written check that says *why* a
body is refused, in a person's words and with the status it has always had (404 for an
unknown model, 400 for a body that is not an object); it runs only on refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from predictq.settings import Settings

Schema = dict[str, Any]
SchemaSource = Schema | Callable[[Settings], Schema]
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Param:
    """A path, query or header parameter."""

    name: str
    where: str  # "path", "query" or "header"
    schema: Schema
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Reply:
    """A success response: its body schema (None: no JSON body) and media type."""

    schema: SchemaSource | None
    description: str = "OK"
    media_type: str = "application/json"
    headers: dict[str, Schema] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    ok: dict[int, Reply]
    errors: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    body: SchemaSource | None = None
    explain: Callable[[Any], None] | None = None
    description: str = ""


def declare(summary: str, *, tag: str, ok: dict[int, Reply | Schema],
            errors: tuple[int, ...] = (), params: tuple[Param, ...] = (),
            body: SchemaSource | None = None, explain: Callable[[Any], None] | None = None,
            description: str = "") -> Callable[[View], View]:
    """Attach an Operation to a view function (put it under the route decorator)."""
    replies = {status: r if isinstance(r, Reply) else Reply(r) for status, r in ok.items()}
    op = Operation(summary, tag, replies, tuple(sorted(set(errors))), params, body,
                   explain, description)

    def attach(view: View) -> View:
        view.__openapi__ = op  # type: ignore[attr-defined]
        return view

    return attach


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The declaration on a view function, if it has one."""
    return getattr(view, "__openapi__", None)


def resolve(source: SchemaSource | None, settings: Settings) -> Schema | None:
    return source(settings) if callable(source) else source
