"""Who may see what in the console: administrators everything, unit organisers a subtree."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from quiz.models import Unit


def admin_required(view):
    """Only district administrators; everyone else gets 403."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def subtree_ids(unit: Unit | None) -> set[int]:
    """A unit and every unit below it."""
    if unit is None:
        return set()
    seen, stack = set(), [unit]
    while stack:
        current = stack.pop()
        seen.add(current.id)
        stack.extend(current.children)
    return seen


def can_manage(unit: Unit) -> bool:
    """True when the logged-in organiser may act for this unit."""
    if current_user.is_admin:
        return True
    return unit.id in subtree_ids(current_user.unit)


def require_unit(unit: Unit) -> Unit:
    """Return the unit if the organiser may act for it; 404 otherwise (its existence stays hidden)."""
    if not can_manage(unit):
        abort(404)
    return unit


def tree_order(units: list[Unit]) -> list[Unit]:
    """Units in tree order (district, street, its communities, next street …), siblings by code."""
    present = {unit.id for unit in units}
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in present else None
        children.setdefault(parent, []).append(unit)
    ordered: list[Unit] = []
    stack = sorted(children.get(None, []), key=lambda u: u.code, reverse=True)
    while stack:
        unit = stack.pop()
        ordered.append(unit)
        stack.extend(sorted(children.get(unit.id, []), key=lambda u: u.code, reverse=True))
    return ordered
