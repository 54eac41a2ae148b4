"""Unit rules: codes, moves within the tree, and importing units from a sheet."""
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from quiz.extensions import db
from quiz.models import UNIT_KIND_LABELS, Unit, UnitKind
from quiz.permissions import subtree_ids

CODE_PREFIX = {UnitKind.DISTRICT: "D", UnitKind.STREET: "S", UnitKind.COMMUNITY: "C",
               UnitKind.DEPARTMENT: "G", UnitKind.ENTERPRISE: "E", UnitKind.SCHOOL: "X",
               UnitKind.OTHER: "O"}
KIND_BY_LABEL = {label: kind for kind, label in UNIT_KIND_LABELS.items()}

# Sheet column → UnitForm field
IMPORT_COLUMNS = {
    "单位名称": "name", "类别": "kind", "上级单位": "parent", "人数": "headcount", "编码": "code",
    "联络员姓名": "liaison_name", "性别": "liaison_gender", "职务": "liaison_title",
    "办公电话": "liaison_office_phone", "手机": "liaison_mobile", "传真": "liaison_fax",
    "QQ": "liaison_qq", "微信": "liaison_wechat", "电子邮箱": "liaison_email",
    "通信地址": "liaison_address",
}


def new_unit_code(kind: UnitKind, parent: Unit | None, taken: set[str]) -> str:
    """The next free code under the parent: S01, S01C02, G03E01 …"""
    base = parent.code if parent is not None and parent.kind is not UnitKind.DISTRICT else ""
    number = 1
    while f"{base}{CODE_PREFIX[kind]}{number:02d}" in taken:
        number += 1
    return f"{base}{CODE_PREFIX[kind]}{number:02d}"


def can_move_under(unit: Unit, new_parent: Unit | None) -> bool:
    """A unit may not become its own ancestor."""
    return new_parent is None or new_parent.id not in subtree_ids(unit)


@dataclass
class ImportRow:
    number: int  # the row number the organiser sees in Excel (header is row 1)
    values: dict
    errors: list[str] = field(default_factory=list)


def check_import(rows: list[dict[str, str]], allowed_parent_ids: set[int] | None) -> list[ImportRow]:
    """Validate every row with the same rules as the unit form; parents may be earlier rows."""
    from quiz.console.forms import UnitForm

    units = db.session.scalars(db.select(Unit)).all()
    by_code = {unit.code: unit for unit in units}
    by_name = {}
    for unit in units:
        by_name.setdefault(unit.name, []).append(unit)
    new_names: dict[str, int] = {}
    new_codes: set[str] = set()
    checked = []
    for number, raw in enumerate(rows, start=2):
        row = ImportRow(number=number, values={})
        unknown = [name for name in raw if name not in IMPORT_COLUMNS]
        if unknown:
            row.errors.append(f"未知的列：{'、'.join(unknown)}")
        data = MultiDict({IMPORT_COLUMNS[k]: v for k, v in raw.items() if k in IMPORT_COLUMNS})
        kind = KIND_BY_LABEL.get(data.get("kind", ""))
        if kind is None:
            row.errors.append(f"类别应为 {'、'.join(KIND_BY_LABEL)} 之一")
        else:
            data["kind"] = kind.value
        data["headcount"] = data.get("headcount") or "0"
        form = UnitForm(formdata=data, meta={"csrf": False})
        form.parent.choices = []
        form.validate()
        for name, messages in form.errors.items():
            if name not in ("parent", "kind"):
                row.errors.extend(messages)
        parent_key = data.get("parent", "")
        parent_id = None
        if parent_key in by_code:
            parent_id = by_code[parent_key].id
        elif parent_key in new_names:
            parent_id = -new_names[parent_key]  # a unit earlier in this file
        elif len(by_name.get(parent_key, [])) == 1:
            parent_id = by_name[parent_key][0].id
        elif parent_key in by_name:
            row.errors.append(f"上级单位“{parent_key}”有重名，请填写它的编码")
        else:
            row.errors.append(f"找不到上级单位“{parent_key}”" if parent_key else "请填写上级单位")
        if parent_id is not None and parent_id > 0 and allowed_parent_ids is not None \
                and parent_id not in allowed_parent_ids:
            row.errors.append("只能在本单位及下级单位之下添加单位")
        code = data.get("code", "")
        if code and (code in by_code or code in new_codes):
            row.errors.append(f"编码 {code} 已被使用")
        name = data.get("name", "")
        if name in new_names:
            row.errors.append(f"单位名称与第 {new_names[name]} 行重复")
        if not row.errors:
            new_names[name] = number
            if code:
                new_codes.add(code)
            row.values = {**{f: form[f].data for f in UnitForm.LIAISON_FIELDS},
                          "name": form.name.data, "kind": kind, "code": code,
                          "headcount": form.headcount.data, "parent_id": parent_id}
        checked.append(row)
    return checked


def apply_import(rows: list[ImportRow]) -> int:
    """Create the valid rows' units in file order; the caller commits."""
    taken = set(db.session.scalars(db.select(Unit.code)))
    created_by_row: dict[int, Unit] = {}
    for row in rows:
        if row.errors:
            continue
        values = dict(row.values)
        parent_id = values.pop("parent_id")
        parent = created_by_row.get(-parent_id) if parent_id < 0 else db.session.get(Unit, parent_id)
        if parent_id < 0 and parent is None:
            continue  # its parent row was invalid and skipped
        code = values.pop("code") or new_unit_code(values["kind"], parent, taken)
        taken.add(code)
        unit = Unit(code=code, parent=parent, **{k: v or None if k.startswith("liaison") else v
                                                  for k, v in values.items()})
        db.session.add(unit)
        created_by_row[row.number] = unit
    db.session.flush()
    return len(created_by_row)
