"""Answers computed from the read models, kept until the projection checkpoint moves.

Only the projector writes the read models, and it moves the checkpoint in the same transaction; what
they answer while the checkpoint stands at a position is what they answered when it first stood there.
So an answer is kept with the position it was computed at, and every request first reads the checkpoint
(one row): the answer is reused while the position is the same and computed again once it moved.
The cache is per engine (per database) and per process; a rebuild moves the checkpoint as well.
"""

import asyncio
import copy
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.persistence.driver import DriverStatement
from services.projections.tables import CHECKPOINT_NAME, projection_checkpoints

T = TypeVar("T")
MAX_ANSWERS = 1024  # per engine: an endpoint, a day, a caller's scope, filters and page (lists: ~20 kB each)


class Generation:
    """The answers computed at one checkpoint position, least recently used first out."""

    def __init__(self, position: int | None) -> None:
        self.position = position
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._locks: dict[Hashable, asyncio.Lock] = {}

    def get(self, key: Hashable) -> Any | None:
        found = self._answers.get(key)
        if found is not None:
            self._answers.move_to_end(key)
        return found

    def put(self, key: Hashable, answer: Any) -> None:
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > MAX_ANSWERS:
            self._locks.pop(self._answers.popitem(last=False)[0], None)

    def lock(self, key: Hashable) -> asyncio.Lock:
        """One computation per key at a time: the others wait for its answer instead of repeating it."""
        return self._locks.setdefault(key, asyncio.Lock())


class _EngineAnswers:
    """One engine's answers, and its reads of the checkpoint shared by the requests that wait for them.

    A request that comes while a read is under way waits for the next read, which starts after it
    came: no request is answered from a moment before it arrived, and under load one read serves many.
    """

    def __init__(self) -> None:
        self.generation = Generation(None)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future[int | None] | None = None
        self._reading: asyncio.Task[None] | None = None

    async def position(self, engine: AsyncEngine) -> int | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # futures and tasks belong to one loop
            self._loop, self._next, self._reading = loop, None, None
        if self._next is None:
            self._next = loop.create_future()
        waiting = self._next
        if self._reading is None or self._reading.done():
            self._reading = loop.create_task(self._read(engine))
        return await asyncio.shield(waiting)

    async def _read(self, engine: AsyncEngine) -> None:
        while (waiting := self._next) is not None:
            self._next = None
            try:
                row = await _POSITION.first(engine, {"name": CHECKPOINT_NAME})
                waiting.set_result(None if row is None else row[0])
            except Exception as error:  # every waiter gets it, as if it had read itself
                waiting.set_exception(error)


_answers: "weakref.WeakKeyDictionary[AsyncEngine, _EngineAnswers]" = weakref.WeakKeyDictionary()


async def current_generation(engine: AsyncEngine) -> Generation:
    """The answers valid at the checkpoint as it stands now (none once it has moved)."""
    answers = _answers.get(engine)
    if answers is None:
        answers = _answers[engine] = _EngineAnswers()
    position = await answers.position(engine)
    if answers.generation.position != position:
        answers.generation = Generation(position)
    return answers.generation


# The projector's position. Read before every cached answer (several requests share one read): on the
# driver; inside a snapshot, on the snapshot's connection.
_POSITION = DriverStatement(
    select(projection_checkpoints.c.position).where(projection_checkpoints.c.name == bindparam("name"))
)


async def checkpoint_position(connection: AsyncConnection) -> int | None:
    position = await connection.execute(_POSITION.statement, {"name": CHECKPOINT_NAME})
    return position.scalar_one_or_none()


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose reads all see one moment of the database (PostgreSQL: REPEATABLE READ)."""
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            yield connection


async def computed_at(
    engine: AsyncEngine, compute: Callable[[AsyncConnection], Awaitable[T]]
) -> tuple[int | None, T]:
    """The answer and the checkpoint position it belongs to; position None when it moved meanwhile.

    (SQLite reads each statement at its own moment: the checkpoint is read again to be sure.)
    """
    async with snapshot(engine) as connection:
        position = await checkpoint_position(connection)
        answer = await compute(connection)
        unmoved = await checkpoint_position(connection) == position
    return (position if unmoved else None), answer


def stored(generation: Generation, key: Hashable, position: int | None, answer: Any) -> None:
    """Keep the answer when it was computed at the generation's position."""
    if position is not None and position == generation.position:
        generation.put(key, answer)


async def cached(engine: AsyncEngine, key: Hashable, compute: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """The answer to `compute` at the current checkpoint, computed at most once per position.

    A frozen model is handed out as it is (a value); anything else as a copy that callers may change.
    """
    generation = await current_generation(engine)
    found: T | None = generation.get(key)
    if found is None:
        async with generation.lock(key):
            found = generation.get(key)
            if found is None:
                position, answer = await computed_at(engine, compute)
                stored(generation, key, position, answer)
                found = answer
    return found if _frozen(found) else copy.deepcopy(found)


def _frozen(answer: object) -> bool:
    return isinstance(answer, BaseModel) and bool(answer.model_config.get("frozen"))
