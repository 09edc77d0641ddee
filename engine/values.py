"""Immutable value classes without dataclasses' start-up cost.

`@dataclass(frozen=True, slots=True)` generates each class's methods as source text and
exec()s it, then rebuilds the class for its slots: about 0.6 ms a class, most of what
`crmform plan` spends on its own imports (benchmarks/README.md, start-up). A `Value`
subclass annotates its attributes, names them in `__slots__` and writes its own `__init__`
(setting them with `_set`, as a frozen dataclass does); this base class gives it, once for
every subclass, what the decorator gave it:

  equality  with an instance of the same class, attribute by attribute (in the order
            annotated); anything else compares as NotImplemented;
  hash      of the same attributes (so equal values hash alike);
  repr      `Name(attr=value, ...)`, over `_repr_fields` (default: every attribute);
  frozen    assigning or deleting an attribute raises FrozenInstanceError, an
            AttributeError as dataclasses.FrozenInstanceError is;
  copy      `copy.copy` and pickle, through `__getstate__`/`__setstate__`;
  replace   `replace(value, attr=new)` (and, on Python 3.13, `copy.replace`): a new value
            built by calling the class with `_init_fields` (default: every attribute).

`OrderedValue` adds `order=True`'s comparisons, over the same attributes. This module
imports nothing from crmform, and only `operator` from the standard library.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, ClassVar, TypeVar, dataclass_transform

_V = TypeVar("_V", bound="Value")

# Sets an attribute of a value under construction, bypassing its frozen __setattr__ (what a
# frozen dataclass's generated __init__ calls too).
_set = object.__setattr__


class FrozenInstanceError(AttributeError):
    """An attempt to change a value after it was built."""


# For type checkers: a subclass is a frozen dataclass (assigning an attribute is an error).
@dataclass_transform(frozen_default=True)
class Value:
    """Base of an immutable value type (see the module's docstring)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _repr_fields: ClassVar[tuple[str, ...]] = ()
    _init_fields: ClassVar[tuple[str, ...]] = ()
    # The attributes compared and hashed, as one tuple (a single attribute: its value).
    _compared: ClassVar[attrgetter[Any]]

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        # The attributes in the order the class annotates them (as dataclasses take them):
        # __slots__ lists the same names, in any order (ruff sorts it). The class's own
        # annotations, without importing inspect for get_annotations.
        own = tuple(cls.__dict__.get("__annotations__", ()))  # noqa: RUF063
        if set(own) != set(cls.__dict__.get("__slots__", ())):
            raise TypeError(f"{cls.__qualname__}: __slots__ must name its annotated attributes")
        fields = (*cls._fields, *own)
        cls._fields = fields
        cls._repr_fields = cls.__dict__.get("_repr_fields", fields)
        cls._init_fields = cls.__dict__.get("_init_fields", fields)
        if fields:
            cls._compared = attrgetter(*fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            compared = self._compared
            return bool(compared(self) == compared(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._compared(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._repr_fields)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> list[object]:
        return [getattr(self, name) for name in self._fields]

    def __setstate__(self, state: list[object]) -> None:
        for name, value in zip(self._fields, state, strict=True):
            _set(self, name, value)

    def __replace__(self: _V, /, **changes: Any) -> _V:
        kwargs = {name: getattr(self, name) for name in self._init_fields}
        kwargs.update(changes)
        return self.__class__(**kwargs)


class OrderedValue(Value):
    """A Value that also orders, as a tuple of its attributes (dataclass order=True)."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(self._compared(self) < self._compared(other))
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(self._compared(self) <= self._compared(other))
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(self._compared(self) > self._compared(other))
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(self._compared(self) >= self._compared(other))
        return NotImplemented


def replace(value: _V, /, **changes: Any) -> _V:
    """A copy of `value` with `changes` (dataclasses.replace, for Value types)."""
    return value.__replace__(**changes)
