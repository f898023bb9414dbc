"""Database models: what Wildwatch keeps about sites, crawls, listings, evidence, scores and reviews.

Typed SQLAlchemy 2.0 models; the same schema runs on SQLite (embedded default) and PostgreSQL.
Changes to this file need an Alembic revision (``pipeline/migrations``); CI runs ``alembic check``.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Wildwatch stores UTC-aware datetimes only")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


# BigInteger primary keys on PostgreSQL, plain INTEGER (rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class CrawlStatus(str, enum.Enum):
    running = "running"
    finished = "finished"
    failed = "failed"


class ReviewState(str, enum.Enum):
    pending = "pending"
    claimed = "claimed"
    decided = "decided"


class Label(str, enum.Enum):
    illegal = "illegal"
    legal = "legal"
    not_wildlife = "not_wildlife"
    escalate = "escalate"


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str | None] = mapped_column(String(300))
    base_url: Mapped[str | None] = mapped_column(String(2000))
    lang: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[CrawlStatus] = mapped_column(
        Enum(CrawlStatus, name="crawl_status", native_enum=False, length=20),
        default=CrawlStatus.running,
    )
    finish_reason: Mapped[str | None] = mapped_column(String(100))
    pages: Mapped[int] = mapped_column(default=0)
    items: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    # Scrapy's stats plus Wildwatch's namespaced counters (wildwatch/...), failures by kind.
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)

    site: Mapped[Site] = relationship()


class Listing(Base):
    __tablename__ = "listing"
    __table_args__ = (UniqueConstraint("site_id", "external_id", name="uq_listing_site_external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    price_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    price_currency: Mapped[str | None] = mapped_column(String(8))
    price_raw: Mapped[str | None] = mapped_column(String(200))
    seller: Mapped[str | None] = mapped_column(String(300))
    location: Mapped[str | None] = mapped_column(String(300))
    posted_at: Mapped[datetime | None]
    posted_raw: Mapped[str | None] = mapped_column(String(100))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str | None] = mapped_column(String(8))
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)

    site: Mapped[Site] = relationship()
    snapshots: Mapped[list[Snapshot]] = relationship(
        back_populates="listing", order_by="Snapshot.fetched_at"
    )
    predictions: Mapped[list[Prediction]] = relationship(back_populates="listing")


class Snapshot(Base):
    """The evidence: the raw response as fetched, compressed, with its sha256."""

    __tablename__ = "snapshot"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id"), index=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body_zlib: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))

    listing: Mapped[Listing] = relationship(back_populates="snapshots")


class Prediction(Base):
    __tablename__ = "prediction"
    __table_args__ = (
        UniqueConstraint("listing_id", "model_version", name="uq_prediction_listing_model"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id"), index=True)
    model_version: Mapped[str] = mapped_column(String(200))
    score: Mapped[float] = mapped_column(Float)
    flag: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str] = mapped_column(String(40))
    lang: Mapped[str | None] = mapped_column(String(8))
    evidence: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    listing: Mapped[Listing] = relationship(back_populates="predictions")


class ReviewItem(Base):
    __tablename__ = "review_item"
    __table_args__ = (
        # The claim query scans only pending rows, highest priority first.
        Index(
            "ix_review_item_pending_priority",
            "priority",
            "id",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index("ix_review_item_state_claimed_until", "state", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id"), unique=True)
    prediction_id: Mapped[int | None] = mapped_column(ForeignKey("prediction.id"))
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[ReviewState] = mapped_column(
        Enum(ReviewState, name="review_state", native_enum=False, length=20),
        default=ReviewState.pending,
    )
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    listing: Mapped[Listing] = relationship()
    prediction: Mapped[Prediction | None] = relationship()
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="review_item", order_by="Decision.decided_at"
    )


class Decision(Base):
    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    label: Mapped[Label] = mapped_column(Enum(Label, name="decision_label", native_enum=False, length=20))
    category: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    review_item: Mapped[ReviewItem] = relationship(back_populates="decisions")
