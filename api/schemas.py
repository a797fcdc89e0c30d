"""Request and response bodies. The OpenAPI document is generated from these models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FitnessGoal = Literal["weight_loss", "muscle_gain", "endurance", "flexibility"]

#: Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not checked.
#: Control characters (NUL included, which PostgreSQL text cannot hold) are refused.
EMAIL_PATTERN = r"^[^@\x00-\x20\x7f]{1,64}@[^@\x00-\x20\x7f]+\.[^@\x00-\x20\x7f]+$"
USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"


class _In(BaseModel):
    # No whitespace stripping: what the schema accepts is exactly what is validated.
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_In):
    """POST /api/auth/register/."""

    username: str = Field(min_length=3, max_length=150, pattern=USERNAME_PATTERN)
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=8, max_length=128)
    height: float = Field(gt=50, lt=300, description="centimetres")
    weight: float = Field(gt=20, lt=500, description="kilograms")
    fitness_goal: FitnessGoal


class LoginIn(_In):
    """POST /api/auth/login/."""

    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(max_length=128)


class RefreshIn(_In):
    """POST /api/auth/token/refresh/."""

    refresh: str = Field(max_length=4096)


class PasswordChangeIn(_In):
    """POST /api/auth/password/ (extension)."""

    old_password: str = Field(max_length=128)
    new_password: str = Field(min_length=8, max_length=128)


class AccountDeleteIn(_In):
    """DELETE /api/auth/account/ (extension): the password confirms."""

    password: str = Field(max_length=128)


class UserOut(BaseModel):
    """The user as returned by register."""

    id: int
    username: str
    email: str
    height: float
    weight: float
    fitness_goal: FitnessGoal
    daily_streak: int


class UserBrief(BaseModel):
    """The user as returned by login."""

    id: int
    username: str
    email: str


class RegisterOut(BaseModel):
    """201 from register."""

    user: UserOut
    refresh: str
    access: str


class LoginOut(BaseModel):
    """200 from login."""

    user: UserBrief
    refresh: str
    access: str


class RefreshOut(BaseModel):
    """200 from token refresh; ``refresh`` is the rotated token (extension)."""

    access: str
    refresh: str


class StatsOut(BaseModel):
    """200 from stats; ``daily_streak`` and ``total_seconds`` are extensions."""

    total_exercises: int
    #: Whole minutes (the contract's integer), rounded to the nearest.
    total_minutes: int
    #: The same time in seconds, to a tenth.
    total_seconds: float
    highest_streak: int
    daily_streak: int
    calories_burned: float
    created_at: datetime


class HistoryItem(BaseModel):
    """One entry of the history list; ``good_reps`` and ``calories`` are extensions."""

    id: int
    exercise_type: str
    date: datetime
    reps: int
    form_accuracy: float
    duration: int
    good_reps: int
    calories: float
    #: Extension: ``"live"`` (a WebSocket session) or ``"upload"`` (an analysed video).
    source: str = "live"


class SessionDetailOut(HistoryItem):
    """GET /api/exercises/history/{id}/ (extension): one session with what is stored of it.

    ``details`` is the analyzer's summary as saved: ``rep_details`` (per rep: start and
    end, tempo as ``eccentric_s``, ``bottom_pause_s``, ``concentric_s``, ``top_pause_s``,
    ``range_deg``, ``side``, ``set_index``, ``faults``), ``sets`` (reps, rest after,
    ``fatigue``), ``reps_left``/``reps_right`` and ``fault_counts``.
    """

    details: dict[str, Any]
    #: Each fault name of this exercise in the words a person is told.
    fault_words: dict[str, str]


class ProgressDay(BaseModel):
    """One UTC day of the progress window (days without a session are zeros)."""

    date: date
    sessions: int
    reps: int
    good_reps: int
    #: Time exercised, minutes to a tenth.
    minutes: float
    #: Mean form accuracy of the day's sessions (0-100); None on a day without one.
    form_accuracy: float | None
    calories: float


class ProgressExercise(BaseModel):
    """One exercise type over the window."""

    exercise_type: str
    sessions: int
    reps: int
    good_reps: int
    minutes: float
    form_accuracy: float
    #: Reps on each day of the window, in the order of ``ProgressOut.daily``.
    daily_reps: list[int]


class ProgressOut(BaseModel):
    """GET /api/exercises/progress/ (extension): the last ``days`` UTC days, today last."""

    days: int
    first_day: date
    last_day: date
    daily: list[ProgressDay]
    exercises: list[ProgressExercise]
    #: Days of the window with at least one session.
    active_days: int
    #: Consecutive days with a session ending today or yesterday, and the longest ever.
    current_streak: int
    best_streak: int


class ProfileOut(BaseModel):
    """The person as stored (export)."""

    id: int
    username: str
    email: str
    height: float
    weight: float
    fitness_goal: str
    created_at: datetime


class SessionExport(HistoryItem):
    """One session with everything stored about it (export): the per-rep details."""

    session_key: str
    details: dict[str, Any]


class HealthOut(BaseModel):
    """Liveness/readiness."""

    status: Literal["ok"]


class UploadOut(BaseModel):
    """201 from a video upload."""

    message: str
    file_path: str
    #: Extensions: the analysis job (GET /api/exercises/analyses/{analysis_id}/).
    analysis_id: int
    status: Literal["queued", "running", "done", "failed"]


class AnalysisProgress(BaseModel):
    """Frames of the video analysed so far."""

    frames_done: int
    frames_total: int


class AnalysisOut(BaseModel):
    """An upload's analysis: its state, progress, and the summary once done."""

    id: int
    exercise_type: str
    status: Literal["queued", "running", "done", "failed"]
    progress: AnalysisProgress
    #: The video's own length (seconds) and frame rate, as probed when it was uploaded.
    video_duration_s: float
    video_fps: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    #: Why it failed (status ``failed``), or why the last attempt stopped.
    error: str | None
    #: The session summary with per-rep details (status ``done``).
    summary: dict[str, Any] | None
    #: The history entry this upload became (status ``done``).
    session_id: int | None


class ModelStatus(BaseModel):
    """One pose model served."""

    name: str
    variant: str
    device: str
    loaded: bool
    inference_ms: float | None
    error: str | None = None
    #: Extension: the onnxruntime execution provider each model session really runs on
    #: (``"detector: CPUExecutionProvider"``); onnxruntime falls back to the CPU silently.
    providers: list[str] = Field(default_factory=list)
    #: Extension: milliseconds per stage of the probe inference (decode, detector, landmarks).
    stages_ms: dict[str, float] = Field(default_factory=dict)


class ModelsOut(BaseModel):
    """200 from test-models."""

    models: list[ModelStatus]


class ErrorOut(BaseModel):
    """Every error body."""

    error: str
    fields: dict[str, str] | None = None


class ExportOut(BaseModel):
    """GET /api/auth/export/ (extension): everything held about the person."""

    user: ProfileOut
    sessions: list[SessionExport]
    analyses: list[AnalysisOut]
