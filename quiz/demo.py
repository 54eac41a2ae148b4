"""The demo district, its campaigns and an organiser account, created once and kept."""
import secrets
from datetime import date

from quiz.extensions import db
from quiz.models import Campaign, Organiser, OrganiserRole, Unit, UnitKind
from quiz.papers import PRESETS
from quiz.slogan_rules import seed_official

# code, name, kind, parent code, headcount
DEMO_UNITS = [
    ("D", "示范区", UnitKind.DISTRICT, None, 0),
    ("S01", "东街街道", UnitKind.STREET, "D", 0),
    ("S01C01", "东门社区", UnitKind.COMMUNITY, "S01", 3200),
    ("S01C02", "文昌社区", UnitKind.COMMUNITY, "S01", 2800),
    ("S02", "西湖街道", UnitKind.STREET, "D", 0),
    ("S02C01", "湖滨社区", UnitKind.COMMUNITY, "S02", 4100),
    ("S02C02", "柳岸社区", UnitKind.COMMUNITY, "S02", 2600),
    ("S03", "南岭街道", UnitKind.STREET, "D", 0),
    ("S03C01", "南岭社区", UnitKind.COMMUNITY, "S03", 3500),
    ("S03C02", "桥头社区", UnitKind.COMMUNITY, "S03", 1900),
    ("G01", "区应急管理局", UnitKind.DEPARTMENT, "D", 86),
    ("G02", "区消防救援大队", UnitKind.DEPARTMENT, "D", 120),
    ("G03", "区住房和建设局", UnitKind.DEPARTMENT, "D", 95),
    ("G04", "区教育局", UnitKind.DEPARTMENT, "D", 140),
    ("E01", "恒达化工有限公司", UnitKind.ENTERPRISE, "G01", 420),
    ("E02", "安居物业服务有限公司", UnitKind.ENTERPRISE, "G03", 260),
    ("E03", "鑫源燃气有限公司", UnitKind.ENTERPRISE, "G01", 180),
    ("E04", "东方纺织有限公司", UnitKind.ENTERPRISE, "G01", 650),
]

DEMO_CAMPAIGNS = [
    {"year": 2020, "title": "2020年“安全生产月”安全知识网络答题", "theme": "消除事故隐患，筑牢安全防线",
     "starts_on": date(2020, 6, 1), "ends_on": date(2020, 6, 30),
     "consultation_day": date(2020, 6, 16), "preset": "exam", "is_active": False},
    {"year": 2024, "title": "2024年“安全生产月”安全知识网络答题",
     "theme": "人人讲安全、个个会应急——畅通生命通道",
     "starts_on": date(2024, 6, 1), "ends_on": date(2024, 6, 30),
     "consultation_day": date(2024, 6, 16), "preset": "contest", "is_active": True},
]


def campaign_from_preset(preset: str, **fields) -> Campaign:
    """A campaign whose paper rules start from one of the presets."""
    rules = {key: value for key, value in PRESETS[preset].items() if key != "label"}
    return Campaign(**{**rules, **fields})


def seed_demo() -> dict[str, int]:
    """Everything `flask demo seed` creates except the account; the caller commits."""
    themes, slogans = seed_official()
    return {"units": seed_units(), "campaigns": seed_campaigns(), "themes": themes,
            "slogans": slogans}


def seed_units() -> int:
    """Create the demo units that do not exist yet; return how many were created."""
    existing = {unit.code: unit for unit in db.session.scalars(db.select(Unit))}
    created = 0
    for code, name, kind, parent_code, headcount in DEMO_UNITS:
        if code in existing:
            continue
        unit = Unit(code=code, name=name, kind=kind, headcount=headcount,
                    parent=existing.get(parent_code))
        db.session.add(unit)
        existing[code] = unit
        created += 1
    return created


def seed_campaigns() -> int:
    """Create the 2020 and 2024 campaigns unless a campaign of that year exists."""
    years = set(db.session.scalars(db.select(Campaign.year)))
    created = 0
    for spec in DEMO_CAMPAIGNS:
        if spec["year"] in years:
            continue
        fields = {key: value for key, value in spec.items() if key != "preset"}
        db.session.add(campaign_from_preset(spec["preset"], **fields))
        created += 1
    return created


def ensure_admin(username: str, password: str | None) -> tuple[Organiser, str | None]:
    """Create the district administrator, or reset its password when one is given.

    Returns the account and the password to print (None when it was left unchanged).
    """
    admin = db.session.scalar(db.select(Organiser).filter_by(username=username))
    if admin is None:
        admin = Organiser(username=username, display_name="区安办管理员",
                          role=OrganiserRole.ADMIN, password_hash="", handles_reports=True)
        db.session.add(admin)
        password = password or secrets.token_urlsafe(9)
    if password:
        admin.set_password(password)
    return admin, password
