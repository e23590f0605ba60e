"""The embedding space an archived store is restored into: the one its vectors were made in, by the same model and
dimension, whose queries this ragstore can embed.

A store archived from chunks.embedding (its manifest space is null) is restored there, for the server's own model
only. A store of a space of its own gets a space of the same shape: the server's model ('local'), the endpoint of
this ragstore's RAGSTORE_EMBEDDING_PROVIDERS with the same name (its base URL and key variable here, which may
differ from the source's), or, for an endpoint the source named by URL alone (`ragstore reembed --base-url`), that
URL again. Nothing is embedded on restore: the endpoint serves the store's queries afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ragstore.archive.format import ArchiveDamaged
from ragstore.config import LOCAL_PROVIDER, EmbeddingProvider
from ragstore.errors import InvalidRequest
from ragstore.models import EmbeddingSpace
from ragstore.service.spaces import MAX_DIMENSION


def restored_space(
    store: dict[str, Any],
    entry: dict[str, Any] | None,
    model: tuple[str, int],
    providers: Mapping[str, EmbeddingProvider],
) -> EmbeddingSpace | None:
    """The space (a template, without ids) the archived store goes into; None for chunks.embedding. Refuses a store
    whose queries this ragstore could not embed with its model."""
    shape = (store["embedding_model"], store["embedding_dim"])
    named = f"Vector store {store['name']!r} ({store['id']}) of the archive holds {shape[0]} embeddings ({shape[1]}-d)"
    if entry is None:
        if shape != model:
            raise InvalidRequest(
                f"{named}, but this ragstore embeds queries with {model[0]} ({model[1]}-d), so its searches would "
                f"be meaningless. Restore it into a ragstore set up with RAGSTORE_EMBEDDING_MODEL={shape[0]}, then "
                "re-embed it there."
            )
        return None
    if (entry.get("model"), entry.get("dimension")) != shape or not 1 <= shape[1] <= MAX_DIMENSION:
        raise ArchiveDamaged(f"The archive is damaged: the space it records for {store['id']} is not its store's.")
    provider_id = entry.get("provider_id")
    base_url, api_key_env = _endpoint(named, provider_id, entry, shape, model, providers)
    now = datetime.now(UTC)
    return EmbeddingSpace(
        "", store["id"], shape[0], shape[1], base_url, api_key_env, "vectors", "active", now, None, provider_id
    )


def _endpoint(
    named: str,
    provider_id: str | None,
    entry: dict[str, Any],
    shape: tuple[str, int],
    model: tuple[str, int],
    providers: Mapping[str, EmbeddingProvider],
) -> tuple[str | None, str | None]:
    """(base_url, api_key_env) of the endpoint that embeds the restored store's queries here."""
    if provider_id == LOCAL_PROVIDER:
        if shape != model:
            raise InvalidRequest(
                f"{named} by the server's own model, but this ragstore embeds with {model[0]} ({model[1]}-d): "
                f"restore it into a ragstore set up with RAGSTORE_EMBEDDING_MODEL={shape[0]}."
            )
        return None, None
    if provider_id is not None:
        provider = providers.get(provider_id)
        if provider is None:
            configured = ", ".join(sorted(providers)) or "none"
            raise InvalidRequest(
                f"{named} from the endpoint {provider_id!r}, which this ragstore does not have (configured: "
                f"{configured}): add {provider_id!r} serving {shape[0]} to RAGSTORE_EMBEDDING_PROVIDERS."
            )
        return provider.base_url, provider.api_key_env
    if not entry.get("base_url"):
        raise InvalidRequest(f"{named} from an endpoint the archive does not name, so its queries cannot be embedded.")
    return str(entry["base_url"]), entry.get("api_key_env")
