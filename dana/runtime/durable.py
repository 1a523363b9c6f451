"""Durable runs seen from the interpreter: which store a run goes to, and how stored
values become Dana values again (docs/store.md).

Consumes: a `RunStore`, the parsed modules being run (for code hashes), the
interpreter's namespaces (for struct types).
Produces: `Durable` — `journal_for(template, initial, config)` makes the `Journal` of the
next workflow run (or hands out the one a resume prepared), `struct_builder()` rebuilds
stored structs from the struct types the namespaces define.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from dana.errors import runtime_error
from dana.messages import runtime as R
from dana.syntax import ast as A
from dana.runtime.values import ModuleValue, StructInstance, StructType, describe_type

if TYPE_CHECKING:  # the store (sqlite3) and the engine load with the first workflow run
    from dana.store.runs import RunStore
    from dana.workflow.journal import Journal
    from dana.workflow.template import WorkflowTemplate



@dataclass
class Durable:
    """Where an interpreter's workflow runs are recorded: `opener` is the run store or a
    function opening it (at the first run). `modules` maps a source file's
    name to its parsed module (for the code hashes of the workflows it defines); `entry`
    is how the next run is started ("toplevel" for `run(...)`, "workflow" for `dana run
    --workflow`); `on_start(run_id)` is told each new run's id; `pending` is a resumed
    run's journal, given to the next run; `cache_mode` and `on_explain` go to each run's
    step cache (dana.workflow.store_cache, dana.workflow.explain)."""

    opener: "RunStore | Callable[[], RunStore]"
    modules: dict[str, A.Module] = field(default_factory=dict)
    namespaces: list[dict[str, Any]] = field(default_factory=list)
    entry: str = "toplevel"
    on_start: Callable[[str], None] | None = None
    pending: "Journal | None" = None
    cache_mode: str = "use"
    on_explain: Callable[[list], None] | None = None
    _code: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def store(self) -> RunStore:
        """The run store (opened now if it was given as a function that opens it)."""
        if callable(self.opener):
            self.opener = self.opener()
        return self.opener

    def add_module(self, module: A.Module, namespace: dict[str, Any] | None = None) -> None:
        """Know `module`'s code (and the struct types of `namespace`)."""
        self.modules[module.span.source.name] = module
        if namespace is not None:
            self.namespaces.append(namespace)

    def journal_for(self, template: WorkflowTemplate, initial: dict[str, Any],
                    config: dict[str, Any]) -> Journal:
        """The journal of a run of `template` about to start (a resume's, if pending)."""
        from dana.workflow.codehash import code_hashes
        from dana.workflow.journal import Journal, RunIdentity
        if self.pending is not None:
            journal, self.pending = self.pending, None
            return self._with_cache(journal, template)
        source = template.span.source if template.span is not None else None
        module = self.modules.get(source.name) if source is not None else None
        template_hash, code = code_hashes(module, template.name,
                                          template.span.text if template.span else template.name)
        path = str(source.path or source.name) if source is not None else None
        identity = RunIdentity(template.name, template.version, path, self.entry,
                               template_hash, code)
        journal = Journal.start(self.store, identity, initial, config,
                                type_name_of=describe_type)
        journal.struct = self.struct_builder()
        if self.on_start is not None:
            self.on_start(journal.run_id)
        return self._with_cache(journal, template)

    def _with_cache(self, journal: Journal, template: WorkflowTemplate) -> Journal:
        """Give the journal the store's step cache (docs/store.md "Step cache")."""
        from dana.store.cache import CacheTable
        from dana.workflow.store_cache import StoreCache
        journal.code_of = self.step_code
        journal.cache = StoreCache(CacheTable(self.store), workflow=template.name,
                                   version=template.version, code_of=self.step_code,
                                   hash_of=journal.hash_of, mode=self.cache_mode,
                                   report=self.on_explain)
        return journal

    def step_code(self, step: Any) -> tuple[dict[str, str], frozenset[str] | None]:
        """The hashes of a step's code (its definition and what it reaches, from the
        module that defines it; its bound arguments as `<name>`) and the names that code
        mentions (None for a host function, whose code Dana cannot see)."""
        from dana.workflow.codehash import digest, step_code
        source = step.span.source.name if step.span is not None else ""
        known = self._code.get((source, step.name))
        if known is None:
            defined_in = [m for m in self.modules.values() if step.name in _defined(m)]
            module = defined_in[0] if defined_in else self.modules.get(source)
            known = self._code[(source, step.name)] = step_code(module, step.name)
        hashes, names = known
        is_dana = bool(step.identity) and isinstance(step.identity[0], str)
        bound = repr(step.identity[3:]) if is_dana else _host_name(step.identity)
        return {**hashes, f"<{step.name}>": digest(bound)}, (names if hashes else None)

    def struct_builder(self) -> Callable[[str, dict[str, Any]], Any]:
        """name, fields -> the struct value, with the struct type the namespaces define
        under that name (DanaRuntimeError TypeError when none does)."""
        def build(name: str, fields: dict[str, Any]) -> StructInstance:
            struct = self._struct_types().get(name)
            if struct is None:
                raise runtime_error(R.STORED_STRUCT_GONE, name=name)
            return StructInstance(struct, fields)
        return build

    def _struct_types(self) -> dict[str, StructType]:
        found: dict[str, StructType] = {}
        for namespace in self.namespaces:
            for value in namespace.values():
                if isinstance(value, StructType):
                    found.setdefault(value.name, value)
                elif isinstance(value, ModuleValue):
                    found.update({k: v for k, v in value.namespace.items()
                                  if isinstance(v, StructType) and k not in found})
        return found


def _defined(module: A.Module) -> set[str]:
    return {getattr(stmt, "name", None) for stmt in module.body}


def _host_name(identity: tuple) -> str:
    """A host step's stable identity: its function's qualified name."""
    fn = identity[0] if identity else None
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
