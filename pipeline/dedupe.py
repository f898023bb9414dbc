"""Near-duplicate clusters: the same ad reposted (on another site, or with small edits) is one cluster.

How a listing finds its cluster (``assign_cluster``):

1. **Normalise** title + text: ``classifier.text.normalise`` (NFKC, lower case, URLs and phone numbers
   replaced), Vietnamese diacritics folded (``vi_shadow``: reposts often drop them), the URL / phone
   placeholders and punctuation dropped, whitespace collapsed. Contact details and punctuation
   change between reposts; the ad does not.
2. **Exact**: a listing whose normalised text hashes the same as a clustered one joins that cluster.
3. **Near**: character shingles (3-grams when the text is mostly Chinese, 5-grams otherwise), a
   128-permutation MinHash (``datasketch``), cut into ``BANDS`` bands of ``ROWS`` rows: the LSH
   index lives in the ``dedupe_band`` table, so every process and every machine sees the same
   index. Listings sharing a band bucket are candidates; a candidate counts only when the *exact*
   Jaccard similarity of the two shingle sets is at least ``THRESHOLD`` (LSH finds, Jaccard decides,
   so LSH false positives never merge ads). The best candidate's cluster wins.
4. **Same product**: two texts whose wildlife categories (``classifier`` lexicon terms) are both
   non-empty and disjoint are different ads, however similar: one seller's template used for an
   ivory carving and for a tortoiseshell box is two ads, not one.
5. Texts too short for shingles to mean much (fewer than ``MIN_SHINGLES``) only cluster exactly.

A listing never leaves its cluster (its later edits are versions of the same ad); clusters are not
merged automatically. Precision on the labelled set ``tests/pipeline/data/dedupe_groups.jsonl``
is measured by ``bench/dedupe_eval.py`` and asserted by ``tests/pipeline/test_dedupe.py``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session

from classifier.text import normalise, vi_shadow
from pipeline.models import Cluster, ClusterMember, DedupeBand, Listing

NUM_PERM = 128
BANDS, ROWS = 32, 4  # LSH S-curve: P(candidate) = 0.87 at Jaccard 0.5, 0.95 at 0.55, 0.99 at 0.6
# Exact Jaccard of the shingle sets needed to join a cluster. Chosen with bench/dedupe_eval.py on
# the labelled set: the lowest true repost pair scores 0.576, the highest different-ad pair that
# names the same wildlife category 0.522 (two "baby primate for rehoming" ads).
THRESHOLD = 0.55
MIN_SHINGLES = 8
MAX_CANDIDATES = 50
SEED = 1

_PLACEHOLDER_RE = re.compile(r"__(?:url|phone)__")
_PUNCT_RE = re.compile(r"[^\w\s]|_", re.UNICODE)
_WS_RE = re.compile(r"\s+")


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def dedupe_text(title: str | None, text: str | None) -> str:
    """The text two reposts of one ad share (see the module docstring)."""
    s = normalise(f"{title or ''}\n{text or ''}")
    s = vi_shadow(_PLACEHOLDER_RE.sub(" ", s))
    s = _PUNCT_RE.sub(" ", s)
    return _WS_RE.sub(" ", s).strip()


def text_hash(norm: str) -> str:
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def shingles(norm: str) -> set[str]:
    """Character n-grams: 3 for mostly-Chinese text (a character carries about a word), else 5."""
    if not norm:
        return set()
    cjk = sum(_is_cjk(ch) for ch in norm)
    if cjk / len(norm) >= 0.3:
        k = 3
        norm = norm.replace(" ", "")
    else:
        k = 5
    if len(norm) <= k:
        return {norm}
    return {norm[i : i + k] for i in range(len(norm) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@lru_cache(maxsize=1)
def _minhash_template():
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=SEED)


def signature(sh: set[str]) -> np.ndarray:
    mh = _minhash_template().copy()
    mh.update_batch([s.encode("utf-8") for s in sorted(sh)])
    return mh.hashvalues


def band_buckets(sh: set[str]) -> list[tuple[int, int]]:
    """(band, bucket) pairs for the LSH index; bucket is a signed 64-bit hash of the band's rows."""
    hv = signature(sh)
    out = []
    for b in range(BANDS):
        digest = hashlib.blake2b(hv[b * ROWS : (b + 1) * ROWS].tobytes(), digest_size=8).digest()
        out.append((b, int.from_bytes(digest, "big", signed=True)))
    return out


@dataclass(frozen=True)
class Fingerprint:
    norm: str
    hash: str
    shingles: frozenset[str]
    source: tuple[str | None, str | None] = (None, None)  # title, text

    @property
    def near_dup_capable(self) -> bool:
        return len(self.shingles) >= MIN_SHINGLES


def fingerprint(title: str | None, text: str | None) -> Fingerprint:
    norm = dedupe_text(title, text)
    return Fingerprint(norm, text_hash(norm), frozenset(shingles(norm)), (title, text))


def wildlife_categories(title: str | None, text: str | None) -> frozenset[str]:
    """The lexicon categories a text names (empty when it names none)."""
    from classifier.lexicon import default_lexicon

    match = default_lexicon().match(f"{title or ''}\n{text or ''}")
    return frozenset(c for c, n in match.category_hits.items() if n > 0)


def same_product(a: frozenset[str], b: frozenset[str]) -> bool:
    """False only when both texts name wildlife and no category in common."""
    return not (a and b and a.isdisjoint(b))


def find_match(session: Session, fp: Fingerprint, *, exclude: int | None = None) -> tuple[ClusterMember, float, int] | None:
    """The clustered listing ``fp`` duplicates: (its member row, similarity, listing id), or None."""
    exact = select(ClusterMember).where(ClusterMember.text_hash == fp.hash)
    if exclude is not None:
        exact = exact.where(ClusterMember.listing_id != exclude)
    member = session.scalars(exact.order_by(ClusterMember.listing_id).limit(1)).first()
    if member is not None:
        return member, 1.0, member.listing_id
    if not fp.near_dup_capable:
        return None
    pairs = band_buckets(set(fp.shingles))
    # Most shared bands first: with many near-identical templates around, the true repost is
    # still among the candidates checked.
    query = (
        select(DedupeBand.listing_id)
        .where(tuple_(DedupeBand.band, DedupeBand.bucket).in_(pairs))
        .group_by(DedupeBand.listing_id)
        .order_by(func.count().desc(), DedupeBand.listing_id)
        .limit(MAX_CANDIDATES)
    )
    if exclude is not None:
        query = query.where(DedupeBand.listing_id != exclude)
    candidates = list(session.scalars(query))
    if not candidates:
        return None
    best: tuple[float, int] | None = None
    mine: frozenset[str] | None = None
    rows = session.execute(select(Listing.id, Listing.title, Listing.text).where(Listing.id.in_(candidates)))
    for lid, title, text in rows:
        sim = jaccard(set(fp.shingles), shingles(dedupe_text(title, text)))
        if sim < THRESHOLD or (best is not None and (sim, -lid) <= (best[0], -best[1])):
            continue
        if mine is None:
            mine = wildlife_categories(*fp.source)
        if same_product(mine, wildlife_categories(title, text)):
            best = (sim, lid)
    if best is None:
        return None
    member = session.get(ClusterMember, best[1])
    if member is None:  # a band row without membership (should not happen): ignore it
        return None
    return member, best[0], best[1]


def assign_cluster(session: Session, listing: Listing) -> ClusterMember:
    """Put ``listing`` in its near-duplicate cluster (creating one if it duplicates nothing).

    Idempotent: a listing already clustered with its current content is left alone; a listing
    whose content changed keeps its cluster and has its fingerprint refreshed.
    """
    member = session.get(ClusterMember, listing.id)
    if member is not None and member.content_hash == listing.content_hash:
        return member
    fp = fingerprint(listing.title, listing.text)
    if member is not None:  # edited: same cluster, new fingerprint
        session.execute(DedupeBand.__table__.delete().where(DedupeBand.listing_id == listing.id))
        member.text_hash, member.content_hash = fp.hash, listing.content_hash
    else:
        match = find_match(session, fp, exclude=listing.id)
        if match is None:
            cluster = Cluster(representative_id=listing.id, size=1)
            session.add(cluster)
            session.flush()
            member = ClusterMember(
                listing_id=listing.id, cluster_id=cluster.id, similarity=1.0,
                text_hash=fp.hash, content_hash=listing.content_hash,
            )
        else:
            other, sim, other_id = match
            member = ClusterMember(
                listing_id=listing.id, cluster_id=other.cluster_id, matched_listing_id=other_id,
                similarity=round(sim, 4), text_hash=fp.hash, content_hash=listing.content_hash,
            )
            session.execute(update(Cluster).where(Cluster.id == other.cluster_id).values(size=Cluster.size + 1))
        session.add(member)
    if fp.near_dup_capable:
        session.execute(
            DedupeBand.__table__.insert(),
            [{"band": b, "bucket": k, "listing_id": listing.id} for b, k in band_buckets(set(fp.shingles))],
        )
    session.flush()
    return member


def cluster_pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    """All unordered pairs of ids that share a group (for precision / recall on a labelled set)."""
    out: set[tuple[str, str]] = set()
    for g in groups:
        for i, a in enumerate(g):
            for b in g[i + 1 :]:
                out.add((min(a, b), max(a, b)))
    return out
