"""Server-side event filters: AND across the lists that are set, OR within one."""

from __future__ import annotations

from dataclasses import dataclass

from telgate_server.events.model import (
    BACKEND,
    CHANNEL,
    EXTENSIONS,
    KIND,
    LINKED_ID,
    NAME,
    UNIQUE_ID,
    Record,
)


@dataclass(frozen=True, slots=True)
class EventFilter:
    backends: frozenset[str] = frozenset()
    # Typed kinds (`channel_hung_up`) and raw PBX names (`VarSet`): one
    # condition, an event passes when its kind is in `types` or its name in `names`.
    types: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    # Exact channel names, and prefixes (given with a trailing `*`).
    channels: frozenset[str] = frozenset()
    channel_prefixes: tuple[str, ...] = ()
    unique_ids: frozenset[str] = frozenset()
    linked_ids: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        *,
        backends: list[str] | None = None,
        types: list[str] | None = None,
        names: list[str] | None = None,
        channels: list[str] | None = None,
        unique_ids: list[str] | None = None,
        linked_ids: list[str] | None = None,
        extensions: list[str] | None = None,
    ) -> EventFilter:
        """A filter from plain lists (empty lists match everything)."""
        chans = channels or []
        return cls(
            backends=frozenset(backends or ()),
            types=frozenset(types or ()),
            names=frozenset(names or ()),
            channels=frozenset(c for c in chans if not c.endswith("*")),
            channel_prefixes=tuple(c[:-1] for c in chans if c.endswith("*")),
            unique_ids=frozenset(unique_ids or ()),
            linked_ids=frozenset(linked_ids or ()),
            extensions=frozenset(extensions or ()),
        )

    @property
    def is_empty(self) -> bool:
        return not (
            self.backends
            or self.types
            or self.names
            or self.channels
            or self.channel_prefixes
            or self.unique_ids
            or self.linked_ids
            or self.extensions
        )

    def matches(self, r: Record) -> bool:
        """Whether the event (its hub record) passes every list that is set."""
        if self.backends and r[BACKEND] not in self.backends:
            return False
        if (self.types or self.names) and not (r[KIND] in self.types or r[NAME] in self.names):
            return False
        if self.channels or self.channel_prefixes:
            channel = r[CHANNEL]
            prefixed = bool(channel) and channel.startswith(self.channel_prefixes)
            if not (channel in self.channels or prefixed):
                return False
        if self.unique_ids and r[UNIQUE_ID] not in self.unique_ids:
            return False
        if self.linked_ids and r[LINKED_ID] not in self.linked_ids:
            return False
        return not (self.extensions and self.extensions.isdisjoint(r[EXTENSIONS]))
