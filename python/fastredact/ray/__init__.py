"""Scale out on Ray Data (``pip install 'fastredact[ray]'``): the same outputs, names and
manifest rows as ``fastredact redact``, resumable and fault-tolerant.

- :func:`redact_files` lists the inputs (local paths or ``pyarrow.fs`` URIs), plans every
  output name on the driver, redacts in a pool of :class:`RedactActor` actors (one detector
  set each) and commits manifest rows as parquet parts block by block;
- :class:`RedactActor` is the callable class for ``Dataset.map_batches`` in a pipeline of
  your own;
- :func:`check_plan` refuses actor pools that would hold every CPU (the job would hang).

Importing :mod:`fastredact` never imports Ray; this module imports it when a run starts.
"""

from fastredact.ray._actor import ROW_COLUMNS, RedactActor
from fastredact.ray._parts import ManifestFolder
from fastredact.ray._plan import Task, plan_inputs
from fastredact.ray._run import RayPlanError, RayRun, check_plan, redact_files

__all__ = [
    "ROW_COLUMNS",
    "ManifestFolder",
    "RayPlanError",
    "RayRun",
    "RedactActor",
    "Task",
    "check_plan",
    "plan_inputs",
    "redact_files",
]
