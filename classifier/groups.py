"""Cross-validation groups: near-duplicate listings always land in the same fold.

Two listings share a group when their titles are near-identical (``text.near_dup_key``: case,
digits, punctuation and diacritics ignored) or when the character 5-gram sets of their whole
normalised text overlap with a Jaccard similarity of at least ``threshold`` (a reposted ad with
a new price, an edited copy). Groups are the connected components of those links.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import HashingVectorizer

from .text import near_dup_key, normalise, vi_shadow

DEFAULT_THRESHOLD = 0.5


def _texts(records) -> tuple[list[str], list[str]]:
    titles, bodies = [], []
    for r in records:
        if isinstance(r, dict):
            title = r.get("title") or (r.get("text") or "")[:80]
            body = "\n".join(x for x in (r.get("title"), r.get("text")) if isinstance(x, str))
        else:
            title, body = str(r)[:80], str(r)
        titles.append(title)
        bodies.append(vi_shadow(normalise(body)))
    return titles, bodies


def near_duplicate_groups(records, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """An int group id per record (see the module docstring)."""
    records = list(records)
    n = len(records)
    if n == 0:
        return np.zeros(0, dtype=int)
    titles, bodies = _texts(records)
    rows, cols = [], []
    first: dict[str, int] = {}
    for i, t in enumerate(titles):
        key = near_dup_key(t)
        j = first.setdefault(key, i)
        if j != i:
            rows.append(i)
            cols.append(j)
    hv = HashingVectorizer(analyzer="char", ngram_range=(5, 5), binary=True, norm=None,
                           alternate_sign=False, n_features=1 << 20, lowercase=False)
    X = hv.transform(bodies).astype(np.float32).tocsr()
    sizes = np.asarray(X.sum(axis=1)).ravel()
    inter = (X @ X.T).tocoo()
    m = inter.row < inter.col
    a, b, v = inter.row[m], inter.col[m], inter.data[m]
    union = sizes[a] + sizes[b] - v
    keep = (union > 0) & (v / np.maximum(union, 1) >= threshold)
    rows.extend(a[keep].tolist())
    cols.extend(b[keep].tolist())
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


__all__ = ["DEFAULT_THRESHOLD", "near_duplicate_groups"]
