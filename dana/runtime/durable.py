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

from dana.errors import DanaRuntimeError
from dana.syntax import ast as A
from dana.runtime.values import ModuleValue, StructInstance, StructType, describe_type

if TYPE_CHECKING:  # the store (sqlite3) and the engine load with the first workflow run
    from dana.store.runs import RunStore
    from dana.workflow.journal import Journal
    from dana.workflow.template import WorkflowTemplate

MSG_NO_STRUCT = "the stored run holds a struct `{name}`, which the file no longer defines"


@dataclass
class Durable:
    """Where an interpreter's workflow runs are recorded: `opener` is the run store or a
    function opening it (at the first run). `modules` maps a source file's
    name to its parsed module (for the code hashes of the workflows it defines); `entry`
    is how the next run is started ("toplevel" for `run(...)`, "workflow" for `dana run
    --workflow`); `on_start(run_id)` is told each new run's id; `pending` is a resumed
    run's journal, given to the next run."""

    opener: "RunStore | Callable[[], RunStore]"
    modules: dict[str, A.Module] = field(default_factory=dict)
    namespaces: list[dict[str, Any]] = field(default_factory=list)
    entry: str = "toplevel"
    on_start: Callable[[str], None] | None = None
    pending: "Journal | None" = None

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
            return journal
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
        return journal

    def struct_builder(self) -> Callable[[str, dict[str, Any]], Any]:
        """name, fields -> the struct value, with the struct type the namespaces define
        under that name (DanaRuntimeError TypeError when none does)."""
        def build(name: str, fields: dict[str, Any]) -> StructInstance:
            struct = self._struct_types().get(name)
            if struct is None:
                raise DanaRuntimeError("TypeError", MSG_NO_STRUCT.format(name=name))
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
