"""User-facing errors: each has a stable reason code, a message and how to fix it.

Pages and the command line show these as they are; anything else that escapes is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class KamError(Exception):
    """Base of every error a user may see: `code` is stable, `hint` says how to fix it."""

    code = "error"

    def __init__(
        self, message: str, hint: str = "", code: str | None = None, params: dict | None = None
    ):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code:
            self.code = code
        # Values formatted into message/hint, so the page can show them in another language.
        self.params = dict(params or {})

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class DatabaseError(KamError):
    """The database file cannot be used (newer schema, locked, corrupt)."""

    code = "database"


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
    """One finding of import validation, located as the user sees it in Excel."""

    file: str
    sheet: str | None
    row: int | None  # row number as shown in Excel (1-based, header rows included)
    column: str | None  # header as in the file
    value: str | None
    reason: str  # stable code, e.g. "unparseable_date"
    message: str  # what is wrong, in words
    hint: str  # how to fix it
    severity: str = "error"  # "error" blocks the import, "warning" does not
    # Values formatted into message/hint ("variant" picks one of several texts of a reason),
    # so the page can show the problem in German (kam_analytics.ingest.messages).
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain dict for tables, CSV and JSON output."""
        return {
            "severity": self.severity,
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
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
        super().__init__(
            f"{len(errors)} blocking problem(s) found; nothing was imported",
            "Fix the rows listed in the report and upload the file again.",
            params={"n": len(errors)},
        )
