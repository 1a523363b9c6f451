"""The interpreter: runs parsed modules, loads imports, enforces limits.

Consumes: `Module` ASTs (from `dana.syntax`), host settings (`Limits`, read roots,
output streams, registered host functions).
Produces: `Runtime` — the per-interpreter state every compiled closure reaches (builtins,
scoped variables, limits, the module cache, struct method tables, workflow runs) — and
`run_module(runtime, module) -> ModuleValue`.

Limits (docs/language.md): operations executed, wall time (seconds), call depth and the size of
created strings/collections; exceeding one raises `LimitError`, which Dana code cannot
catch. The limits are exact but cheap: an operation is one loop iteration (counted at the
back-edge) or one Dana call (counted at the function's entry), so straight-line code pays
nothing; compiled code bumps `Runtime.operations` and calls `Runtime.checkpoint()` only
when it passes `Runtime.next_check`, which also checks wall time, step deadlines and Ctrl-C
every `CHECK_EVERY` operations. Sizes are checked by the operations that can grow a value
(`dana.runtime.operators`, the builtins that build collections).

Threads: parallel workflow branches run Dana code on pool threads (`Runtime.run_parallel`).
The call depth and the step deadline are per thread (`Runtime.local`, a `ThreadState`); a
branch starts with the depth and deadline of the code that started the block, on a thread
with a big stack. The operation counter is shared (approximate under threads).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TextIO

from dana.errors import DanaRuntimeError, LimitError, runtime_error, rule_error
from dana.messages import checks as M
from dana.messages import runtime as R
from dana.source import SourceFile, Span
from dana.surface import LOG_LEVELS, SHARED_SCOPES, ScopeName
from dana.syntax import ast as A
from dana.syntax.builder import parse
from dana.resources import find_module, module_source, stdlib_dir, submodule_name
from dana.runtime import hostlib
from dana.runtime.builtins import make_builtins
from dana.runtime.formatting import DEFAULT_MAX_SIZE, SIZE_BUDGET
from dana.runtime.permissions import Permissions
from dana.runtime.statements import compile_module
from dana.runtime.values import ModuleValue, StructType

if TYPE_CHECKING:  # the workflow engine is imported with the first workflow a program uses
    from dana.workflow.events import Listener, RunEvent
    from dana.runtime.durable import Durable
    from dana.workflow.cache import StepCache
    from dana.workflow.parallel import BranchExecutor, BranchTask, HostFunction, Outcome

INTERRUPT = threading.Event()
"""Set by the host (the CLI on Ctrl-C) to stop the running program at its next check;
the program then raises KeyboardInterrupt in the thread that runs it."""

CHECK_EVERY = 128
"""Operations between two checks of wall time, step deadlines and Ctrl-C."""

BRANCH_STACK_BYTES = 256 * 1024 * 1024
"""Least stack size of the threads that run parallel branches (virtual memory, reserved
lazily), so deep Dana recursion in a branch hits `Limits.max_depth`, not the C stack."""


class ThreadState:
    """Execution state of one thread (`ident`, as threading.get_ident gives it): Dana call
    `depth` and the step `deadline` (monotonic seconds, step name, timeout seconds) or None."""

    __slots__ = ("depth", "deadline", "ident")

    def __init__(self) -> None:
        self.depth = 0
        self.deadline: tuple[float, str, float] | None = None
        self.ident = threading.get_ident()


class PerThread:
    """Each thread's ThreadState for one Runtime. `state` is the calling thread's (made on
    first use, kept in a ContextVar). A Dana call from Dana code reads it with one C call,
    `current(None)`, instead of a thread-local lookup; entry points (a run, a call from
    host code) read `state`, which also replaces a state that a context copied into
    another thread (asyncio.to_thread) brought from the thread it was copied from."""

    def __init__(self) -> None:
        self._var: ContextVar[ThreadState | None] = ContextVar("dana_thread_state",
                                                               default=None)
        self.current = self._var.get

    @property
    def state(self) -> ThreadState:
        found = self._var.get()
        if found is None or found.ident != threading.get_ident():
            found = ThreadState()
            self._var.set(found)
        return found


@dataclass(frozen=True)
class Limits:
    """Resource limits of one interpreter. `max_operations` counts operations — loop
    iterations and Dana calls — not workflow steps; `timeout_s` is wall-clock seconds per
    top-level run (None: none); `max_size` counts characters or items; `max_memory_mb`
    bounds the memory the process holds (MiB, checked every few thousand operations;
    None: none)."""

    max_operations: int = 50_000_000
    timeout_s: float | None = None
    max_depth: int = 800
    max_size: int = DEFAULT_MAX_SIZE
    max_memory_mb: int | None = None


SANDBOX_LIMITS = Limits(max_operations=100_000_000, timeout_s=10.0, max_size=10_000_000,
                        max_memory_mb=512)
"""The limits of `dana run --sandbox` when no limit flag is given (docs/cli.md)."""

MEMORY_CHECK_EVERY = 16
"""Checkpoints between two readings of the process's memory (a file read on Linux)."""


def sleep_unless_interrupted(seconds: float) -> None:
    """Sleep `seconds` (a retry's backoff); Ctrl-C (INTERRUPT) ends it at once with
    KeyboardInterrupt."""
    if INTERRUPT.wait(seconds):
        INTERRUPT.clear()
        raise KeyboardInterrupt


class Runtime:
    """Everything compiled code needs at run time, for one interpreter."""

    def __init__(self, limits: Limits | None = None, *, allow_read: tuple[Path, ...] = (),
                 permissions: Permissions | None = None,
                 stdout: TextIO | None = None, stderr: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.limits = limits or Limits()
        self.permissions = permissions or Permissions(read=allow_read)
        self.stdout, self.stderr = stdout, stderr
        self.clock, self.sleep = clock, sleep or sleep_unless_interrupted
        self.scoped: dict[ScopeName, dict[str, Any]] = {s: {} for s in SHARED_SCOPES}
        self.modules: dict[Path, ModuleValue] = {}
        self._loading: dict[Path, tuple[int, threading.Event]] = {}  # path -> (thread, done)
        self._import_lock = threading.Lock()
        self._step_cache: StepCache | None = None
        self.durable: Durable | None = None  # where workflow runs are recorded (None: memory)
        self.pending_methods: dict[str, dict[str, Any]] = {}
        self.log_threshold = LOG_LEVELS["warning"]
        self.operations = 0   # loop iterations and Dana calls executed (Limits.max_operations)
        self.next_check = min(self.limits.max_operations, CHECK_EVERY)
        self.checkpoints = 0
        self.wall_deadline: float | None = None
        self.started: float | None = None  # Limits.timeout_s counts from here (None: each run)
        self.per_thread = PerThread()
        self.listeners: list[Listener] = []
        self.executor: BranchExecutor | None = None   # None: parallel branches on threads
        self.struct_types: dict[str, StructType] = {}  # by name, for values from workers
        self.host_functions: dict[str, HostFunction] = {}  # registered by the embedding API
        self.builtins = make_builtins(self)

    # ------------------------------------------------------------ output
    def write(self, text: str) -> None:
        (self.stdout or sys.stdout).write(text)

    def log(self, message: str, level: str = "info") -> None:
        """`log(message, level)`: one `[level] message` line on stderr at or above the
        threshold (docs/language.md, "Logging"); level names in any case."""
        if _level_value(level) >= self.log_threshold:
            (self.stderr or sys.stderr).write(f"[{level.lower()}] {message}\n")

    def set_log_level(self, level: str) -> None:
        """`log_level(level)`: move the threshold; level names in any case."""
        self.log_threshold = _level_value(level)

    # ------------------------------------------------------------ limits
    def tick(self) -> None:
        """Count one operation (compiled code does the same inline)."""
        self.operations += 1
        if self.operations > self.next_check:
            self.checkpoint()

    def checkpoint(self, span: Span | None = None) -> None:
        """The slow half of counting: raise LimitError past `Limits.max_operations`, check
        wall time, step deadlines, memory and Ctrl-C, and set the next check. `span` is
        the loop or call that crossed the line, where a limit error points."""
        limit = self.limits.max_operations
        if self.operations > limit:
            raise runtime_error(R.TOO_MANY_OPERATIONS, span, limit=limit)
        self.check_time(span)
        if self.limits.max_memory_mb is not None:
            self.checkpoints += 1
            if not self.checkpoints % MEMORY_CHECK_EVERY:
                self.check_memory(span)
        self.next_check = min(limit, self.operations + CHECK_EVERY)

    def check_time(self, span: Span | None = None) -> None:
        if INTERRUPT.is_set():
            INTERRUPT.clear()
            raise KeyboardInterrupt
        now = self.clock()
        if self.wall_deadline is not None and now > self.wall_deadline:
            raise timeout_error(self.limits.timeout_s, span)
        deadline = self.local.deadline
        if deadline is not None and now > deadline[0]:
            raise self._step_timeout(deadline, span)

    def backoff(self, seconds: float) -> None:
        """Wait `seconds` before a retry (with `sleep`), but only until the run's deadline
        (`Limits.timeout_s`) or the calling thread's step deadline, whichever comes first:
        then raise its error at once (the LimitError, or the step's TimeoutError; no span:
        the runner gives the step's). Docs/workflows.md "Step options"."""
        now, ends = self.clock(), []
        if self.wall_deadline is not None:
            ends.append((self.wall_deadline, 0))
        if self.local.deadline is not None:
            ends.append((self.local.deadline[0], 1))
        first = min(ends, default=None)
        if first is None or now + seconds < first[0]:
            self.sleep(seconds)
            return
        self.sleep(max(first[0] - now, 0.0))
        if first[1] == 0:
            raise timeout_error(self.limits.timeout_s, None)
        raise self._step_timeout(self.local.deadline, None)

    @staticmethod
    def _step_timeout(deadline: tuple[float, str, float], span: Span | None) -> DanaRuntimeError:
        """The uncatchable TimeoutError of a step past its `deadline`."""
        exc = runtime_error(R.STEP_TIMEOUT, span, step=deadline[1], seconds=deadline[2])
        exc.catchable = False
        return exc

    def check_memory(self, span: Span | None = None) -> None:
        """LimitError when the process holds more than `Limits.max_memory_mb` MiB."""
        limit = self.limits.max_memory_mb
        if limit is not None and resident_mib() > limit:
            raise runtime_error(R.TOO_MUCH_MEMORY, span, limit=limit)

    @property
    def local(self) -> ThreadState:
        """The calling thread's call depth and step deadline."""
        return self.per_thread.state

    @property
    def depth(self) -> int:
        """Dana calls in progress on the calling thread."""
        return self.local.depth

    @depth.setter
    def depth(self, value: int) -> None:
        self.local.depth = value

    def arm_deadline(self, seconds: float | None, step: str) -> Callable[[], None]:
        """Give the calling thread a step deadline `seconds` from now (None: keep the
        current one); an enclosing earlier deadline still applies. Returns the function
        that restores the previous deadline."""
        if seconds is None:  # the deadline stays as it is: nothing to restore
            return _keep_deadline
        local = self.local
        previous = local.deadline
        mine = (self.clock() + seconds, step, seconds)
        local.deadline = mine if previous is None or mine[0] < previous[0] else previous

        def disarm() -> None:
            local.deadline = previous
        return disarm

    # ------------------------------------------------------------ threads
    def run_parallel(self, tasks: list[BranchTask], workers: int) -> list[Outcome]:
        """Run parallel branches with `self.executor` (other processes or a cluster), or
        else on a thread pool of `workers` threads (see
        `dana.workflow.parallel.run_concurrently`). On threads, each branch starts with the
        caller's call depth and step deadline; Ctrl-C (INTERRUPT) in one branch stops them
        all and re-raises KeyboardInterrupt here."""
        if self.executor is not None:
            return self.executor.run(self, tasks, workers)
        depth, deadline = self.local.depth, self.local.deadline

        def in_branch(task: Callable[[], Any]) -> Callable[[], Any]:
            def run() -> Any:
                self.local.depth, self.local.deadline = depth, deadline
                SIZE_BUDGET.set(self.limits.max_size)  # the thread's own context
                try:
                    return task()
                except KeyboardInterrupt:
                    INTERRUPT.set()  # the other branches stop at their next check
                    raise
            return run
        # stack_size(n) sets the size for threads started from now on and returns the
        # previous setting (0: the platform default); a bigger one (the CLI's) is kept.
        previous = threading.stack_size(BRANCH_STACK_BYTES)
        if previous > BRANCH_STACK_BYTES:
            threading.stack_size(previous)
        try:
            from dana.workflow.parallel import run_concurrently
            outcomes = run_concurrently([in_branch(t) for t in tasks], workers,
                                        stop=INTERRUPT.set)
        except KeyboardInterrupt:
            INTERRUPT.clear()
            raise
        finally:
            threading.stack_size(previous)
        if any(isinstance(o.error, KeyboardInterrupt) for o in outcomes):
            INTERRUPT.clear()
        return outcomes

    # ------------------------------------------------------------ methods of structs
    def register_method(self, namespace: dict, owner: str, name: str, fn: Any,
                        explicit: bool, local: Any = None) -> None:
        """Attach `fn` as method `name` of struct `owner` (receiver methods always; a
        function whose first parameter is typed with the struct only if no method of that
        name exists). `local` is the value of a local variable named `owner`, if the
        method is declared in a function body. Structs declared later pick pending
        methods up in `adopt_methods`."""
        struct = local if isinstance(local, StructType) else namespace.get(owner)
        if isinstance(struct, StructType):
            if explicit or name not in struct.methods:
                struct.methods[name] = fn
        else:
            pending = self.pending_methods.setdefault(owner, {})
            if explicit or name not in pending:
                pending[name] = fn

    def adopt_methods(self, struct: StructType) -> None:
        struct.methods.update(self.pending_methods.pop(struct.name, {}))

    # ------------------------------------------------------------ files
    def open_for_read(self, path: Any) -> Path:
        """The resolved path of an existing file the program may read; PermissionError
        outside the read roots, Error for a missing file."""
        resolved = self.permissions.readable(path)
        if not resolved.is_file():
            raise runtime_error(R.NO_SUCH_FILE, path=path, shown=_shown_path(resolved))
        return resolved

    # ------------------------------------------------------------ imports
    def load_module(self, name: str, importer: SourceFile, span: Span) -> ModuleValue:
        """Import a `.dana`/`.na` module relative to the importer's folder, then `stdlib/`.
        Raises ImportError for a missing module or an import cycle."""
        path = find_module(name, importer)
        if path is None:
            where = f"relative to the folder of {importer.name}" if name.startswith(".") \
                else f"looked beside {importer.name} and in the standard library"
            raise rule_error("ImportError", M.MODULE_NOT_FOUND, span, name=name, notes=(where,))
        me = threading.get_ident()
        while True:  # parallel branches may import at once: one loads, the others wait
            with self._import_lock:
                module = self.modules.get(path)
                if module is not None:
                    return module
                loading = self._loading.get(path)
                if loading is None:
                    done = threading.Event()
                    self._loading[path] = (me, done)
                    break
            if loading[0] == me:
                raise runtime_error(R.IMPORT_CYCLE, span, name=name)
            loading[1].wait()
        try:
            # stdlib modules (only those) see the `_host_*` functions of hostlib as globals
            host = hostlib.host_globals() if path.is_relative_to(stdlib_dir().resolve()) else None
            module = run_module(self, parse(module_source(path, importer)), name, host)
            with self._import_lock:
                self.modules[path] = module
            return module
        finally:
            with self._import_lock:
                del self._loading[path]
            done.set()

    def import_names(self, module: str, names: list[str], span: Span) -> list[Any]:
        """The values `from module import names` binds: each a member of the module, or
        else its submodule (`from pkg import sub`, `from . import sub`). Only submodules
        are taken from a folder without an `__init__`, or from the package whose
        `__init__` is running. Raises ImportError or NameError."""
        importer = span.source
        path = find_module(module, importer)
        itself = path is not None and importer.path is not None and \
            path == importer.path.resolve()
        mod = self.load_module(module, importer, span) if path and not itself else None
        values = []
        for name in names:
            sub = submodule_name(module, name)
            if mod is not None and name in mod.namespace and not name.startswith("_"):
                values.append(mod.namespace[name])
            elif find_module(sub, importer) is not None:
                values.append(self.load_module(sub, importer, span))
            elif path is None:
                self.load_module(module, importer, span)  # raises: no such module
            else:
                raise rule_error("ImportError", M.IMPORT_NOT_FOUND, span, module=module, name=name)
        return values

    # ------------------------------------------------------------ workflows
    # The workflow engine (dana.runtime.workflows and dana.workflow.*) is imported by the
    # first workflow a program declares or runs: a plain script never loads it.
    def workflow_compiler(self, compiler: Any, node: A.WorkflowDecl) -> Callable[[list], Any]:
        """The closure that makes the template of a `workflow` declaration."""
        from dana.runtime import workflows
        return workflows.compile_workflow(compiler, node)

    def workflow_composer(self, compiler: Any,
                          node: A.WorkflowComposeDecl) -> Callable[[list], Any]:
        """The closure that makes the template of a composed workflow."""
        from dana.runtime import workflows
        return workflows.compile_composition(compiler, node)

    def run_workflow(self, template: Any, config: dict | None = None, **state: Any) -> Any:
        from dana.runtime import workflows
        budget = SIZE_BUDGET.set(self.limits.max_size)
        try:
            return workflows.run(self, template, state, config or {})
        finally:
            SIZE_BUDGET.reset(budget)

    def compose_workflows(self, *templates: Any) -> Any:
        from dana.runtime import workflows
        return workflows.compose(templates, None)

    @property
    def step_cache(self) -> StepCache:
        """`@step(cache=True)` results, across this runtime's runs (made on first use)."""
        with self._import_lock:
            if self._step_cache is None:
                from dana.workflow.cache import StepCache
                self._step_cache = StepCache()
            return self._step_cache

    def emit(self, event: RunEvent) -> None:
        """Give `event` to every listener. A listener that raises is reported on stderr
        and gets no further events; the run goes on (like a failing logging handler)."""
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception as exc:  # host code: a bug in the listener, not in the run
                self.listeners.remove(listener)
                name = getattr(listener, "__qualname__", type(listener).__name__)
                (self.stderr or sys.stderr).write(
                    f"[warning] event listener {name} failed on {event.get('event')}: "
                    f"{type(exc).__name__}: {exc}; it gets no further events\n")


def _keep_deadline() -> None:
    """What `Runtime.arm_deadline(None, step)` returns: there is nothing to restore."""


def _shown_path(path: Path) -> str:
    """`path` relative to the working directory when it lies under it, else absolute."""
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)


# Python frames one Dana call may use (a call nested in deep expressions takes ~10).
_PY_FRAMES_PER_CALL = 25


def timeout_error(seconds: float | None, span: Span | None) -> LimitError:
    """The LimitError of a program past `Limits.timeout_s` (`seconds`), at `span`."""
    return runtime_error(R.TOO_LONG_RUN, span, seconds=seconds)


def _allow_depth(max_depth: int) -> None:
    """Raise Python's recursion limit so that `Limits.max_depth` Dana calls fit in it and
    the LimitError of `Runtime.enter` fires first (never a host RecursionError)."""
    needed = max_depth * _PY_FRAMES_PER_CALL + 1000
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)


def run_module(rt: Runtime, module: A.Module, name: str = "__main__",
               globals_: dict[str, Any] | None = None, checked: Any = None) -> ModuleValue:
    """Compile and run a module's top-level code; returns its namespace as a ModuleValue.
    `checked`: the checker's `CheckResult` for `module` (`pipeline.Prepared.result`), whose
    types let the compiler specialise; None for unchecked code. Raises the DanaError that
    stopped it."""
    namespace = {} if globals_ is None else globals_
    runner = compile_module(rt, module, namespace, checked)
    _allow_depth(rt.limits.max_depth)
    if rt.limits.timeout_s is not None and rt.depth == 0:
        started = rt.started if rt.started is not None else rt.clock()
        rt.wall_deadline = started + rt.limits.timeout_s
    budget = SIZE_BUDGET.set(rt.limits.max_size)
    try:
        runner()
    finally:
        SIZE_BUDGET.reset(budget)
    path = module.span.source.path
    return ModuleValue(name, namespace, str(path) if path else None)


def resident_mib() -> float:
    """Memory the process holds now (resident set, MiB): /proc/self/statm on Linux, else
    the peak from getrusage."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE / 2**20
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _level_value(level: Any) -> int:
    """The numeric value of a log level name (any case). Raises ValueError."""
    value = LOG_LEVELS.get(level.lower()) if isinstance(level, str) else None
    if value is None:
        raise runtime_error(R.UNKNOWN_LOG_LEVEL, level=level, levels=", ".join(LOG_LEVELS))
    return value
