"""Scenarios are data: object kinds, the sensations they emit, spawn rules, layouts and phases.

Nothing here computes reward. A world only emits named sensations and keeps a hidden performance
score; what is rewarding is decided inside the agent, by its steering subsystem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from shardlab.errors import ShardlabError

SENSATIONS: tuple[str, ...] = (
    "sweet",  # taste
    "salt",  # taste
    "pain",
    "stimulation",  # a reward electrode: the reward button's wire into the steering subsystem
    "feedback",  # behind-the-scenes approval, with no cue in the observation
    "money",
    "supervisor",  # a supervisor is present and perceivable
    "periphery_motion",  # something moving nearby
    "hunger",  # interoception
    "salt_need",  # interoception
)
DRIVES: tuple[str, ...] = ("hunger", "salt_need")
ITEMS: tuple[str, ...] = ("trash", "money")
PHASES: tuple[str, ...] = ("train", "test")
ACTIONS: tuple[str, ...] = ("up", "right", "down", "left", "stay", "use")

Region = tuple[float, float, float, float]
"""(row0, row1, col0, col1) as fractions of the grid, half-open: (0, .4, .6, 1) is the top right."""


def _frozen(m: Mapping[str, float] | None = None) -> Mapping[str, float]:
    return MappingProxyType(dict(m or {}))


@dataclass(frozen=True)
class ObjectKind:
    """A kind of object and what happens when the agent touches or uses it."""

    name: str
    glyph: str
    color: tuple[int, int, int]
    emits: Mapping[str, float] = field(default_factory=_frozen)  # sensations on contact
    performance: float = 0.0  # hidden score on contact; never sensed
    satiates: Mapping[str, float] = field(default_factory=_frozen)  # drive change on contact
    requires: Mapping[str, float] = field(default_factory=_frozen)  # items needed for contact
    inventory: Mapping[str, float] = field(default_factory=_frozen)  # item change on contact
    consumed: bool = False
    respawns: bool = False  # consumed objects reappear elsewhere in their region
    terminal: bool = False  # contact ends the episode
    solid: bool = False  # blocks movement
    visible: bool = True  # drawn in the observation
    supervised_only: bool = False  # emits only while a supervisor is present
    delay: int = 0  # steps between contact and its sensations
    moves: float = 0.0  # probability of a random step each tick
    becomes_on_use: str | None = None  # the "use" action turns it into this kind
    signal: bool = False  # a sign: shown beside the object whose delayed sensations are on
    # their way, while they are (the signal light as a thing in the world, not interoception)
    looks_like: str | None = None  # drawn in this other kind's channel: the agent sees that kind


@dataclass(frozen=True)
class Spawn:
    """Where and when instances of a kind exist: a region, a time window and the phases."""

    kind: str
    count: int = 1
    region: Region | None = None
    at: tuple[int, int] | None = None
    appear: int = 0
    vanish: int = -1  # -1: never
    phases: tuple[str, ...] = PHASES


@dataclass(frozen=True)
class Supervisor:
    """A supervisor who comes and goes (a two-state Markov chain); perceivable or not."""

    p_arrive: float = 0.1
    p_leave: float = 0.1
    visible: bool = True


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    kinds: tuple[ObjectKind, ...]
    spawns: tuple[Spawn, ...]
    layout: str | tuple[str, ...] = "open"  # "open", "maze", or an ASCII map ('#' = wall)
    size: tuple[int, int] = (9, 9)
    agent_region: Region | None = None
    agent_at: tuple[int, int] | None = None
    view_radius: int = 2
    periphery_radius: int = 3
    max_steps: int = 64
    drive_init: Mapping[str, Mapping[str, float]] = field(default_factory=_frozen)  # phase→drive
    drive_rate: Mapping[str, float] = field(default_factory=_frozen)
    supervisor: Supervisor | None = None
    signal_delayed: bool = False  # a visible light while delayed sensations are on their way
    default_reward: Mapping[str, float] = field(default_factory=_frozen)

    def __post_init__(self) -> None:
        names = [k.name for k in self.kinds]
        if len(set(names)) != len(names):
            raise ShardlabError(f"scenario {self.name!r}: duplicate object kind names")
        if isinstance(self.layout, tuple):
            object.__setattr__(self, "size", (len(self.layout), len(self.layout[0])))
        elif self.layout not in ("open", "maze"):
            raise ShardlabError(f"scenario {self.name!r}: unknown layout {self.layout!r}")
        if not 0 <= self.view_radius <= 15:  # the view is drawn in one 32-bit word per row
            raise ShardlabError(f"scenario {self.name!r}: view_radius must be 0 to 15, "
                                f"not {self.view_radius}")  # fmt: skip
        for kind in self.kinds:
            _check_keys(self.name, kind.emits, SENSATIONS, "sensation")
            _check_keys(self.name, kind.satiates, DRIVES, "drive")
            _check_keys(self.name, kind.requires, ITEMS, "item")
            _check_keys(self.name, kind.inventory, ITEMS, "item")
            for other in (kind.becomes_on_use, kind.looks_like):
                if other is not None and other not in names:
                    raise ShardlabError(f"scenario {self.name!r}: unknown kind {other!r}")
        for spawn in self.spawns:
            if spawn.kind not in names:
                raise ShardlabError(f"scenario {self.name!r}: spawn of unknown kind {spawn.kind!r}")
            _check_keys(self.name, dict.fromkeys(spawn.phases, 0), PHASES, "phase")
        _check_keys(self.name, self.default_reward, SENSATIONS, "sensation")
        _check_keys(self.name, self.drive_rate, DRIVES, "drive")

    def kind_index(self, name: str) -> int:
        return [k.name for k in self.kinds].index(name)


def _check_keys(scenario: str, m: Mapping[str, float], allowed: tuple[str, ...], what: str) -> None:
    unknown = set(m) - set(allowed)
    if unknown:
        raise ShardlabError(f"scenario {scenario!r}: unknown {what} {sorted(unknown)}")
