"""Wire models of ragstore's chat memory: conversations (after OpenAI's Conversations API), answers, feedback,
training examples and datasets. The objects themselves are rendered by ragstore.chat.objects; these models
document and check them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt

from ragstore.api import limits
from ragstore.api.base import ListEnvelope, Metadata, ObjectId, Omittable, RequestModel, WireModel
from ragstore.api.search_schemas import BoundedFilter, RankingOptions

Role = Literal["system", "developer", "user", "assistant"]
Text = Field(min_length=1, max_length=limits.ITEM_CHARS)
Label = Field(default=None, max_length=limits.LABEL_CHARS)


# ---------------------------------------------------------------------------------------------------------------------
# Conversations


class InputContentPart(RequestModel):
    type: Literal["input_text", "output_text", "text"] = "input_text"
    text: str = Text


def _check_content(content: str | list[InputContentPart]) -> str | list[InputContentPart]:
    """At most ITEM_PARTS parts, and ITEM_CHARS characters in all."""
    if not content:
        raise ValueError("content must not be empty")
    if isinstance(content, list) and len(content) > limits.ITEM_PARTS:
        raise ValueError(f"an item may have at most {limits.ITEM_PARTS} content parts, got {len(content)}")
    chars = len(content) if isinstance(content, str) else sum(len(part.text) for part in content)
    if chars > limits.ITEM_CHARS:
        raise ValueError(f"an item's text may be at most {limits.ITEM_CHARS} characters, got {chars}")
    return content


class InputMessage(RequestModel):
    """A message to add: its content as a string or as text parts (joined by newlines)."""

    type: Literal["message"] = "message"
    role: Role
    content: Annotated[str | list[InputContentPart], AfterValidator(_check_content)]

    @property
    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "\n".join(part.text for part in self.content)


class CreateConversationRequest(RequestModel):
    user_id: str | None = Label
    title: str | None = Label
    metadata: Metadata | None = None
    items: list[InputMessage] | None = Field(default=None, max_length=limits.CONVERSATION_ITEMS)


class UpdateConversationRequest(RequestModel):
    title: str | None = Label
    metadata: Metadata | None = None


class CreateItemsRequest(RequestModel):
    items: list[InputMessage] = Field(min_length=1, max_length=limits.CONVERSATION_ITEMS)


class ConversationObject(WireModel):
    id: str
    object: Literal["conversation"] = "conversation"
    user_id: str | None
    title: str | None
    metadata: dict[str, str] | None
    created_at: int
    updated_at: int


class ContentPart(WireModel):
    type: Literal["input_text", "output_text"]
    text: str


class PassageObject(WireModel):
    chunk_id: str
    file_id: str
    filename: str
    vector_store_id: str
    score: float
    excerpt: str


class FeedbackSummary(WireModel):
    id: str
    rating: int
    comment: str | None
    updated_at: int


class ConversationItem(WireModel):
    id: str
    object: Literal["conversation.item"] = "conversation.item"
    type: Literal["message"] = "message"
    status: Literal["completed"] = "completed"
    role: Role
    content: list[ContentPart]
    created_at: int
    model: str | None
    vector_store_ids: list[str]
    context_used: list[PassageObject]
    feedback: FeedbackSummary | None


class ExportedConversation(ConversationObject):
    items: list[ConversationItem]


class ConversationExport(WireModel):
    """Conversations with every item, as one JSON document (the export routes)."""

    object: Literal["conversation.export"]
    format: str
    exported_at: int
    user_id: str | None
    conversations: list[ExportedConversation]


class ConversationList(ListEnvelope):
    data: list[ConversationObject]


class ConversationItemList(ListEnvelope):
    data: list[ConversationItem]


class DeletedObject(WireModel):
    id: str
    object: str
    deleted: bool


# ---------------------------------------------------------------------------------------------------------------------
# Answers


class AnswerRequest(RequestModel):
    question: str = Field(min_length=1, max_length=limits.QUESTION_CHARS)
    vector_store_ids: list[ObjectId] = Field(min_length=1, max_length=limits.ANSWER_STORES)
    conversation_id: ObjectId | None = None
    user_id: str | None = Label
    filters: Omittable[BoundedFilter] = None
    max_num_results: StrictInt = Field(5, ge=1, le=limits.ANSWER_RESULTS)
    ranking_options: Omittable[RankingOptions] = None
    stream: StrictBool = False


class Citation(WireModel):
    number: int
    chunk_id: str
    file_id: str
    filename: str
    vector_store_id: str
    score: float


class AnswerObject(WireModel):
    """The answer, stored as the conversation's assistant message `id` after the question `question_id`."""

    id: str
    object: Literal["answer"] = "answer"
    conversation_id: str
    question_id: str
    model: str
    answer: str
    citations: list[Citation]
    context_used: list[PassageObject]
    created_at: int


# ---------------------------------------------------------------------------------------------------------------------
# Feedback


class FeedbackRequest(RequestModel):
    rating: StrictInt = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=limits.COMMENT_CHARS)


class FeedbackObject(WireModel):
    id: str
    object: Literal["feedback"] = "feedback"
    conversation_id: str
    message_id: str
    rating: int
    comment: str | None
    created_at: int
    updated_at: int


class FeedbackList(ListEnvelope):
    data: list[FeedbackObject]


class StoreRatings(WireModel):
    vector_store_id: str
    count: int
    mean_rating: float
    ratings: dict[str, int]  # "1".."5": how many of each


class DayRatings(WireModel):
    day: str  # YYYY-MM-DD, UTC
    count: int
    mean_rating: float
    ratings: dict[str, int]


class FeedbackStats(WireModel):
    object: Literal["feedback.stats"] = "feedback.stats"
    since: int
    by_vector_store: list[StoreRatings]
    by_day: list[DayRatings]


# ---------------------------------------------------------------------------------------------------------------------
# Training examples and datasets

Status = Literal["candidate", "approved", "rejected"]


class CreateTrainingExampleRequest(RequestModel):
    message_id: ObjectId = Field(min_length=1)


class CollectTrainingExamplesRequest(RequestModel):
    min_rating: StrictInt = Field(4, ge=1, le=5)
    vector_store_id: ObjectId | None = None


class UpdateTrainingExampleRequest(RequestModel):
    status: Status


class TrainingExampleObject(WireModel):
    id: str
    object: Literal["training_example"] = "training_example"
    status: Status
    source: Literal["rating", "manual"]
    rating: int | None
    conversation_id: str | None
    message_id: str | None
    query: str
    answer: str
    messages: list[dict[str, Any]]
    context_used: list[PassageObject]
    vector_store_ids: list[str]
    model: str | None  # the model that wrote the answer ("extractive" for one); null for an answer added as an item
    created_at: int
    updated_at: int


class TrainingExampleList(ListEnvelope):
    data: list[TrainingExampleObject]


class CreateDatasetRequest(RequestModel):
    name: str = Field(min_length=1, max_length=limits.DATASET_NAME_CHARS)
    description: str | None = Field(default=None, max_length=limits.DATASET_DESCRIPTION_CHARS)
    example_ids: list[ObjectId] = Field(default_factory=list, max_length=limits.DATASET_EXAMPLES)


class AddExamplesRequest(RequestModel):
    example_ids: list[ObjectId] = Field(min_length=1, max_length=limits.DATASET_EXAMPLES)


class DatasetObject(WireModel):
    id: str
    object: Literal["dataset"] = "dataset"
    name: str
    description: str | None
    example_count: int
    created_at: int
    updated_at: int


class DatasetList(ListEnvelope):
    data: list[DatasetObject]
