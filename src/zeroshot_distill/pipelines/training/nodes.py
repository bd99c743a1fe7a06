"""Nodes of the training pipeline: the multi-task student from the training set.

The node is the students library's :func:`~zeroshot_distill.students.train_student_model`
(the experiments sweep trains each variant with the same function).
"""

from __future__ import annotations

from zeroshot_distill.students import train_student_model

__all__ = ["train_student_model"]
