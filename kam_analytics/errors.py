"""User-facing errors: each has a reason (one member of `Reason`), a message and how to fix it.

The texts of every reason live in one catalogue, `locales/errors.toml` (`err_<reason>` and
`err_<reason>_hint`, German and English, with `{param}` placeholders). A raise site names
the reason and its values only: ``raise ConfigError(Reason.INVALID_ROLE, role=role)``.
`message`/`hint` hold the English text (the command line prints it, scripts parse it); pages
render the error in the user's language with `localise_error` (ui/errors.py `show_error`).
Anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Reason(StrEnum):
    """Every reason an error shown to a user can have; texts in locales/errors.toml."""

    # any bug: one generic message, details only in the server log
    UNEXPECTED = "unexpected"
    # access and sign-in
    ACCESS_DENIED = "access_denied"
    PAGE_DENIED = "page_denied"
    PAGE_NOT_FOUND = "page_not_found"
    AUTH_FAILED = "auth_failed"
    AUTH_LOCKED = "auth_locked"
    # users
    INVALID_USERNAME = "invalid_username"
    PASSWORD_TOO_SHORT = "password_too_short"
    PASSWORD_TOO_LONG = "password_too_long"
    PASSWORD_INVALID = "password_invalid"
    INVALID_ROLE = "invalid_role"
    KAM_ID_MISSING = "kam_id_missing"
    KAM_ID_UNKNOWN = "kam_id_unknown"
    KAM_ID_NOT_ALLOWED = "kam_id_not_allowed"
    INVALID_EMAIL = "invalid_email"
    EMAIL_TAKEN = "email_taken"
    USER_NOT_FOUND = "user_not_found"
    USER_EXISTS = "user_exists"
    LAST_ADMIN = "last_admin"
    NO_USER_FOR_EMAIL = "no_user_for_email"
    # settings
    RETENTION_SETTING_UNKNOWN = "retention_setting_unknown"
    RETENTION_SETTING_RANGE = "retention_setting_range"
    BONUS_PLAN_RANGE = "bonus_plan_range"
    BONUS_WEIGHTS_ZERO = "bonus_weights_zero"
    AMOUNT_INVALID = "amount_invalid"
    PALETTE_SIZE = "palette_size"
    COLOR_INVALID = "color_invalid"
    FONT_INVALID = "font_invalid"
    COMPANY_NAME_TOO_LONG = "company_name_too_long"
    LANGUAGE_UNSUPPORTED = "language_unsupported"
    APPEARANCE_SETTING_UNKNOWN = "appearance_setting_unknown"
    # catalogue and matrix
    SERVICE_CODE_INVALID = "service_code_invalid"
    SERVICE_NAME_MISSING = "service_name_missing"
    SERVICE_VALUE_NOT_NUMBER = "service_value_not_number"
    SERVICE_VALUE_NEGATIVE = "service_value_negative"
    SERVICE_CODE_TWICE = "service_code_twice"
    TIER_UNKNOWN = "tier_unknown"
    POLICY_UNKNOWN = "policy_unknown"
    # accounts, KAMs, feedback, mandates, retention, bonus
    ACCOUNT_NOT_VISIBLE = "account_not_visible"
    ACCOUNT_NOT_FOUND = "account_not_found"
    DECK_ACCOUNT_DENIED = "deck_account_denied"
    KAM_NOT_FOUND = "kam_not_found"
    KAM_NOT_VISIBLE = "kam_not_visible"
    FEEDBACK_KIND_UNKNOWN = "feedback_kind_unknown"
    SURVEY_SCORE_MISSING = "survey_score_missing"
    FEEDBACK_COMMENT_MISSING = "feedback_comment_missing"
    FEEDBACK_DATE_MISSING = "feedback_date_missing"
    # bonus integrity (four eyes, closed years), departments, back-test, change report
    YEAR_CLOSED_FEEDBACK = "year_closed_feedback"
    YEAR_CLOSED_SURVEY_APPROVAL = "year_closed_survey_approval"
    YEAR_CLOSED_MANDATE_RATINGS = "year_closed_mandate_ratings"
    YEAR_CLOSED_BONUS_PLAN = "year_closed_bonus_plan"
    YEAR_CLOSED_KAM_PAY = "year_closed_kam_pay"
    FOUR_EYES = "four_eyes"
    SURVEY_ALREADY_APPROVED = "survey_already_approved"
    SURVEY_ALREADY_REJECTED = "survey_already_rejected"
    YEAR_NOT_OVER = "year_not_over"
    YEAR_ALREADY_CLOSED = "year_already_closed"
    YEAR_PENDING_SURVEYS = "year_pending_surveys"
    YEAR_NOT_CLOSED = "year_not_closed"
    REOPEN_NO_REASON = "reopen_no_reason"
    SURVEY_NOT_PENDING = "survey_not_pending"
    DEPARTMENT_UNKNOWN = "department_unknown"
    SERVICE_NOT_IN_CATALOGUE = "service_not_in_catalogue"
    BACKTEST_AS_OF_OUTSIDE_YEAR = "backtest_as_of_outside_year"
    BACKTEST_YEAR_NOT_OVER = "backtest_year_not_over"
    CHANGES_NO_BATCH = "changes_no_batch"
    CHANGES_BATCH_NOT_FOUND = "changes_batch_not_found"
    MANDATE_ANSWER_DENIED = "mandate_answer_denied"
    MANDATE_RATING_DENIED = "mandate_rating_denied"
    RATING_NOT_NUMBER = "rating_not_number"
    RATING_RANGE = "rating_range"
    AS_OF_BEFORE_YEAR = "as_of_before_year"
    LOST_AND_KEPT = "lost_and_kept"
    # database
    DATABASE_LOCKED = "database_locked"
    DATABASE_UNOPENABLE = "database_unopenable"
    SCHEMA_TOO_NEW = "schema_too_new"
    DATABASE_CORRUPT = "database_corrupt"
    DISK_FULL = "disk_full"
    DATABASE_INVALIDATED = "database_invalidated"
    DATABASE_MISSING = "database_missing"
    DATABASE_UNAVAILABLE = "database_unavailable"  # the app's fault page, any other cause
    NOT_KAM_DATABASE = "not_kam_database"
    RATE_BAD_CURRENCY = "rate_bad_currency"
    RATE_BAD_VALUE = "rate_bad_value"
    # the command line beside the running app, backups, the inbox
    APP_NO_REQUEST_FOLDER = "app_no_request_folder"
    APP_GONE = "app_gone"
    APP_TIMEOUT = "app_timeout"
    DATABASE_BUSY = "database_busy"
    BACKUP_FOREIGN_FILE = "backup_foreign_file"
    BACKUP_NO_DATABASE = "backup_no_database"
    BACKUP_MISSING = "backup_missing"
    BACKUP_TOO_NEW = "backup_too_new"
    OUT_IS_DATABASE = "out_is_database"
    RESTORE_DATABASE_IN_USE = "restore_database_in_use"
    INBOX_UNEXPECTED = "inbox_unexpected"
    REPLICA_NOT_READY = "replica_not_ready"
    # exports
    CHROMIUM_MISSING = "chromium_missing"
    MATRIX_PICTURE_NO_CHROMIUM = "matrix_picture_no_chromium"
    CHART_RENDER_FAILED = "chart_render_failed"
    # command line
    DEMO_SCALE_UNKNOWN = "demo_scale_unknown"
    DEMO_WOULD_OVERWRITE = "demo_would_overwrite"
    OUT_SUFFIX = "out_suffix"
    OUT_FOLDER_MISSING = "out_folder_missing"
    PASSWORD_STDIN_EMPTY = "password_stdin_empty"
    PASSWORD_NOT_TYPED = "password_not_typed"
    PASSWORDS_DIFFER = "passwords_differ"
    NOTHING_TO_CHANGE = "nothing_to_change"
    # import: errors of profiles, formulas, undo
    IMPORT_BLOCKED = "import_blocked"
    IMPORT_NOT_FOUND = "import_not_found"
    ALREADY_UNDONE = "already_undone"
    UNDO_CONFLICT = "undo_conflict"
    HISTORY_CHANGED = "history_changed"
    MAPPING_UNKNOWN_TABLE = "mapping_unknown_table"
    MAPPING_UNKNOWN_COLUMN = "mapping_unknown_column"
    FORMULA_SYNTAX = "formula_syntax"
    FORMULA_NOT_ARITHMETIC = "formula_not_arithmetic"
    FORMULA_UNSUPPORTED = "formula_unsupported"
    PROFILE_NAME_EMPTY = "profile_name_empty"
    PROFILE_INVALID_TOML = "profile_invalid_toml"
    PROFILE_UNKNOWN_SECTIONS = "profile_unknown_sections"
    PROFILE_NO_TABLE = "profile_no_table"
    PROFILE_UNKNOWN_FILTERS = "profile_unknown_filters"
    PROFILE_UNREADABLE = "profile_unreadable"
    # import: findings of validation, one `Problem` each (the report's "reason" column)
    MISSING_COLUMN = "missing_column"
    INVALID_FORMULA = "invalid_formula"
    MISSING_TIER = "missing_tier"
    UNPARSEABLE_DATE = "unparseable_date"
    UNPARSEABLE_AMOUNT = "unparseable_amount"
    UNPARSEABLE_NUMBER = "unparseable_number"
    UNPARSEABLE_FLAG = "unparseable_flag"
    UNKNOWN_VALUE = "unknown_value"
    DEFAULT_KIND = "default_kind"
    SAME_COLUMN = "same_column"
    DERIVED_KEY = "derived_key"
    MISSING_KEY = "missing_key"
    MISSING_VALUE = "missing_value"
    DUPLICATE_ROW = "duplicate_row"
    CONFLICTING_DUPLICATE_KEY = "conflicting_duplicate_key"
    NEGATIVE_FREIGHT = "negative_freight"
    FUTURE_DATE = "future_date"
    ORPHAN_ACCOUNT = "orphan_account"
    AMBIGUOUS_DATE = "ambiguous_date"
    TOTAL_ROW_DROPPED = "total_row_dropped"
    TOTAL_LIKE_ROW_KEPT = "total_like_row_kept"
    HIDDEN_ROWS_SKIPPED = "hidden_rows_skipped"
    HIDDEN_ROWS_IMPORTED = "hidden_rows_imported"
    NO_DATA_ROWS = "no_data_rows"
    PIPELINE_STAGE_UNFILTERED = "pipeline_stage_unfiltered"
    CURRENCY_CONFLICT = "currency_conflict"
    UNKNOWN_RATE = "unknown_rate"
    CURRENCY_CONVERTED = "currency_converted"
    VALUE_FROM_UNIT_PRICE = "value_from_unit_price"
    UNKNOWN_SERVICE = "unknown_service"
    VALUE_FROM_CATALOGUE = "value_from_catalogue"
    IDS_NORMALISED = "ids_normalised"
    IDENTICAL_LINES = "identical_lines"
    # import: reading the file, and the guard's refusals (kam_analytics/ingest/guard.py)
    PASSWORD_PROTECTED = "password_protected"
    UNREADABLE_FILE = "unreadable_file"
    EMPTY_FILE = "empty_file"
    MISSING_SHEET = "missing_sheet"
    UNKNOWN_TABLE = "unknown_table"
    MIXED_ENCODING = "mixed_encoding"
    FILE_TOO_LARGE = "file_too_large"
    ZIP_TOO_LARGE = "zip_too_large"
    ZIP_BOMB = "zip_bomb"
    TOO_MANY_COLUMNS = "too_many_columns"
    SHEET_TOO_LARGE = "sheet_too_large"
    CELL_TOO_LONG = "cell_too_long"
    READ_MEMORY = "read_memory"
    READ_TIMEOUT = "read_timeout"
    NUL_BYTES = "nul_bytes"


_CODES = frozenset(r.value for r in Reason)

# Reasons with more than one text: the raise site picks one with params["variant"]. None is
# the reason's plain text (err_<reason>); a variant's is err_<reason>__<variant>, except a
# variant that is itself a reason, which says that reason's own text (a formula error found
# while validating says what the formula error says).
VARIANTS: dict[Reason, tuple[str | None, ...]] = {
    Reason.MISSING_COLUMN: ("mapped", "computed", "required", "filter"),
    Reason.INVALID_FORMULA: (Reason.FORMULA_SYNTAX, Reason.FORMULA_NOT_ARITHMETIC),
    Reason.UNPARSEABLE_NUMBER: (None, "int", "computed"),
    Reason.ORPHAN_ACCOUNT: (None, "many", "summary"),
    Reason.TOTAL_ROW_DROPPED: ("sums", "no_key"),
    Reason.IDS_NORMALISED: (None, "matched"),
    Reason.IDENTICAL_LINES: ("keep_both", "keep_one"),
    Reason.PASSWORD_PROTECTED: ("info", "resave"),
    Reason.UNREADABLE_FILE: ("excel", "table", "open", "open_path", "binary"),
    Reason.EMPTY_FILE: (None, "sheets", "sheet"),
    Reason.MISSING_SHEET: ("number", "name"),
    Reason.ZIP_TOO_LARGE: (None, "entries"),
    Reason.TOO_MANY_COLUMNS: (None, "sheet"),
    Reason.SHEET_TOO_LARGE: (None, "sheet"),
}


def catalogue_keys(reason: str, variant: str | None = None) -> tuple[str, str]:
    """The label keys of a reason's message and hint (of one variant) in locales/errors.toml."""
    stem = f"err_{reason}__{variant}" if variant else f"err_{reason}"
    return stem, f"{stem}_hint"


def text_variants(reason: Reason) -> tuple[str | None, ...]:
    """The variants a reason's texts come in (None: its plain text)."""
    return VARIANTS.get(reason, (None,))


class _Keep(dict):
    """Format values: a placeholder without a value stays as it is (an error path never fails)."""

    def __missing__(self, key):
        return "{" + key + "}"


def render_reason(
    reason: str, lang: str, params: dict, escape: Callable[[str], str] | None = None
) -> tuple[str, str] | None:
    """(message, hint) of a reason in `lang` from the catalogue; None when it has no entry.

    `escape` is applied to text values (names, file names from data) before they are put into
    the template, so a page can show them as plain text while the template keeps its markup.
    """
    from kam_analytics.i18n import load_labels

    labels = load_labels().get(lang) or load_labels()["de"]
    variant = params.get("variant") or None
    if variant in _CODES and variant != reason:
        reason, variant = variant, None  # a variant that is a reason: that reason's text
    msg_key, hint_key = catalogue_keys(reason, variant)
    if msg_key not in labels:
        msg_key, hint_key = catalogue_keys(reason)
    if msg_key not in labels:
        return None
    values = {
        k: (escape(v) if escape is not None and isinstance(v, str) else v)
        for k, v in params.items()
    }
    values = _fields_in_words(reason, values, lang)
    out = []
    for key in (msg_key, hint_key):
        try:
            out.append(labels.get(key, "").format_map(_Keep(values)))
        except (ValueError, IndexError, TypeError, AttributeError):
            out.append(labels.get(key, ""))
    return out[0], out[1]


class KamError(Exception):
    """Base of every error a user may see: `code` is stable, `hint` says how to fix it.

    Raise it with a reason and its values: ``KamError(Reason.X, name=name)``. Only an error
    already put into words elsewhere (`relay`: the running app's answer to a command; the
    import guard's reader process) is built from a message.
    """

    code = "error"

    def __init__(
        self,
        reason: Reason | str,
        hint: str = "",
        code: str | None = None,
        params: dict | None = None,
        **values,
    ):
        self.params = {**(params or {}), **values}
        if isinstance(reason, Reason):
            self.reason: Reason | None = reason
            self.code = reason.value
            message, hint = render_reason(reason, "en", self.params) or (reason.value, "")
        else:
            self.reason = None
            message = reason
            if code:
                self.code = code
        super().__init__(message)
        self.message = message
        self.hint = hint

    @classmethod
    def relay(cls, message: str, hint: str = "", code: str = "error") -> KamError:
        """An error already put into words elsewhere (the running app's answer to a command),
        passed on as it is, with its code."""
        return cls(message, hint, code=code)

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


def localise_error(
    exc: KamError, lang: str, escape: Callable[[str], str] | None = None
) -> tuple[str, str]:
    """(message, hint) of an error in `lang`: from the catalogue by its code (a relayed error
    whose code the catalogue does not know: its words as they came)."""
    rendered = render_reason(exc.code, lang, exc.params, escape)
    if rendered is not None:
        return rendered
    message, hint = exc.message, exc.hint
    if escape is not None:
        message, hint = escape(message), escape(hint)
    return message, hint


# Import findings whose {name} is a target field (account_id) and whose {choices} are its
# allowed codes: every text, on screen, in the reports and on the command line, names the
# field in words ("Kundennummer") and each allowed value as word and code ("Key Account
# (KEY)", the code is what a profile's [values] section maps to); {field} keeps the field's
# code for the profile section a hint names ([values.tier]).
_FIELD_REASONS = frozenset(
    {
        Reason.UNPARSEABLE_NUMBER,
        Reason.UNKNOWN_VALUE,
        Reason.MISSING_KEY,
        Reason.MISSING_VALUE,
        Reason.NEGATIVE_FREIGHT,
        Reason.FUTURE_DATE,
        Reason.IDS_NORMALISED,
    }
)


_FIELD_CODES = frozenset(r.value for r in _FIELD_REASONS)


def _fields_in_words(reason, params: dict, lang: str) -> dict:
    name = params.get("name")
    code = getattr(reason, "value", reason)  # a Reason or its code
    if code not in _FIELD_CODES or not isinstance(name, str) or not name:
        return params
    from kam_analytics.glossary import field_label, value_label

    out = {**params, "field": name, "name": field_label(params.get("table"), name, lang)}
    if isinstance(params.get("choices"), str) and params["choices"]:
        codes = [c.strip() for c in params["choices"].split(",")]
        # the word, and the code a profile's [values] section is written with
        words = [(value_label(name, c, lang), c) for c in codes]
        out["choices"] = ", ".join(w if w == c else f"{w} ({c})" for w, c in words)
    return out


def localise_problem(
    problem: Problem, lang: str, escape: Callable[[str], str] | None = None
) -> tuple[str, str]:
    """(message, hint) of an import finding in `lang`, from the catalogue by its reason."""
    return render_reason(problem.reason, lang, problem.params, escape) or (
        problem.message,
        problem.hint,
    )


class DatabaseError(KamError):
    """The database file cannot be used (newer schema, locked, corrupt).

    Its texts name the file as `{where}` (" <path>", or "" when no path is known), so that the
    app's fault page can say the same words without the path (`localise_fault`).
    """

    code = "database"

    def __init__(self, reason, hint="", code=None, params=None, **values):
        if "path" in values and "where" not in values:
            values["where"] = f" {values['path']}"
        super().__init__(reason, hint, code, params, **values)


# Database reasons whose texts name nothing but the file: the fault page shows them as they
# are, without the path (KAMs do not see where the data lives; the page shows before sign-in).
# Any other database fault (its detail may hold a path) shows DATABASE_UNAVAILABLE.
PAGE_FAULTS = frozenset(
    {
        Reason.DATABASE_LOCKED,
        Reason.SCHEMA_TOO_NEW,
        Reason.DATABASE_CORRUPT,
        Reason.NOT_KAM_DATABASE,
        Reason.DISK_FULL,
        Reason.DATABASE_INVALIDATED,
        Reason.DATABASE_MISSING,
    }
)


def localise_fault(exc: KamError, lang: str) -> tuple[str, str]:
    """(message, hint) of a database fault as the app's fault page shows it: the reason's
    catalogue texts without the file's path."""
    if exc.code in PAGE_FAULTS:
        return render_reason(exc.code, lang, {**exc.params, "where": ""}) or ("", "")
    return render_reason(Reason.DATABASE_UNAVAILABLE, lang, {}) or ("", "")


class SchemaTooNewError(DatabaseError):
    """The file was written by a newer version of KAM Analytics."""

    code = "schema_too_new"


class DatabaseLockedError(DatabaseError):
    """Another process holds the database file open for writing."""

    code = "database_locked"


class NotFoundError(KamError):
    """A named thing (account, import, user, year) does not exist."""

    code = "not_found"


class AccessDeniedError(KamError):
    """The signed-in user may not see or change this."""

    code = "access_denied"


class FourEyesError(AccessDeniedError):
    """A survey entry was to be approved or rejected by the person who entered it."""

    code = "four_eyes"


class AuthenticationError(KamError):
    """Sign-in failed, expired or is throttled."""

    code = "authentication"


class ConfigError(KamError):
    """A setting, profile or command-line option is invalid."""

    code = "config"


class YearClosedError(KamError):
    """A write would change the inputs of a bonus year that management has closed."""

    code = "year_closed"


class ExportError(KamError):
    """A chart, deck or file could not be produced (e.g. chromium missing)."""

    code = "export"


@dataclass
class Problem:
    """One finding of import validation, located as the user sees it in Excel.

    A finding names its reason and values only; `message` and `hint` are the reason's English
    texts from the catalogue (the command line prints them, the reports hold them), and
    `localise_problem` gives them in any language.
    """

    file: str
    sheet: str | None
    row: int | None  # row number as shown in Excel (1-based, header rows included)
    column: str | None  # header as in the file
    value: str | None
    reason: Reason  # stable code, e.g. Reason.UNPARSEABLE_DATE ("unparseable_date")
    severity: str = "error"  # "error" blocks the import, "warning" does not
    # Values formatted into the texts ("variant" picks one of several texts of a reason).
    params: dict = field(default_factory=dict)
    message: str = field(init=False)  # what is wrong, in words (English)
    hint: str = field(init=False)  # how to fix it (English)

    def __post_init__(self):
        self.message, self.hint = render_reason(self.reason, "en", self.params) or (
            str(self.reason),
            "",
        )

    def as_dict(self) -> dict:
        """Plain dict for tables, CSV and JSON output."""
        return {
            "severity": self.severity,
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": str(self.reason),
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        where = self.file
        if self.sheet:
            where += f", sheet {self.sheet!r}"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        val = f" (value {self.value!r})" if self.value not in (None, "") else ""
        return f"{where}: {self.message}{val}. {self.hint}"


@dataclass
class ImportBlockedError(KamError):
    """Blocking validation problems: nothing was written. Carries every problem found."""

    problems: list[Problem] = field(default_factory=list)
    code = "import_blocked"

    def __post_init__(self):
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__(Reason.IMPORT_BLOCKED, n=len(errors))
