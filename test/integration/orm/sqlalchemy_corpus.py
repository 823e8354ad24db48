"""SQLAlchemy 2 corpus: declarative models over the generic types, `create_all` on SQLite, rows
inserted through a Session, then the same models read through an engine on PostgreSQL.

  sqlalchemy_corpus.py create <file.sqlite>   prints {"read", "queries", "gap_queries"} from SQLite
  sqlalchemy_corpus.py read <postgres-url>    prints the same from PostgreSQL plus "writes"/"gap_writes"

Model "Gap" holds the types a default migration does not carry as SQLAlchemy's PostgreSQL
dialect expects (see sqlalchemy-gaps.test.ts); everything else must read back equal.
"""

import datetime
import decimal
import enum
import sys
import uuid

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, Enum, Float, ForeignKey, Integer, Interval, LargeBinary, Numeric, SmallInteger, String, Table, Text, Time, Unicode, Uuid, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from corpus_common import attempt as attempt_, canon, emit


class Base(DeclarativeBase):
    pass


class Color(enum.Enum):
    red = "red"
    green = "green"
    ultra_violet = "ultra violet"


member = Table(
    "member",
    Base.metadata,
    Column("team_id", ForeignKey("team.id"), primary_key=True),
    Column("person_id", ForeignKey("person.id"), primary_key=True),
)


class Team(Base):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    people: Mapped[list["Person"]] = relationship(secondary=member, back_populates="teams", order_by="Person.id")


class Person(Base):
    __tablename__ = "person"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(100))
    bio: Mapped[str | None] = mapped_column(Text)
    age: Mapped[int] = mapped_column(SmallInteger)
    points: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean)
    verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    born: Mapped[datetime.date] = mapped_column(Date)
    seen: Mapped[datetime.datetime] = mapped_column(DateTime)
    balance: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2))
    score: Mapped[float] = mapped_column(Float)
    avatar: Mapped[bytes] = mapped_column(LargeBinary)
    prefs: Mapped[dict] = mapped_column(JSON)
    color: Mapped[Color] = mapped_column(Enum(Color))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    manager: Mapped["Person | None"] = relationship(remote_side=[id])
    teams: Mapped[list[Team]] = relationship(secondary=member, back_populates="people", order_by=Team.id)


class Gap(Base):
    __tablename__ = "gap"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    token: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    alarm: Mapped[datetime.time] = mapped_column(Time)
    wait: Mapped[datetime.timedelta] = mapped_column(Interval)


MODELS = [Team, Person, Gap]
T1 = uuid.UUID("6f1e0c4a-9b1d-4c55-8d1e-2b7a4e9c0f11")
T2 = uuid.UUID("00000000-0000-4000-8000-000000000002")
NEW_TOKEN = uuid.UUID("12345678-1234-4234-8234-123456789abc")


def insert(s):
    boss = Person(
        name="Ada Lovelace", bio="multi\nline 'quoted' \"text\" \\", age=-32768, points=9223372036854775807, active=True,
        verified=None, born=datetime.date(1815, 12, 10), seen=datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),
        balance=decimal.Decimal("99999999.99"), score=0.1, avatar=bytes(range(256)),
        prefs={"theme": "dark", "n": 1, "nested": {"list": [1, 2.5, None, True, "ü"]}}, color=Color.ultra_violet,
    )
    p2 = Person(
        name="Ünïcödé 🐍", bio=None, age=32767, points=-9223372036854775808, active=False, verified=True,
        born=datetime.date(1, 1, 1), seen=datetime.datetime(1970, 1, 1), balance=decimal.Decimal("-0.01"), score=-1.5e-300,
        avatar=b"", prefs=[1, "two", {"three": 3}], color=Color.red, manager=boss,
    )
    p3 = Person(
        name="x" * 100, bio="y" * 10000, age=0, points=0, active=False, verified=False, born=datetime.date(9999, 12, 31),
        seen=datetime.datetime(2038, 1, 19, 3, 14, 8, 1), balance=decimal.Decimal("10.50"), score=float("inf"),
        avatar=b"\x00\x00\xff", prefs={"theme": "light", "empty": {}, "unicode": "日本語"}, color=Color.green, manager=boss,
    )
    a, b = Team(name="alpha"), Team(name="beta")
    a.people = [boss, p2]
    b.people = [boss, p3]
    s.add_all([boss, p2, p3, a, b])
    s.flush()
    s.add_all([
        Gap(person_id=boss.id, token=T1, alarm=datetime.time(23, 59, 59, 999999), wait=datetime.timedelta(days=3, hours=4, microseconds=5)),
        Gap(person_id=p2.id, token=T2, alarm=datetime.time(0, 0), wait=datetime.timedelta(days=-1, microseconds=1)),
    ])
    s.commit()


def fields(obj):
    return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}


def row(obj):
    return canon(fields(obj))[1]


def dump(s):
    out = {m.__tablename__: [row(o) for o in s.scalars(select(m).order_by(m.id))] for m in MODELS}
    out["person.teams"] = [[t.id for t in p.teams] for p in s.scalars(select(Person).order_by(Person.id))]
    out["team.people"] = [[p.id for p in t.people] for t in s.scalars(select(Team).order_by(Team.id))]
    return out


def attempt(rollback, fn):
    return attempt_(fn, rollback)


def ids(s, stmt):
    return sorted(s.scalars(stmt))


def queries(s):
    return {
        "bool": attempt(s.rollback, lambda: ids(s, select(Person.id).where(Person.active.is_(True)))),
        "null bool": attempt(s.rollback, lambda: ids(s, select(Person.id).where(Person.verified.is_(None)))),
        "enum": attempt(s.rollback, lambda: ids(s, select(Person.id).where(Person.color == Color.ultra_violet))),
        "datetime range": attempt(s.rollback, lambda: ids(s, select(Person.id).where(Person.seen >= datetime.datetime(2000, 1, 1)))),
        "date": attempt(s.rollback, lambda: ids(s, select(Person.id).where(Person.born < datetime.date(1900, 1, 1)))),
        "sum balance": attempt(s.rollback, lambda: s.scalar(select(func.sum(Person.balance)))),
        "max points": attempt(s.rollback, lambda: s.scalar(select(func.max(Person.points)))),
        "order by name": attempt(s.rollback, lambda: list(s.scalars(select(Person.id).order_by(Person.name)))),
        "self join": attempt(s.rollback, lambda: sorted(p.name for p in s.scalars(select(Person).where(Person.manager.has(Person.name == "Ada Lovelace"))))),
        "m2m join": attempt(s.rollback, lambda: ids(s, select(Person.id).join(Person.teams).where(Team.name == "beta"))),
        "json key": attempt(s.rollback, lambda: ids(s, select(Person.id).where(Person.prefs["theme"].as_string() == "dark"))),
        "count per team": attempt(s.rollback, lambda: [list(r) for r in s.execute(select(Team.name, func.count()).join(Team.people).group_by(Team.name).order_by(Team.name))]),
    }


def gap_queries(s):
    return {
        "by uuid": attempt(s.rollback, lambda: s.scalar(select(Gap.person_id).where(Gap.token == T2))),
        "time lt": attempt(s.rollback, lambda: ids(s, select(Gap.id).where(Gap.alarm < datetime.time(12)))),
        "interval gt": attempt(s.rollback, lambda: ids(s, select(Gap.id).where(Gap.wait > datetime.timedelta(hours=1)))),
    }


def writes(s):
    def new_person():
        p = Person(
            name="New", age=1, points=2, active=True, born=datetime.date(2025, 1, 2), seen=datetime.datetime(2025, 1, 2, 3, 4, 5),
            balance=decimal.Decimal("1.20"), score=2.5, avatar=b"new", prefs={"theme": "new"}, color=Color.green, manager_id=1,
        )
        t = Team(name="gamma", people=[p])
        s.add(t)
        s.commit()
        s.expire_all()
        return [p.id, t.id, fields(s.get(Person, p.id))]

    def update():
        p = s.get(Person, 2)
        p.balance += decimal.Decimal("1.00")
        p.prefs = {"changed": True}
        s.commit()
        s.expire_all()
        return [s.get(Person, 2).balance, s.get(Person, 2).prefs]

    return {"new person": attempt(s.rollback, new_person), "update": attempt(s.rollback, update)}


def gap_writes(s):
    def new_gap():
        g = Gap(person_id=3, token=NEW_TOKEN, alarm=datetime.time(6, 7, 8), wait=datetime.timedelta(minutes=5))
        s.add(g)
        s.commit()
        s.expire_all()
        return fields(s.get(Gap, g.id))

    def rollback_after(fn):
        try:
            return fn()
        finally:
            s.rollback()

    return {"new gap": attempt(s.rollback, lambda: rollback_after(new_gap))}


def main():
    mode, db = sys.argv[1:3]
    if mode == "create":
        engine = create_engine(f"sqlite:///{db}")
        Base.metadata.create_all(engine)
        with Session(engine) as s:
            insert(s)
        with Session(engine) as s:
            emit({"read": dump(s), "queries": queries(s), "gap_queries": gap_queries(s)})
    elif mode == "read":
        engine = create_engine(db.replace("postgres://", "postgresql+psycopg2://", 1))
        with Session(engine) as s:
            doc = {"read": dump(s), "queries": queries(s)}
        with Session(engine) as s:
            doc["gap_queries"] = gap_queries(s)
        with Session(engine) as s:
            doc["writes"] = writes(s)
        with Session(engine) as s:
            doc["gap_writes"] = gap_writes(s)
        emit(doc)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
