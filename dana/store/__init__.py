"""Durable storage of runs: the value codec and the SQLite run store (docs/store.md).

Sits below the workflow runner and above `errors`: nothing here imports the runtime."""
