"""Typed errors with user-facing text.

Every error a user can cause (a bad file, an unknown posebit, a checkpoint for another model) is a
:class:`PosebrowserError`. Its ``str()`` is a complete sentence meant for a person; the GUI shows it
in one place (``gui/notifications.py``) and the CLI prints it without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class PosebrowserError(Exception):
    """Base class of every error posebrowser raises on purpose."""

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        text = f"{path}: {message}" if path is not None else message
        super().__init__(text)

    @property
    def user_message(self) -> str:
        return str(self)


class DataError(PosebrowserError):
    """A data file (image, annotation, metadata, gallery manifest) cannot be used."""


class CorruptFileError(DataError):
    """A file exists but cannot be decoded (truncated, wrong format, 0 bytes, too large)."""


class AnnotationError(DataError):
    """An annotation or metadata file is malformed (wrong columns, shapes, values)."""


class GalleryFormatError(DataError):
    """A folder is not a gallery posebrowser can read, or its manifest does not match its content."""


class CheckpointError(PosebrowserError):
    """A weights file or model card cannot be loaded (corrupt, unsafe, wrong architecture)."""


class VocabularyMismatchError(CheckpointError):
    """A model was trained on a different posebit vocabulary than the one in use."""


class UnsafeFileError(CheckpointError):
    """A file would execute code when loaded (e.g. a pickle with a custom reducer)."""


class QueryError(PosebrowserError):
    """A query is empty, malformed or refers to something that does not exist."""


class UnknownPosebitError(QueryError):
    """A posebit label or name is not in the vocabulary."""


class CacheError(PosebrowserError):
    """An embedding cache or index does not match the model, gallery or posebit vocabulary."""


class IndexMismatchError(CacheError):
    """An index was built for other embeddings (dimension, count, model hash)."""


class DeviceError(PosebrowserError):
    """A compute device was asked for that cannot be used."""


class EstimatorError(PosebrowserError):
    """The pose estimator cannot run (its package or model bundle is missing or damaged)."""


class JobCancelledError(PosebrowserError):
    """Long work was cancelled by the user; partial results were kept where safe."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)
