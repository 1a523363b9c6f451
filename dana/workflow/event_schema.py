"""The JSON schema of run events, generated from their records (docs/workflows.md "Events").

Consumes: the event records of dana.workflow.events.
Produces: `event_schema()` (a JSON Schema dict: one definition per kind, discriminated by
`event`) and, run as `python -m dana.workflow.event_schema > docs/events.schema.json`, the
published file (tests/unit/test_events.py fails when that file is stale).

pydantic builds the schema from the dataclasses; it is imported here only, never by a run.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Union

from dana.workflow.events import EVENT_TYPES

def event_schema() -> dict[str, Any]:
    """One JSON Schema (draft 2020-12) for a line of `dana run --events FILE`: any of the
    event kinds, told apart by `event`. Every field listed as required is always present;
    the others are left out when they do not apply."""
    from pydantic import Field, TypeAdapter

    union = Annotated[Union[tuple(EVENT_TYPES.values())], Field(discriminator="event")]
    schema = TypeAdapter(union).json_schema()
    for definition in schema["$defs"].values():
        if "event" in definition["properties"]:  # a default, but always written
            definition["required"].insert(0, "event")
            del definition["properties"]["event"]["default"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Dana run event",
            "description": "One event of a Dana workflow run, as `dana run --events` writes "
                           "it (one JSON object per line); see docs/workflows.md.",
            **schema}


def main() -> None:
    """Print the schema (the content of docs/events.schema.json)."""
    print(json.dumps(event_schema(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
