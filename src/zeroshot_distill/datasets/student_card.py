"""A Kedro dataset that writes a student's model card into the student's own folder.

The evaluation completes the card the ``student_model`` dataset wrote at training (see
:mod:`zeroshot_distill.reporting.model_card`). The node hands over a
:class:`~zeroshot_distill.reporting.model_card.StudentCard`: the card's text and the folder of
the student it describes (the version the evaluation loaded, whether the latest or one named
with ``--load-versions``). Saving writes ``README.md`` there and, when
``evaluation.model_card.push_to_hub.enabled`` is true, uploads the folder to the Hugging Face
Hub (``huggingface_hub``'s own login or ``HF_TOKEN``; no token ever passes through here)::

    student_model_card:
      type: zeroshot_distill.datasets.StudentCardDataset
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.io import AbstractDataset, DatasetError

if TYPE_CHECKING:
    from zeroshot_distill.reporting.model_card import StudentCard

logger = logging.getLogger(__name__)

CARD_FILE = "README.md"  # = zeroshot_distill.reporting.model_card.CARD_FILE


class StudentCardDataset(AbstractDataset["StudentCard", str]):
    """Writes ``README.md`` into the student folder a card names; loads the latest one."""

    def __init__(self, *, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset (``metadata``: free-form, e.g. kedro-viz settings)."""
        self.metadata = metadata
        self._last: Path | None = None

    def save(self, data: StudentCard) -> None:
        """Write the card into its student's folder, then push the folder if asked."""
        if not data.directory:
            logger.warning("the evaluated student's folder is unknown: its card is not written")
            return
        directory = Path(data.directory)
        if not directory.is_dir():
            raise DatasetError(f"no student folder at {directory} for its model card")
        card = directory / CARD_FILE
        card.write_text(data.text, encoding="utf-8")
        self._last = card
        logger.info("model card: %s", card)
        push_folder(directory, data.push_to_hub)

    def load(self) -> str:
        """The card this dataset wrote last in this session."""
        if self._last is None or not self._last.is_file():
            raise DatasetError("no model card written yet in this session")
        return self._last.read_text(encoding="utf-8")

    def _describe(self) -> dict[str, Any]:
        return {"file": CARD_FILE, "last": None if self._last is None else str(self._last)}


def push_folder(directory: Path, settings: Mapping[str, Any] | None) -> str | None:
    """Upload the student folder (model, tokenizer, card) to the Hub repository
    ``settings["repo_id"]`` when ``settings["enabled"]``; the commit's URL, or ``None``.

    Off by default. The repository is created if missing (``private`` by default).
    """
    settings = dict(settings or {})
    if not settings.get("enabled"):
        return None
    repo_id = settings.get("repo_id")
    if not repo_id:
        raise DatasetError(
            "evaluation.model_card.push_to_hub.enabled is true but repo_id is not set "
            "(e.g. repo_id: your-name/my-student)"
        )
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(str(repo_id), private=bool(settings.get("private", True)), exist_ok=True)
    commit = api.upload_folder(
        folder_path=str(directory),
        repo_id=str(repo_id),
        commit_message=str(settings.get("commit_message") or "Upload distilled student"),
    )
    url = str(getattr(commit, "commit_url", commit))
    logger.info("pushed %s to the Hugging Face Hub: %s", directory, url)
    return url
