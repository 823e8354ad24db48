"""Shared by the ORM corpus scripts: a typed, JSON-able form of the values an ORM hands back, so
the jest test can compare what the ORM read from SQLite with what it reads from PostgreSQL.

Every value becomes [python type name, exact text], so 1 and 1.0 and Decimal("1") and "1" all
differ, as do naive and aware datetimes: "equal objects" means equal types and equal values.
"""

import datetime
import decimal
import enum
import json
import math
import sys
import uuid


def canon(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return ["bool", str(v)]
    if isinstance(v, enum.Enum):
        return ["enum", f"{type(v).__name__}.{v.name}"]
    if isinstance(v, int):
        return ["int", str(v)]
    if isinstance(v, float):
        # repr is the shortest text that round-trips, so equal text is equal bits (but -0.0/0.0).
        return ["float", "-0.0" if v == 0 and math.copysign(1, v) < 0 else repr(v)]
    if isinstance(v, decimal.Decimal):
        return ["Decimal", str(v)]
    if isinstance(v, str):
        return ["str", v]
    if isinstance(v, (bytes, bytearray, memoryview)):
        # psycopg2 hands bytea back as memoryview and sqlite3 as bytes for the same column type:
        # that is the driver, not the data, so both compare as bytes.
        return ["bytes", bytes(v).hex()]
    if isinstance(v, datetime.datetime):
        return ["datetime", v.isoformat()]
    if isinstance(v, datetime.date):
        return ["date", v.isoformat()]
    if isinstance(v, datetime.time):
        return ["time", v.isoformat()]
    if isinstance(v, datetime.timedelta):
        return ["timedelta", f"{v.days}d {v.seconds}s {v.microseconds}us"]
    if isinstance(v, uuid.UUID):
        return ["UUID", str(v)]
    if isinstance(v, dict):
        return ["dict", {str(k): canon(x) for k, x in v.items()}]
    if isinstance(v, (list, tuple)):
        return ["list", [canon(x) for x in v]]
    # Anything else (a FieldFile, an ORM proxy) is compared by its type and str().
    return [type(v).__name__, str(v)]


def emit(doc):
    json.dump(doc, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


def attempt(fn, on_error=None):
    """Runs one ORM query a real app would run; its result or the exact error becomes data.
    on_error (a session's rollback) runs after a failure so the next query starts clean."""
    try:
        return {"ok": canon(fn())}
    except Exception as e:  # noqa: BLE001 - the error text is what the test reports
        if on_error:
            on_error()
        return {"error": f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"}
