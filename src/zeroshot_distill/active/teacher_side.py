"""The teacher's part of active distillation: annotate selected rows, revise student rationales.

Annotation goes through the annotation pipeline's own functions (``plan_annotation`` then
``annotate_examples``: same template, same parsing, same cache), so an example annotated
here is the same request, and the same cache entry, as in the ``annotation`` pipeline.

Revision (ELAD's "customized explanation revision") shows the teacher the student's
rationale and label for an example and asks for a corrected rationale and the answer; the
reply is parsed with the project's parser (:func:`~zeroshot_distill.tasks.parsing.parse_answer`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from zeroshot_distill.active.budget import request_cost_bound
from zeroshot_distill.active.config import ActiveDistillError, RevisionConfig
from zeroshot_distill.annotation import annotate_examples, plan_annotation
from zeroshot_distill.tasks.parsing import DEFAULT_MIN_RATIONALE_WORDS, parse_answer
from zeroshot_distill.tasks.prompts import field_title, placeholders, render_label
from zeroshot_distill.tasks.spec import TaskSpec
from zeroshot_distill.tasks.values import is_blank
from zeroshot_distill.teachers import ChatRequest, TeacherConfig, build_teacher, provide_references

REVISION_STAGE = "active_revision"
_REVISION_FIXED = ("description", "fields", "student_label", "student_rationale")


class TeacherSide:
    """Annotation and revision requests for the active loop, with their cost bounds."""

    def __init__(
        self,
        *,
        examples: pd.DataFrame,
        spec: TaskSpec,
        task: Mapping[str, Any],
        teacher: Mapping[str, Any],
        annotation: Mapping[str, Any],
        prompt: Mapping[str, Any],
        revision: RevisionConfig,
        seed: int,
        progress: bool = True,
    ) -> None:
        self.examples = examples
        self.spec = spec
        self.task = dict(task)
        self.teacher = dict(teacher)
        self.annotation = dict(annotation)
        self.prompt = dict(prompt)
        self.revision = revision
        self.seed = int(seed)
        self.progress = progress
        self.config = TeacherConfig.from_params(self.teacher)
        self._price = self.config.price()
        self._discount = (
            self.config.batch_discount() if self.config.backend == "openai_batch" else 0.0
        )
        if revision.enabled:
            check_revision_template(revision.template, spec)

    @property
    def simulated(self) -> bool:
        """Whether the teacher is the offline test double."""
        return self.config.backend == "simulated"

    # ---------------------------------------------------------------------------- annotation
    def _params(self, rows: pd.DataFrame) -> dict[str, Any]:
        splits = sorted({str(s) for s in rows["split"]}) if "split" in rows else ["train"]
        return {**self.annotation, "splits": splits, "max_rows": None, "progress": self.progress}

    def _plan(self, rows: pd.DataFrame) -> pd.DataFrame:
        plan = plan_annotation(rows, self.task, self._params(rows), self.prompt, self.seed)
        if len(plan) != len(rows):
            raise ActiveDistillError(f"planned {len(plan)} annotations for {len(rows)} rows")
        return plan

    def annotate(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The annotation pipeline's rows for ``rows`` (cached answers cost nothing)."""
        plan = self._plan(rows)
        annotations, _ = annotate_examples(
            plan, self.examples, self.task, self.teacher, self._params(rows), self.prompt
        )
        return annotations

    def annotation_bounds(self, rows: pd.DataFrame) -> list[float]:
        """Worst-case USD of each row's annotation request."""
        plan = self._plan(rows)
        return [
            self._bound(messages, max_tokens)
            for messages, max_tokens in zip(plan["messages"], plan["max_tokens"], strict=True)
        ]

    def _bound(self, messages: Sequence[Mapping[str, str]], max_tokens: Any) -> float:
        cap = None if max_tokens is None or pd.isna(max_tokens) else int(max_tokens)
        cap = cap if cap is not None else self.config.max_tokens
        return request_cost_bound(messages, self._price, cap, self._discount)

    # ------------------------------------------------------------------------------ revision
    def _revision_messages(self, row: Mapping[str, Any]) -> list[dict[str, str]]:
        values = self.spec.render_fields(row)
        label = row.get("student_label")
        shown_label = "(no answer)" if is_blank(label) else render_label(self.spec, label, row)
        rationale = row.get("student_rationale")
        content = self.revision.template.format_map(
            {
                **values,
                "description": self.spec.description.strip(),
                "fields": "\n".join(
                    f"{field_title(f)}: {values[f]}" for f in self.spec.input_fields
                ),
                "student_label": shown_label,
                "student_rationale": "" if is_blank(rationale) else str(rationale).strip(),
            }
        )
        system = self.prompt.get("system_prompt")
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": content})
        return messages

    def revision_bounds(self, rows: pd.DataFrame) -> list[float]:
        """Worst-case USD of each revision request."""
        return [
            self._bound(self._revision_messages(r), self.revision.max_tokens)
            for r in rows.to_dict(orient="records")
        ]

    def revise(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The teacher's corrected rationale (and label) for each row's student rationale."""
        records = rows.to_dict(orient="records")
        by_id = {str(r["id"]): r for r in self.examples.to_dict(orient="records")}
        requests = [
            ChatRequest(
                key=str(r["id"]),
                messages=self._revision_messages(r),
                max_tokens=self.revision.max_tokens,
            )
            for r in records
        ]
        references = {str(r["id"]): by_id.get(str(r["id"]), r) for r in records}
        min_words = int(self.annotation.get("min_rationale_words", DEFAULT_MIN_RATIONALE_WORDS))
        with build_teacher(self.teacher) as client:
            provide_references(client, references, labels=self.spec.labels)
            results = client.complete(requests, stage=REVISION_STAGE, progress=self.progress)
            parsed_all = [
                parse_answer(
                    self.spec,
                    result.text,
                    row,
                    status=result.status,
                    finish_reason=result.extra.get("finish_reason"),
                    min_rationale_words=min_words,
                )
                for row, result in zip(records, results, strict=True)
            ]
            client.mark_refused(
                [r for r, p in zip(results, parsed_all, strict=True) if p.status == "refused"]
            )
        out = []
        for row, result, parsed in zip(records, results, parsed_all, strict=True):
            out.append(
                {
                    "id": str(row["id"]),
                    "revised_label": parsed.label,
                    "revised_rationale": parsed.rationale,
                    "revision_status": parsed.status,
                    "revision_raw_response": result.text,
                    "cost_usd": float(result.cost_usd),
                    "saved_usd": float(result.extra.get("saved_usd", 0.0)),
                    "cached": bool(result.cached),
                }
            )
        return pd.DataFrame(out)


def check_revision_template(template: str, spec: TaskSpec) -> None:
    """Fail before any request when the revision template names unknown placeholders."""
    allowed = {*_REVISION_FIXED, *spec.input_fields}
    found = placeholders(template)
    unknown = [name for name in found if name not in allowed]
    if unknown:
        raise ActiveDistillError(
            f"active_distill.revision.template has unknown placeholder(s) {unknown}; "
            f"allowed: {sorted(allowed)}"
        )
    if "student_rationale" not in found:
        raise ActiveDistillError(
            "active_distill.revision.template must show the student's rationale: "
            "add {student_rationale}"
        )
