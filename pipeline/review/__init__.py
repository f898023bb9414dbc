"""The analyst workflow around the review queue.

* ``pipeline.review.priority`` — the priority formula and ``severity(category, species, evidence)``
* ``pipeline.review.species`` — species facts (CITES / China / Vietnam) until the lexicon has them
* ``pipeline.review.api`` — what the web UI calls: item views, the queue operations, exports, audit

The queue operations themselves live in ``pipeline.queue``; clusters in ``pipeline.dedupe``; the
audit log in ``pipeline.audit``; exports in ``pipeline.exports``. See docs/review.md.
"""
