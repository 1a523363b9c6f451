"""Parallel branches in other processes: a local process pool or a Dask cluster.

Consumes: an executor choice (docs/distributed.md) and the runner's branch tasks.
Produces: `parse_executor`, `make_executor` and the `RemoteExecutor` they give; the
wire format (`wire`) and the worker side (`worker.run_job`).
"""

from dana.distributed.executors import (ExecutorChoice, RemoteExecutor, make_executor,
                                        parse_executor)

__all__ = ["ExecutorChoice", "RemoteExecutor", "make_executor", "parse_executor"]
