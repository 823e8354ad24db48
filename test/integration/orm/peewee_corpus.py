"""Peewee corpus: models over peewee's field types, `create_tables` and inserts on SQLite, then
the same models bound to PostgreSQL.

  peewee_corpus.py create <file.sqlite>   prints {"read", "queries", "gap_queries"} from SQLite
  peewee_corpus.py read <postgres-url>    prints the same from PostgreSQL plus "writes"/"gap_writes"

Peewee declares BooleanField as INTEGER, UUIDField and JSONField as TEXT and TimeField as TIME on
SQLite; queries that bind a bool, a time or expect a jsonb are in "gap_queries"
(peewee-gaps.test.ts), everything else must read back equal.
"""

import datetime
import decimal
import sys
import uuid
from urllib.parse import unquote, urlsplit

import peewee as pw

from corpus_common import attempt as attempt_, canon, emit

db = pw.DatabaseProxy()


class Base(pw.Model):
    class Meta:
        database = db


class Tag(Base):
    name = pw.CharField(max_length=20, unique=True)


class Thing(Base):
    id = pw.BigAutoField()
    char = pw.CharField(max_length=40)
    fixed = pw.FixedCharField(max_length=4)
    text = pw.TextField(null=True)
    integer = pw.IntegerField()
    big = pw.BigIntegerField()
    small = pw.SmallIntegerField()
    day = pw.DateField()
    moment = pw.DateTimeField()
    stamp = pw.TimestampField(resolution=1000)
    price = pw.DecimalField(max_digits=10, decimal_places=2)
    ratio = pw.FloatField()
    precise = pw.DoubleField()
    blob = pw.BlobField()
    uid = pw.UUIDField(unique=True)
    buid = pw.BinaryUUIDField()
    ip = pw.IPField()
    bits = pw.BitField()
    parent = pw.ForeignKeyField("self", null=True, backref="children")
    tags = pw.ManyToManyField(Tag, backref="things")

    is_new = bits.flag(1)
    is_hot = bits.flag(2)


class Gap(Base):
    """The field types peewee declares on SQLite in a form its PostgreSQL side does not read,
    query or write the same after a default migration (peewee-gaps.test.ts)."""

    thing = pw.ForeignKeyField(Thing, unique=True)
    flag = pw.BooleanField()
    maybe = pw.BooleanField(null=True)
    clock = pw.TimeField()
    data = pw.JSONField()


ThingTag = Thing.tags.get_through_model()
MODELS = [Tag, Thing, ThingTag, Gap]
U1 = uuid.UUID("6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11")
U2 = uuid.UUID("00000000-0000-4000-8000-000000000002")


def insert():
    red, blue = Tag.create(name="red"), Tag.create(name="blue")
    t1 = Thing.create(
        char="plain", fixed="abcd", text="multi\nline 'quoted' \"text\" \\", integer=2147483647, big=9223372036854775807,
        small=-32768, day=datetime.date(2024, 2, 29), moment=datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
        stamp=datetime.datetime(2024, 1, 2, 3, 4, 5, 678000), price=decimal.Decimal("99999999.99"),
        ratio=0.1, precise=1 / 3, blob=bytes(range(256)), uid=U1, buid=U2, ip="192.168.0.1", bits=3,
    )
    t2 = Thing.create(
        char="Ünïcödé 🐍", fixed="ü", text=None, integer=-2147483648, big=-9223372036854775808, small=32767,
        day=datetime.date(1, 1, 1), moment=datetime.datetime(1970, 1, 1), stamp=datetime.datetime(1970, 1, 1, 0, 0, 1),
        price=decimal.Decimal("-0.01"), ratio=-1.5e-300, precise=float("inf"), blob=b"", uid=U2, buid=U1, ip="255.255.255.255", bits=0, parent=t1,
    )
    t1.tags.add([red, blue])
    t2.tags.add([blue])
    Gap.create(thing=t1, flag=True, maybe=None, clock=datetime.time(23, 59, 59, 999999), data={"kind": "widget", "nested": {"list": [1, 2.5, None, True, "ü"]}})
    Gap.create(thing=t2, flag=False, maybe=True, clock=datetime.time(0, 0), data=[1, "two", {"three": 3}])


def row(obj):
    return {f.name: canon(getattr(obj, f.name)) for f in type(obj)._meta.sorted_fields} if not isinstance(obj, ThingTag) else {"thing": obj.thing_id, "tag": obj.tag_id}


def dump():
    out = {m._meta.table_name: [row(o) for o in m.select().order_by(*m._meta.get_primary_keys())] for m in MODELS}
    # FK fields canon to the related object's str(); the raw keys say which row it is.
    out["thing.parent_id"] = [t.parent_id for t in Thing.select().order_by(Thing.id)]
    out["gap.thing_id"] = [g.thing_id for g in Gap.select().order_by(Gap.id)]
    out["thing.tags"] = [sorted(t.id for t in th.tags) for th in Thing.select().order_by(Thing.id)]
    return out


def ids(q):
    return sorted(t.id for t in q)


def queries(rollback):
    def attempt(fn):
        return attempt_(fn, rollback)

    return {
        "by uuid": attempt(lambda: Thing.get(Thing.uid == U2).char),
        "by binary uuid": attempt(lambda: Thing.get(Thing.buid == U2).char),
        "ip": attempt(lambda: ids(Thing.select().where(Thing.ip == "255.255.255.255"))),
        "bit flag": attempt(lambda: ids(Thing.select().where(Thing.is_hot))),
        "datetime range": attempt(lambda: ids(Thing.select().where(Thing.moment >= datetime.datetime(2000, 1, 1)))),
        "timestamp": attempt(lambda: ids(Thing.select().where(Thing.stamp > datetime.datetime(2000, 1, 1)))),
        # SQLite sums the REALs its NUMERIC affinity stored and peewee hands the float over as is;
        # the cents are what an app shows.
        "sum price": attempt(lambda: decimal.Decimal(str(Thing.select(pw.fn.SUM(Thing.price)).scalar())).quantize(decimal.Decimal("0.01"))),
        "order by char": attempt(lambda: [t.id for t in Thing.select().order_by(Thing.char)]),
        "self join": attempt(lambda: [t.id for t in Thing.get_by_id(1).children]),
        "m2m join": attempt(lambda: ids(Thing.select().join(ThingTag).join(Tag).where(Tag.name == "red"))),
    }


def gap_queries(rollback):
    def attempt(fn):
        return attempt_(fn, rollback)

    return {
        "bool": attempt(lambda: ids(Gap.select().where(Gap.flag == True))),  # noqa: E712 - peewee builds SQL from ==
        "time lt": attempt(lambda: ids(Gap.select().where(Gap.clock < datetime.time(12)))),
        "json key": attempt(lambda: ids(Gap.select().where(Gap.data["kind"] == "widget"))),
    }


def writes(rollback):
    def new_thing():
        t = Thing.create(
            char="new", fixed="n", integer=1, big=2, small=3, day=datetime.date(2025, 1, 2), moment=datetime.datetime(2025, 1, 2, 3, 4, 5),
            stamp=datetime.datetime(2025, 1, 2, 3, 4, 5), price=decimal.Decimal("1.20"), ratio=2.5, precise=0.5,
            blob=b"new", uid=uuid.UUID("12345678-1234-4234-8234-123456789abc"), buid=U1, ip="10.1.2.3", bits=2, parent=1,
        )
        tag = Tag.create(name="new")
        t.tags.add([tag])
        return [t.id, tag.id, {f.name: getattr(Thing.get_by_id(t.id), f.name) for f in Thing._meta.sorted_fields if f.name != "parent"}]

    return {"new thing": attempt_(new_thing, rollback)}


def gap_writes(rollback):
    def new_gap():
        g = Gap.create(thing=3, flag=True, maybe=False, clock=datetime.time(6, 7, 8), data={"kind": "new"})
        return {f.name: getattr(Gap.get_by_id(g.id), f.name) for f in Gap._meta.sorted_fields if f.name != "thing"}

    return {"new gap": attempt_(new_gap, rollback)}


def connect(url):
    if url.startswith("postgres"):
        u = urlsplit(url)
        return pw.PostgresqlDatabase(u.path.lstrip("/"), user=unquote(u.username), password=unquote(u.password), host=u.hostname, port=u.port, autorollback=True)
    return pw.SqliteDatabase(url)


def main():
    mode, url = sys.argv[1:3]
    database = connect(url)
    db.initialize(database)
    database.connect()
    rollback = database.rollback
    if mode == "create":
        database.create_tables(MODELS)
        with database.atomic():
            insert()
        emit({"read": dump(), "queries": queries(rollback), "gap_queries": gap_queries(rollback)})
    elif mode == "read":
        emit({"read": dump(), "queries": queries(rollback), "gap_queries": gap_queries(rollback), "writes": writes(rollback), "gap_writes": gap_writes(rollback)})
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
