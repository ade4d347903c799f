#!/usr/bin/env python3
"""Validates every Realtime client event a test run captured (JSON lines) against the official schemas
(tests/fixtures/realtime-client-events.schema.json, extracted from openai/openai-openapi).

Each event is checked against the member of RealtimeClientEvent whose `type` matches (the discriminator),
strictly: object schemas that list properties reject unknown keys, as the GA API rejects unknown fields.
Usage: validate_client_events.py SCHEMA.json EVENTS.jsonl [EVENTS.jsonl …]"""
import copy
import json
import sys

import jsonschema


def strict(node):
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node and node.get("type") == "object":
            node["additionalProperties"] = False
        for v in node.values():
            strict(v)
    elif isinstance(node, list):
        for v in node:
            strict(v)


def main():
    schema_file, *event_files = sys.argv[1:]
    doc = json.load(open(schema_file))
    defs = doc["definitions"]
    strict_defs = copy.deepcopy(defs)
    strict(strict_defs)
    by_type = {}
    for member in defs["RealtimeClientEvent"]["anyOf"]:
        name = member["$ref"].split("/")[-1]
        type_schema = defs[name]["properties"]["type"]
        names = type_schema.get("enum") or [type_schema.get("const")] or []
        for t in names:
            if t:
                by_type[t] = name
    events = 0
    failures = 0
    seen_types = set()
    for path in event_files:
        for n, line in enumerate(open(path), 1):
            line = line.strip()
            if not line:
                continue
            event = json.loads(line)
            events += 1
            t = event.get("type")
            seen_types.add(t)
            if t not in by_type:
                print(f"{path}:{n}: unknown client event type {t!r}")
                failures += 1
                continue
            schema = {"$ref": f"#/definitions/{by_type[t]}", "definitions": strict_defs}
            errors = list(jsonschema.Draft202012Validator(schema).iter_errors(event))
            for e in errors[:3]:
                print(f"{path}:{n}: {t}: {e.message} at {list(e.absolute_path)}")
            failures += bool(errors)
    print(f"validated {events} client events of {len(seen_types)} types ({', '.join(sorted(seen_types))}): "
          f"{failures} invalid")
    if events == 0:
        print("no events captured: the producing test did not run")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
