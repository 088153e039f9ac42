"""``fastredact review``: a local page to look for what a run missed, and the corrections
file ``redact --corrections`` re-applies.

- :mod:`~fastredact.review._sources`: the run under review, its outputs and originals;
- :mod:`~fastredact.review._sample`: which pictures are shown (seeking misses);
- :mod:`~fastredact.review._pictures`: outputs and original crops as the browser draws them;
- :mod:`~fastredact.review._session`: the sample, the reviewer's actions, the file;
- :mod:`~fastredact.review._server`: the token-protected local web server;
- :mod:`~fastredact.review._summary`: ``--summary``, what a review found.
"""

from fastredact.review._sample import ReviewItem, Sample, candidates, draw
from fastredact.review._server import ReviewServer, new_token
from fastredact.review._session import CORRECTIONS_FILE, SAMPLE_FILE, ReviewSession, SampleSpec
from fastredact.review._sources import ReviewFile, ReviewRun, load_review_run
from fastredact.review._summary import format_summary, summarise

__all__ = [
    "CORRECTIONS_FILE",
    "SAMPLE_FILE",
    "ReviewFile",
    "ReviewItem",
    "ReviewRun",
    "ReviewServer",
    "ReviewSession",
    "Sample",
    "SampleSpec",
    "candidates",
    "draw",
    "format_summary",
    "load_review_run",
    "new_token",
    "summarise",
]
