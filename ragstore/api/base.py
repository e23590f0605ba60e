"""The base of every wire model: how a field is required, nullable or omittable, the checks every request body gets,
the metadata and attribute maps, and the list and error envelopes.

The contract is tests/api/reference/openai_vector_stores_openapi.yaml. Three kinds of field appear there:

- required (nullable or not): a field without a default, always serialized, as `null` when nullable and None;
- optional and nullable (`metadata` on a request, `expires_at` on a vector store): `X | None = None`, serialized as
  `null` when None;
- optional and NOT nullable (`expires_after`, `chunking_strategy`, `OpenAIFile.expires_at`): `Omittable[X] = None`.
  On a response, None means "absent" and the key is dropped by `WireModel`'s serializer; on a request, an explicit
  `null` is rejected.

So a response is dumped with a plain `model.model_dump(mode="json")` (or returned to FastAPI as a `response_model`):
never pass `exclude_none`, `exclude_unset` or `exclude_defaults`, which would drop required keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from ragstore.api import limits
from ragstore.api.strings import unstorable, why

T = TypeVar("T")


class _OmitWhenNone:
    """Marks a field that the spec makes optional but not nullable."""

    def __repr__(self) -> str:
        return "OMIT_WHEN_NONE"


OMIT_WHEN_NONE = _OmitWhenNone()
Omittable = Annotated[T | None, OMIT_WHEN_NONE]
"""An optional, non-nullable field: None on a response drops the key; `null` in a request is rejected."""


class WireModel(BaseModel):
    """Base of every wire model: serializes `Omittable` fields only when they hold a value."""

    omittable_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.omittable_fields = frozenset(
            name
            for name, field in cls.model_fields.items()
            if any(marker is OMIT_WHEN_NONE for marker in field.metadata)
        )

    # No return annotation: pydantic would otherwise publish that type as the model's serialization JSON schema.
    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler):
        data = handler(self)
        for name in self.omittable_fields:
            if name in data and data[name] is None:
                del data[name]
        return data


# Set while a request body is being validated, so that only its outermost model looks for unstorable text.
_checking_strings: ContextVar[bool] = ContextVar("checking_strings", default=False)


class RequestModel(WireModel):
    """Base of request bodies: unknown fields are rejected (`additionalProperties: false`), and so is a body holding
    a string that cannot be stored (a NUL or a lone surrogate), wherever it is, before any field is used."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _valid_unicode(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if _checking_strings.get():
            return handler(data)
        token = _checking_strings.set(True)
        try:
            if (found := unstorable(data)) is not None:
                location, char = found
                problem = PydanticCustomError("unstorable_text", why(char))
                details = InitErrorDetails(type=problem, loc=location, input=data)
                raise ValidationError.from_exception_data(cls.__name__, [details])
            return handler(data)
        finally:
            _checking_strings.reset(token)

    @model_validator(mode="after")
    def _reject_null(self) -> Self:
        for name in sorted(self.model_fields_set & self.omittable_fields):
            if getattr(self, name) is None:
                raise ValueError(f"'{name}' may be omitted but must not be null")
        return self


# ---------------------------------------------------------------------------------------------------------------------
# Maps: metadata and attributes

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Scalar = StrictBool | StrictInt | FiniteFloat | StrictStr
"""A JSON string, number or boolean; strict so that `true` stays a bool and `1` stays an int."""


def _check_map(value: dict[str, Any], *, what: str, max_value_chars: int) -> dict[str, Any]:
    if len(value) > limits.MAP_PAIRS:
        raise ValueError(f"{what} may hold at most {limits.MAP_PAIRS} key-value pairs, got {len(value)}")
    for key, item in value.items():
        if len(key) > limits.MAP_KEY_CHARS:
            raise ValueError(
                f"{what} keys may be at most {limits.MAP_KEY_CHARS} characters, {key[:16]!r}... has {len(key)}"
            )
        if isinstance(item, str) and len(item) > max_value_chars:
            raise ValueError(f"{what} values may be at most {max_value_chars} characters, {key!r} has {len(item)}")
    return value


def _check_metadata(value: dict[str, str]) -> dict[str, str]:
    return _check_map(value, what="metadata", max_value_chars=limits.METADATA_VALUE_CHARS)


def _check_attributes(value: dict[str, Scalar]) -> dict[str, Scalar]:
    return _check_map(value, what="attributes", max_value_chars=limits.ATTRIBUTE_VALUE_CHARS)


Metadata = Annotated[dict[str, str], AfterValidator(_check_metadata)]
"""Up to 16 string pairs, keys <= 64 characters, values <= 512. The spec's `Metadata` is also nullable: use `| None`."""

VectorStoreFileAttributes = Annotated[dict[str, Scalar], AfterValidator(_check_attributes)]
"""Up to 16 keys <= 64 characters; values are strings (<= 512), numbers or booleans. Nullable in the spec too."""

ObjectId = Annotated[str, Field(max_length=limits.ID_CHARS)]
"""An object's id in a request body: no id ragstore makes is longer."""


# ---------------------------------------------------------------------------------------------------------------------
# Lists and errors


class ListEnvelope(WireModel):
    """`{"object": "list", "data", "first_id", "last_id", "has_more"}`; subclasses type `data`.

    The spec types `first_id`/`last_id` as required non-nullable strings, so an empty page carries "" in both.
    """

    object: Literal["list"] = "list"
    data: Sequence[Any]
    first_id: str
    last_id: str
    has_more: bool

    @classmethod
    def page(cls, data: Sequence[Any], *, has_more: bool) -> Self:
        """Wrap one page of objects that have an `id`."""
        first_id = data[0].id if data else ""
        last_id = data[-1].id if data else ""
        return cls(data=data, first_id=first_id, last_id=last_id, has_more=has_more)


class Error(WireModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(WireModel):
    error: Error
