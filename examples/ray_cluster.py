"""Redact a dataset on a Ray cluster with fastredact (``pip install 'fastredact[ray]'``).

On the cluster's head node (every node needs fastredact installed, and the output and
manifest folders on a filesystem every node sees, e.g. NFS):

    python examples/ray_cluster.py s3://bucket/photos /mnt/shared/redacted /mnt/shared/manifest \\
        --address auto --actors 16

Run it again after a failure: it resumes (only inputs without an ``ok`` row of the same
settings are redone). ``fastredact manifest cat /mnt/shared/manifest`` prints the manifest
as JSON Lines for ``fastredact eval`` and friends.
"""

from __future__ import annotations

import argparse

import ray

from fastredact import RedactOptions
from fastredact.ray import redact_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "inputs", nargs="+", help="folders, files or pyarrow.fs URIs, then OUT MANIFEST"
    )
    parser.add_argument("--address", default="auto", help="the Ray cluster ('auto': this one)")
    parser.add_argument("--actors", type=int, help="detector actors (default: as the CPUs allow)")
    parser.add_argument("--cpus-per-actor", type=float, default=1.0)
    parser.add_argument("--profile", help="a fastredact profile (publish, training, internal)")
    args = parser.parse_args(argv)
    *inputs, output, manifest = args.inputs
    options = RedactOptions.from_profile(args.profile) if args.profile else RedactOptions()
    ray.init(address=args.address, log_to_driver=False)
    run = redact_files(inputs, output, manifest, options, actors=args.actors,
                       cpus_per_actor=args.cpus_per_actor)  # fmt: skip
    print(f"{run.ok} ok, {run.skipped} skipped, {run.failed} failed, "
          f"{run.done_before} done before; crashed: {run.crashed or 'none'}")  # fmt: skip
    return 1 if run.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
