"""Validate speedscope files against speedscope's own schema.

    python3 check_speedscope_schema.py SCHEMA FILE...

Needs the jsonschema module (Debian: python3-jsonschema), so the tests run
it with the interpreter that has it.  Exits 1 with the first error.
"""
import json
import sys

import jsonschema

with open(sys.argv[1]) as f:
    schema = json.load(f)
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        print("FAIL: %s: %s at %s" % (path, e.message, "/".join(map(str, e.path))))
        sys.exit(1)
    print("schema ok: %s (%d profiles, %d frames)" % (path, len(doc["profiles"]),
                                                       len(doc["shared"]["frames"])))
