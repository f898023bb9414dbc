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


class ReviewStage(str, enum.Enum):
    """What a pending / claimed item is waiting for (see docs/review.md)."""

    first = "first"  # a first decision
    second = "second"  # a second, different analyst (two-person rule)
    correction = "correction"  # sent back: the assigned analyst decides again


class DecisionStatus(str, enum.Enum):
    proposed = "proposed"  # awaits a second review (two-person rule)
    confirmed = "confirmed"  # a proposal that a second analyst confirmed
    final = "final"  # the decision that stands: exactly one per decided item
    superseded = "superseded"  # replaced by a later change
    returned = "returned"  # sent back for correction


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
    # Distributed crawls: the shared crawl id (one row per worker process), else None.
    crawl_id: Mapped[str | None] = mapped_column(String(200), index=True)

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
    # Taken down: a detail page answered 404/410, or a full crawl of the site no longer lists it.
    removed_at: Mapped[datetime | None]
    removed_reason: Mapped[str | None] = mapped_column(String(40))

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
    """One per near-duplicate cluster: the cluster is reviewed once (``listing_id`` is the listing
    that opened it); ``lang``, ``category``, ``site_id`` and ``score`` are copied from the item's
    prediction so that filtered claims stay one indexed query."""

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
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id"), unique=True)
    prediction_id: Mapped[int | None] = mapped_column(ForeignKey("prediction.id"))
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[ReviewState] = mapped_column(
        Enum(ReviewState, name="review_state", native_enum=False, length=20),
        default=ReviewState.pending,
    )
    stage: Mapped[ReviewStage] = mapped_column(
        Enum(ReviewStage, name="review_stage", native_enum=False, length=20),
        default=ReviewStage.first,
        server_default=ReviewStage.first.value,
    )
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    first_reviewer: Mapped[str | None] = mapped_column(String(100))
    return_note: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(40))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    listing: Mapped[Listing] = relationship()
    cluster: Mapped[Cluster | None] = relationship()
    prediction: Mapped[Prediction | None] = relationship()
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="review_item", order_by="Decision.id"
    )


class Decision(Base):
    """Every decision ever made is kept; ``status`` says which one stands (``final``)."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    review_item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    label: Mapped[Label] = mapped_column(Enum(Label, name="decision_label", native_enum=False, length=20))
    category: Mapped[str | None] = mapped_column(String(40))
    species: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[ReviewStage] = mapped_column(
        Enum(ReviewStage, name="review_stage", native_enum=False, length=20),
        default=ReviewStage.first,
        server_default=ReviewStage.first.value,
    )
    status: Mapped[DecisionStatus] = mapped_column(
        Enum(DecisionStatus, name="decision_status", native_enum=False, length=20),
        default=DecisionStatus.final,
        server_default=DecisionStatus.final.value,
        index=True,
    )
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    review_item: Mapped[ReviewItem] = relationship(back_populates="decisions")


class Cluster(Base):
    """A near-duplicate cluster: the same ad, reposted (other sites, small edits). Reviewed once."""

    __tablename__ = "cluster"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    representative_id: Mapped[int] = mapped_column(ForeignKey("listing.id"))
    size: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    members: Mapped[list[ClusterMember]] = relationship(
        back_populates="cluster", order_by="ClusterMember.listing_id"
    )


class ClusterMember(Base):
    """A listing's place in its cluster: each listing stays its own evidence."""

    __tablename__ = "cluster_member"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id"), primary_key=True, autoincrement=False)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("cluster.id"), index=True)
    matched_listing_id: Mapped[int | None] = mapped_column(ForeignKey("listing.id"))
    similarity: Mapped[float] = mapped_column(Float, default=1.0)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    cluster: Mapped[Cluster] = relationship(back_populates="members")
    listing: Mapped[Listing] = relationship(foreign_keys=[listing_id])


class DedupeBand(Base):
    """The MinHash LSH index, kept in the database: one row per (band, bucket) of a listing."""

    __tablename__ = "dedupe_band"
    __table_args__ = (Index("ix_dedupe_band_listing_id", "listing_id"),)

    band: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id"), primary_key=True, autoincrement=False)


class ReviewPolicy(Base):
    """Per-category review rules (two-person rule)."""

    __tablename__ = "review_policy"

    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    two_person: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Append-only audit log, hash-chained: ``hash = sha256(prev_hash + payload)`` (pipeline.audit)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON of everything above + before/after
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's tail (one row): appends lock it, so the chain is a single line."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
