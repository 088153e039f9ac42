"""The batch: the :class:`Redactor`, one input's result (:class:`FileResult`), the inputs
and the output names they claim, the worker pool, ``--resume``, and the audit trail.

- :mod:`~fastredact.run._redactor`: the :class:`Redactor` (array, file, batch);
- :mod:`~fastredact.run._batch`: the pool, resume, manifest and mapping writing;
- :mod:`~fastredact.run._file`: one input: sniff, photo or video, atomic write;
- :mod:`~fastredact.run._results`: :class:`FileResult`, one manifest row;
- :mod:`~fastredact.run._inputs`, :mod:`~fastredact.run._output_names`: which files, and
  where each output goes (no output replaces another or an input);
- :mod:`~fastredact.run._manifest`: the manifest (run record + rows) and the mapping file.
"""

from __future__ import annotations

from fastredact.run._batch import listed_inputs, run_batch
from fastredact.run._file import FrameProgress, process_file
from fastredact.run._inputs import (
    InputFile,
    check_file_outside_inputs,
    check_outdir_outside_inputs,
    display,
    printable,
)
from fastredact.run._manifest import read_manifest, read_runs
from fastredact.run._redactor import Redactor
from fastredact.run._results import FileResult

__all__ = [
    "FileResult",
    "FrameProgress",
    "InputFile",
    "Redactor",
    "check_file_outside_inputs",
    "check_outdir_outside_inputs",
    "display",
    "listed_inputs",
    "printable",
    "process_file",
    "read_manifest",
    "read_runs",
    "run_batch",
]
