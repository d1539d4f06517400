"""What the class server accepts and answers: Pydantic DTOs, with every limit of `protocol`.

`ReportIn` is the results file's format (checks/workshop/results.schema.json, version 2) as the
server accepts it: the suite checks that both describe the same fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from workshop.classroom import protocol


def _name(value: str) -> str:
    if not protocol.valid_name(value):
        raise ValueError(
            f"1 to {protocol.MAX_NAME} letters, digits, spaces, dots, dashes or apostrophes, "
            "starting with a letter or digit"
        )
    return value


def _lesson(value: str) -> str:
    if not protocol.LESSON.fullmatch(value):
        raise ValueError("a lesson number has two digits, like 05")
    return value


LearnerName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=protocol.MAX_NAME), AfterValidator(_name)
]
LessonNumber = Annotated[str, StringConstraints(max_length=2), AfterValidator(_lesson)]
Count = Annotated[int, Field(ge=0, le=protocol.MAX_CHECKS)]


class Strict(BaseModel):
    """Unknown fields are refused: a body that says more than the format is not a report of ours."""

    model_config = ConfigDict(extra="forbid")


class JoinIn(Strict):
    code: Annotated[str, StringConstraints(max_length=20)]
    name: LearnerName


class Joined(BaseModel):
    learner_id: uuid.UUID
    name: str
    token: str  # the learner's own; shown once, stored by the server only as a hash
    title: str


class CheckIn(Strict):
    nodeid: Annotated[str, StringConstraints(min_length=1, max_length=protocol.MAX_NODEID)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=protocol.MAX_CHECK_NAME)]
    step: Annotated[int, Field(ge=0, le=999)]
    outcome: Literal["passed", "failed", "skipped"]
    kind: Literal["todo", "teaching", "environment", "bug"] | None
    message: Annotated[str, StringConstraints(max_length=protocol.MAX_MESSAGE)]
    hint: Annotated[str, StringConstraints(max_length=protocol.MAX_HINT)]
    engine_gated: bool
    seconds: Annotated[float, Field(ge=0, le=86_400)]

    @model_validator(mode="after")
    def _kind_only_when_failed(self) -> CheckIn:
        if (self.outcome == "failed") != (self.kind is not None):
            raise ValueError("a failed check has a kind; a passed or skipped one has none")
        return self


class ReportIn(Strict):
    """One whole-lesson run: the content of `.workshop/results/NN.json`."""

    schema_version: Literal[2] = Field(alias="schema")
    lesson: LessonNumber
    checks: Annotated[list[CheckIn], Field(min_length=1, max_length=protocol.MAX_CHECKS)]
    total: Count
    selected: Count
    passed: Count
    failed: Count
    skipped: Count
    exitstatus: Annotated[int, Field(ge=0, le=255)]
    collection_errors: Annotated[
        list[Annotated[str, StringConstraints(max_length=protocol.MAX_NODEID)]],
        Field(max_length=protocol.MAX_COLLECTION_ERRORS),
    ]
    at: AwareDatetime
    workshop: Annotated[str, StringConstraints(max_length=40)]

    @model_validator(mode="after")
    def _totals_add_up(self) -> ReportIn:
        outcomes = [check.outcome for check in self.checks]
        counted = (outcomes.count("passed"), outcomes.count("failed"), outcomes.count("skipped"))
        if (self.passed, self.failed, self.skipped) != counted:
            raise ValueError(f"the totals {self.passed}/{self.failed}/{self.skipped} do not match the checks {counted}")
        if not self.selected == self.total == len(self.checks):
            raise ValueError("only a run of the whole lesson is a result (selected = total = the checks listed)")
        return self

    @property
    def graded(self) -> int:
        return self.passed + self.failed


class ResultPost(Strict):
    run_id: uuid.UUID  # made by the learner's client when it queued the report: a resend is recorded once
    result: ReportIn


class Recorded(BaseModel):
    id: int
    lesson: str
    replayed: bool  # this run was recorded before


class StandingOut(BaseModel):
    """Where a learner stands in one lesson (what a learner may read of their own)."""

    lesson: str
    passed: int
    graded: int
    run_at: datetime
    next_check: str | None
    next_step: int | None


class LearnerOut(BaseModel):
    name: str
    joined_at: datetime
    current: StandingOut | None  # the lesson of their latest run
    stuck_minutes: float | None  # since their current next check first became the next check
    minutes_since_progress: float
    lessons: dict[str, StandingOut]


class FailingOut(BaseModel):
    lesson: str
    check: str
    step: int
    failing: int  # learners whose latest run of the lesson fails it
    next_for: int  # learners for whom it is the next failing check: where they are held up
    of: int  # learners with a run of the lesson


class RoomOut(BaseModel):
    title: str
    lessons: list[str]
    learners: list[LearnerOut]
    stuck: list[str]  # names of the learners whose latest run fails, the longest on the same check first
    failing: list[FailingOut]  # every check failing in somebody's latest run: the most often next first
    at: datetime
