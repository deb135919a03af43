"""The check `validate` and `preview-logs` share: a --teacher or --student id the model catalog does not know."""

from __future__ import annotations

import difflib

# How many of the catalog's ids an unknown model id is shown beside.
CLOSEST_IDS = 3


def unknown_model(teacher: str | None, student: str | None) -> str | None:
    """The message for the first of ``teacher`` and ``student`` (model ids, inference profile ids or ARNs) that is
    no distillation teacher or student in the model catalog, naming the closest ids; None when both are known or
    not given."""
    from distill.config import catalog

    table = catalog.catalog()
    if teacher and catalog.teacher(teacher) is None:
        return _message("--teacher", teacher, "distillation teacher", list(table.teachers))
    students = list(dict.fromkeys(student for entry in table.teachers.values() for student in entry.students))
    if student and catalog.base_model_id(student) not in {catalog.base_model_id(known) for known in students}:
        return _message("--student", student, "distillation student", students)
    return None


def _message(option: str, model_id: str, kind: str, known: list[str]) -> str:
    from distill.config.catalog import catalog

    closest = difflib.get_close_matches(model_id, known, n=CLOSEST_IDS, cutoff=0.5)
    listed = f"closest: {', '.join(closest)}" if closest else f"known: {', '.join(known)}"
    return (
        f'{option} "{model_id}" is not a {kind} in the model catalog (checked {catalog().read.isoformat()}); {listed}'
    )
