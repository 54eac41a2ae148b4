"""Hostile input (issue 7): every form, JSON endpoint, query string and URL parameter meets a corpus
of hostile values: never a 500, always a clear Chinese message, nothing stored half-way.

Discovery. The endpoints come from ``app.url_map``; each one's fields from its own view: the WTForms
classes the view builds (file fields included) and the keys it reads from ``request.form``,
``request.values``, ``request.files``, ``request.args`` and ``request.headers``. A new form is
attacked without anyone listing it here. What must be declared by hand is only a valid *base*
submission (so that one hostile field at a time gets past the others) and the value of any new URL
parameter; ``test_every_post_endpoint_is_reached`` fails until both exist.

The world. One fixture world (demo units and bank, a contest campaign, a started paper per visitor
made through POST /start, a hazard report with a photo made through POST /r/, slogans, import
previews, a QR ZIP job) is built once per module through the real forms, then snapshotted: every
test starts from that snapshot (rows of every table, upload and export files, session cookies),
so endpoints cannot disturb each other and the run stays fast.

The corpus, per POST endpoint, as an anonymous visitor and as a logged-in district administrator,
always with a valid CSRF token of the same session unless the variant is about the token:
  * every hostile value (CORPUS, and FILE_CORPUS for file fields) in every field at once;
  * one field at a time, on an otherwise valid submission, with the values that can only hurt
    once the rest of the form is accepted (SHARP: markup that would be stored, 10k characters,
    NUL, a lone surrogate, a huge number, NaN), and every field (and an unknown field) also
    duplicated both ways and missing;
  * JSON bodies instead of forms (with and without the token header, with wrong types, broken
    JSON), multipart instead of urlencoded, text/plain, hostile field names, no fields at all,
    no CSRF token, a token of another session; for the CSRF-exempt Open311 API no or a wrong
    api_key.
An anonymous visitor on a page that needs a login only gets the every-field-at-once values and the
structural variants: the login check answers before any field is read.

Each response: status < 500; an HTML page carries Chinese and no hostile markup unescaped; a JSON
refusal carries a Chinese message; a redirect stays on the site; without a valid CSRF token the
answer is 400 (or the login redirect); after any refusal the row count of every table and the
number of uploaded files are unchanged (WRITES_ON_REFUSAL lists the exceptions, with reasons).
After each endpoint, the pages that show stored content are checked for unescaped markup.

Bugs found are listed in KNOWN_BUGS: the main tests step around exactly those cases, and
``test_known_bug`` replays each one as a strict xfail, so that a fix turns it into an XPASS that
asks for the entry to be removed.
"""
from __future__ import annotations

import copy
import dataclasses
import inspect
import io
import json
import os
import re
import secrets
import time
import typing
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
from PIL import Image
from sqlalchemy import text
from wtforms import FieldList, FormField
from wtforms import Form as WTForm
from wtforms.fields import FileField, MultipleFileField

from quiz import create_app
from quiz.extensions import csrf, db
from tests import conftest, factories
from tests.conftest import CSRF_PATTERN, csrf_token, login

# ------------------------------------------------------------------------------------------------
# The corpus
# ------------------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# What must never reach a page unescaped, reflected or stored: the markup of SCRIPT and IMG.
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror=alert(1)>", "onerror=alert(1)>")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Hostile:
    label: str
    value: typing.Any  # str; bytes are sent as they are (not valid UTF-8); Upload for files


CORPUS = [
    Hostile("script", SCRIPT),
    Hostile("img-onerror", IMG),
    Hostile("sql-or", "' OR 1=1 --"),
    Hostile("sql-drop", "'; DROP TABLE units; --"),
    Hostile("10k-chars", ("安全" * 5000)[: 10_000 - len(SCRIPT)] + SCRIPT),
    Hostile("100k-chars", "A" * 100_000),
    Hostile("nul", "a\x00b"),
    Hostile("ansi-escape", "\x1b[31m红\x1b[0m"),
    Hostile("rtl-override", "\u202etxt.exe"),
    Hostile("crlf", "a\r\nSet-Cookie: x=1"),
    Hostile("emoji-astral", "🔥🧯𠮷𝕏"),
    # The test client will not encode a lone surrogate; a raw client sends its UTF-8-style bytes.
    Hostile("lone-surrogate", b"\xed\xa0\x80"),
    Hostile("invalid-utf8", b"\xff\xfe\xc3"),
    Hostile("number", "12345"),
    Hostile("negative", "-1"),
    Hostile("huge-number", "99999999999999999999"),
    Hostile("nan", "NaN"),
    Hostile("infinity", "inf"),
    Hostile("overflow-float", "1e309"),
    Hostile("text-for-number", "十二"),
    Hostile("empty", ""),
    Hostile("spaces", "   "),
    Hostile("path-traversal", "../../etc/passwd"),
    Hostile("formula", '=HYPERLINK("http://evil.example","x")'),
]
BY_LABEL = {hostile.label: hostile for hostile in CORPUS}
# Sent one field at a time on a valid submission: what only hurts once the rest is accepted.
SHARP = [BY_LABEL[label] for label in
         ("img-onerror", "10k-chars", "nul", "lone-surrogate", "huge-number", "nan")]
# In a URL path segment.
PATH_CORPUS = [BY_LABEL[label] for label in
               ("script", "img-onerror", "sql-or", "10k-chars", "nul", "crlf", "emoji-astral",
                "lone-surrogate", "huge-number", "path-traversal", "spaces")]
# Integer URL parameters only ever see digits (the converter refuses the rest with a 404).
INT_CORPUS = [Hostile("zero", "0"), Hostile("int32-overflow", "2147483648"),
              Hostile("int64-overflow", "9223372036854775808"),
              Hostile("huge-number", "99999999999999999999")]
# As the CSRF token or the api_key.
KEY_CORPUS = [BY_LABEL[label] for label in
              ("script", "sql-or", "10k-chars", "nul", "lone-surrogate", "empty")]
UNKNOWN_FIELD = "unexpected_field"


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


def hostile_csv() -> bytes:
    """A sheet whose cells are the corpus, under the headers of both importers."""
    from quiz.bank_io import SHEET_COLUMNS
    from quiz.units import IMPORT_COLUMNS

    rows = []
    for columns in (list(IMPORT_COLUMNS), SHEET_COLUMNS):
        rows.append(",".join(columns))
        for value in (SCRIPT, IMG, "'; DROP TABLE units; --", "a\x00b", "=1+1", "-1"):
            cell = '"' + value.replace('"', '""') + '"'
            rows.append(",".join([cell] * len(columns)))
    return "\n".join(rows).encode()


FILE_CORPUS = [
    Hostile("file-html", Upload(f"{SCRIPT}.jpg", f"<html>{SCRIPT}</html>".encode(), "image/jpeg")),
    Hostile("file-empty", Upload("empty.csv", b"", "text/csv")),
    Hostile("file-garbage", Upload("'; DROP TABLE units; --.xlsx", bytes(range(256)) * 8)),
    Hostile("file-hostile-csv", Upload(f"{IMG}.csv", hostile_csv(), "text/csv")),
    Hostile("file-6mb", Upload("big.csv", b"a," * (3 * 1024 * 1024), "text/csv")),
    Hostile("file-png-hostile-name", Upload(f"..\\..\\{SCRIPT}.png", png_bytes(), "image/png")),
]


# ------------------------------------------------------------------------------------------------
# Discovery: endpoints from the URL map, fields from the views
# ------------------------------------------------------------------------------------------------

DISCOVERY_APP = create_app({"TESTING": True, "SECRET_KEY": "discovery", "RATELIMIT_ENABLED": False,
                            "SQLALCHEMY_DATABASE_URI": "sqlite://"})
RULES = sorted(DISCOVERY_APP.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
POST_RULES = [rule for rule in RULES if "POST" in rule.methods]

FORM_KEY_PATTERNS = [
    re.compile(r"\brequest\.(?:form|values|files)\.(?:get|getlist)\(\s*[\"'](\w+)[\"']"),
    re.compile(r"\brequest\.(?:form|values)\[\s*[\"'](\w+)[\"']\s*\]"),
    re.compile(r"[\"'](\w+)[\"']\s+in\s+request\.(?:form|values)"),
]
# `values = request.values` then `values.get("lat")`, `values["lat"]` (Open311).
ALIASED_VALUES = re.compile(r"\b(\w+)\s*=\s*request\.(?:values|form)\b")
FILE_KEY_PATTERN = re.compile(r"request\.files\.(?:get|getlist)\(\s*[\"'](\w+)[\"']")
QUERY_KEY_PATTERNS = [re.compile(r"request\.args\.get\(\s*[\"'](\w+)[\"']"),
                      re.compile(r"request\.args\[\s*[\"'](\w+)[\"']\s*\]")]
ARGS_FORM_PATTERN = re.compile(r"\b([A-Z]\w*)\(\s*request\.args")
HEADER_KEY_PATTERN = re.compile(r"request\.headers\.get\(\s*[\"']([\w-]+)[\"']")
CALL_PATTERN = re.compile(r"\b([A-Za-z_]\w*)\(")

# Fields a view reads in a way the source scan cannot see (names built at run time).
DYNAMIC_FIELDS = {
    "report.create": {"photo0": True, "photo1": True, "photo2": True},  # f"photo{slot}": files
    "learn.practice": {"choice": False},  # practice_form_for() builds the answer field
    "learn.mistake_book": {"choice": False},
    # play.save and play.submit: q1..qN come from the paper (Who.question_fields).
}


def reachable_functions(view, depth: int = 2) -> list:
    """The view and the quiz functions it calls, up to ``depth`` calls deep."""
    seen, todo = [], [(inspect.unwrap(view), 0)]
    while todo:
        function, level = todo.pop()
        if function in seen:
            continue
        seen.append(function)
        if level >= depth:
            continue
        for name in set(CALL_PATTERN.findall(inspect.getsource(function))):
            target = function.__globals__.get(name)
            if inspect.isfunction(target) and (target.__module__ or "").startswith("quiz"):
                todo.append((inspect.unwrap(target), level + 1))
    return seen


def instantiate(form_class: type):
    """A form built only to read its field names."""
    hints = typing.get_type_hints(form_class.__init__)
    args = []
    for parameter in list(inspect.signature(form_class.__init__).parameters.values())[1:]:
        if parameter.kind is not parameter.POSITIONAL_OR_KEYWORD \
                or parameter.default is not parameter.empty:
            break
        kind = hints.get(parameter.name)
        args.append(next(iter(kind)) if inspect.isclass(kind) and issubclass(kind, Enum) else None)
    return form_class(*args, formdata=None, meta={"csrf": False})


def flat_fields(fields) -> dict[str, bool]:
    """Field name -> is a file field; of a FieldList only the first entry (the rest are alike)."""
    names = {}
    for item in fields:
        if isinstance(item, FieldList):
            names.update(flat_fields(list(item)[:1]))
        elif isinstance(item, FormField):
            names.update(flat_fields(item))
        else:
            names[item.name] = isinstance(item, (FileField, MultipleFileField))
    return names


def discovered_fields(endpoint: str) -> dict[str, bool]:
    """Every field an endpoint reads from a POST body: name -> is a file."""
    view = DISCOVERY_APP.view_functions[endpoint]
    own = inspect.unwrap(view)
    names: dict[str, bool] = {}
    with DISCOVERY_APP.test_request_context():
        for name in dict.fromkeys(CALL_PATTERN.findall(inspect.getsource(own))):
            target = own.__globals__.get(name)
            if inspect.isclass(target) and issubclass(target, WTForm):
                names.update(flat_fields(instantiate(target)))
    for function in reachable_functions(view):
        source = inspect.getsource(function)
        patterns = list(FORM_KEY_PATTERNS)
        for alias in ALIASED_VALUES.findall(source):
            patterns += [re.compile(rf"\b{alias}\.(?:get|getlist)\(\s*[\"'](\w+)[\"']"),
                         re.compile(rf"\b{alias}\[\s*[\"'](\w+)[\"']\s*\]")]
        for pattern in patterns:
            for name in pattern.findall(source):
                names.setdefault(name, False)
        for name in FILE_KEY_PATTERN.findall(source):
            names[name] = True
    names.update(DYNAMIC_FIELDS.get(endpoint, {}))
    names.pop("csrf_token", None)
    return names


def discovered_headers(endpoint: str) -> list[str]:
    view = DISCOVERY_APP.view_functions[endpoint]
    return sorted({name for function in reachable_functions(view)
                   for name in HEADER_KEY_PATTERN.findall(inspect.getsource(function))})


def discovered_query(endpoint: str) -> list[str]:
    """The query parameters an endpoint reads: request.args keys, filter forms, pagination."""
    view = DISCOVERY_APP.view_functions[endpoint]
    names: dict[str, None] = {}
    for function in reachable_functions(view):
        source = inspect.getsource(function)
        for pattern in QUERY_KEY_PATTERNS:
            names.update(dict.fromkeys(pattern.findall(source)))
        for form_name in ARGS_FORM_PATTERN.findall(source):
            form_class = function.__globals__.get(form_name)
            if inspect.isclass(form_class) and issubclass(form_class, WTForm):
                with DISCOVERY_APP.test_request_context():
                    names.update(dict.fromkeys(flat_fields(instantiate(form_class))))
        if "db.paginate(" in source:
            names.update(dict.fromkeys(("page", "per_page")))  # Flask-SQLAlchemy reads both
    return list(names)


def is_csrf_exempt(rule) -> bool:
    blueprint = DISCOVERY_APP.blueprints.get(rule.endpoint.rpartition(".")[0])
    view = DISCOVERY_APP.view_functions[rule.endpoint]
    return blueprint in csrf._exempt_blueprints or \
        f"{view.__module__}.{view.__name__}" in csrf._exempt_views


GET_QUERY_RULES = [rule for rule in RULES if "GET" in rule.methods and rule.endpoint != "static"
                   and discovered_query(rule.endpoint)]
PARAM_RULES = [rule for rule in RULES if rule.arguments]

# Endpoints that take no CSRF token, on purpose; each must refuse a request without its own key.
CSRF_EXEMPT_BY_DESIGN = {
    "open311.create_request": "machine clients (other civic systems) authenticate with api_key",
}
# POST endpoints the corpus may skip, with the reason. Empty: every POST endpoint is attacked.
NOT_ATTACKED: dict[str, str] = {}
# Tables a refused request may legitimately write, with the reason: (endpoint, table) pairs.
WRITES_ON_REFUSAL: dict[tuple[str, str], str] = {
    ("report.create", "report_photos"): "a refused report form keeps the photos it carried (sent "
        "without JavaScript) so that the corrected form can take them without a new upload",
    ("report.create", "files in the upload folder"): "the same photos' files",
}


# ------------------------------------------------------------------------------------------------
# The world: real objects behind every URL parameter, made through the real forms
# ------------------------------------------------------------------------------------------------

API_KEY = "hostile-input-test-key"
UNIT = "S01C01"
CATEGORY = "消防安全"
ADMIN = "admin"


@dataclass
class Who:
    """A visitor with their own session: anonymous, or the logged-in administrator."""

    name: str
    client: typing.Any
    attempt_token: str = ""
    question_fields: list[str] = field(default_factory=list)
    shown: str = ""
    token: str = ""  # a valid CSRF token of this session


@dataclass
class World:
    app: typing.Any
    anonymous: Who
    admin: Who
    campaign_id: int = 0
    unit_id: int = 0
    street_id: int = 0
    other_organiser_id: int = 0
    question_id: int = 0
    tracking_code: str = ""
    report_id: int = 0
    photo_token: str = ""
    approved_slogan_id: int = 0
    pending_slogan_id: int = 0
    unit_import_token: str = ""
    bank_import_token: str = ""
    zip_job_id: str = ""
    folders: tuple = ()
    dialect: str = ""
    admin_session: str = ""  # the administrator's session cookie, logged in
    stored_markup: bool = False


def start_paper(client) -> tuple[str, list[str]]:
    """Register on the unit's page through the real form; the paper's token and answer fields."""
    token = csrf_token(client, f"/join/{UNIT}")
    response = client.post("/start", data={"csrf_token": token, "name": "张三", "unit": UNIT})
    assert response.status_code == 302 and "/a/" in response.location, response.status_code
    attempt_token = re.search(r"/a/([^/?]+)", response.location).group(1)
    page = client.get(f"/a/{attempt_token}").get_data(as_text=True)
    return attempt_token, sorted(set(re.findall(r'name="(q\d+)"', page)), key=lambda q: int(q[1:]))


def bank_sheet() -> bytes:
    """A question bank sheet with one good question."""
    from quiz.bank_io import COLUMNS

    row = {"题型": "单选", "题干": "导入测试题干（　）", "选项A": "甲", "选项B": "乙", "选项C": "丙",
           "答案": "A", "解析": "因为甲。", "分类": CATEGORY, "难度": "1", "出处": "《测试依据》第1条"}
    return (",".join(COLUMNS) + "\n" + ",".join(row.get(c, "") for c in COLUMNS) + "\n").encode()


def build_world(app, folders) -> World:
    from quiz.bank_io import IMPORT_ORIGIN
    from quiz.demo import seed_units
    from quiz.models import Organiser, Slogan, Unit
    from quiz.models.report import HazardReport
    from quiz.slogan_rules import seed_official

    with app.app_context():  # the `demo` fixture's world, plus what the corpus needs
        seed_units()
        seed_official()
        db.session.commit()
        factories.make_bank()
        # Every accepted /start opens a paper, however many the corpus sends.
        campaign = factories.make_campaign("contest", attempts_per_day=100_000,
                                           time_limit_seconds=7200)  # papers stay open all run
        # The administrator also handles reports, so the sealed-identity form is reached too.
        factories.make_organiser(ADMIN, handles_reports=True)
        unit = db.session.scalar(db.select(Unit).filter_by(code=UNIT))
        street = db.session.scalar(db.select(Unit).filter_by(code="S01"))
        other = Organiser(username="unit-organiser", display_name="单位组织者", password_hash="!",
                          unit_id=street.id)  # never logs in: no password hashing needed
        db.session.add(other)
        imported = factories.make_question(category=CATEGORY)
        imported.origin = IMPORT_ORIGIN  # an organiser's own question: editable in the console
        db.session.commit()
        world = World(app=app, anonymous=Who("anonymous", app.test_client()),
                      admin=Who("administrator", app.test_client()), campaign_id=campaign.id,
                      unit_id=unit.id, street_id=street.id, other_organiser_id=other.id,
                      question_id=imported.id, folders=folders, dialect=db.engine.dialect.name)
    admin, anonymous = world.admin.client, world.anonymous.client
    assert login(admin, ADMIN).status_code == 302
    for who in (world.anonymous, world.admin):
        who.attempt_token, who.question_fields = start_paper(who.client)
        page = who.client.get(f"/learn/{CATEGORY}/practice").get_data(as_text=True)
        who.shown = re.search(r'name="shown" value="([^"]+)"', page).group(1)

    # A hazard report with a photo, through the public form.
    photo = anonymous.post("/r/photos", data={"csrf_token": csrf_token(anonymous, "/r/"),
                                               "photo": (io.BytesIO(png_bytes()), "p.png")},
                           content_type="multipart/form-data")
    assert photo.status_code == 200, photo.get_data(as_text=True)
    world.photo_token = photo.get_json()["token"]
    page = anonymous.get(f"/r/?unit={UNIT}").get_data(as_text=True)
    response = anonymous.post("/r/", data={
        "csrf_token": CSRF_PATTERN.search(page).group(1), "category": "ebike", "unit": UNIT,
        "place": "3栋2单元一楼楼道", "description": "多辆电动车在楼道内充电，堵住了安全出口。",
        "anonymous": "y", "photo_tokens": world.photo_token,
        "submission_key": re.search(r'name="submission_key" type="hidden" value="([^"]+)"',
                                    page).group(1)})
    assert response.status_code == 303, response.get_data(as_text=True)
    world.tracking_code = re.search(r"/r/c/([A-Z0-9]+)", response.location).group(1)
    with app.app_context():
        world.report_id = db.session.scalar(
            db.select(HazardReport.id).filter_by(tracking_code=world.tracking_code))

    # Slogans: one approved through the console (for votes), one pending (for moderation).
    response = anonymous.post("/slogans/new", data={
        "csrf_token": csrf_token(anonymous, "/slogans/"), "text": "隐患排查常态化人人有责",
        "author_name": "李"})
    assert response.status_code == 302
    with app.app_context():
        world.approved_slogan_id = db.session.scalar(
            db.select(Slogan.id).filter_by(is_official=False))
    assert admin.post(f"/console/slogans/{world.approved_slogan_id}/approve",
                      data={"csrf_token": csrf_token(admin, "/console/slogans")}).status_code == 302
    ensure_pending_slogan(world, world.admin)

    # Import previews waiting for confirmation, through the real upload forms.
    sheet = "单位名称,类别,上级单位,人数\n北湖社区,社区,S01,100\n".encode()
    page = admin.post("/console/units/import", data={
        "csrf_token": csrf_token(admin, "/console/units/import"),
        "file": (io.BytesIO(sheet), "u.csv")},
        content_type="multipart/form-data").get_data(as_text=True)
    world.unit_import_token = re.search(r'action="/console/units/import/([^"]+)"', page).group(1)
    page = admin.post("/console/bank/import", data={
        "csrf_token": csrf_token(admin, "/console/bank/import"),
        "file": (io.BytesIO(bank_sheet()), "b.csv")},
        content_type="multipart/form-data").get_data(as_text=True)
    world.bank_import_token = re.search(r'action="/console/bank/import/([^"]+)"', page).group(1)

    # A ZIP of QR codes built for the unit (waited for, so the snapshot holds the finished job).
    response = admin.post(f"/posters/zip/{UNIT}",
                          data={"csrf_token": csrf_token(admin, "/posters/")})
    world.zip_job_id = re.search(r"/posters/zip/job/([^/?]+)", response.location).group(1)
    wait_for_zip_jobs(world)
    for who in (world.anonymous, world.admin):
        who.token = csrf_token(who.client, "/r/track")
    world.admin_session = admin.get_cookie("session").value
    return world


def wait_for_zip_jobs(world: World) -> None:
    """ZIPs are built in a thread: let them finish before files are snapshotted or compared."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        busy = [p for folder in world.folders if folder.exists()
                for p in folder.glob("*.json") if '"finished": false' in p.read_text()]
        if not busy:
            return
        time.sleep(0.05)


@dataclass
class Snapshot:
    world: World
    rows: dict
    files: dict
    cookies: dict


def take_snapshot(world: World) -> Snapshot:
    with world.app.app_context():
        rows = {table.name: [dict(row._mapping) for row in db.session.execute(table.select())]
                for table in db.metadata.sorted_tables}
    files = {path: path.read_bytes() for folder in world.folders if folder.exists()
             for path in folder.rglob("*") if path.is_file()}
    cookies = {who.name: who.client.get_cookie("session").value
               for who in (world.anonymous, world.admin)}
    return Snapshot(world, rows, files, cookies)


def restore(snapshot: Snapshot) -> World:
    """Put back every row, file and session of the snapshot; a fresh copy of the world."""
    app = snapshot.world.app
    with app.app_context():
        conftest.empty_database()
        deferred = []
        for table in db.metadata.sorted_tables:
            rows = snapshot.rows[table.name]
            later = {fk.parent.name for fk in table.foreign_keys if fk.constraint.use_alter}
            if rows:
                db.session.execute(table.insert(),
                                   [{**row, **dict.fromkeys(later)} for row in rows])
                if later:
                    deferred.append((table, later, rows))
        for table, later, rows in deferred:  # questions <-> question_versions point at each other
            key = list(table.primary_key.columns)[0]
            for row in rows:
                values = {name: row[name] for name in later if row[name] is not None}
                if values:
                    db.session.execute(table.update().where(key == row[key.name]).values(**values))
        db.session.commit()
    wait_for_zip_jobs(snapshot.world)
    for folder in snapshot.world.folders:
        if folder.exists():
            for path in folder.rglob("*"):
                if path.is_file() and path not in snapshot.files:
                    path.unlink()
    for path, content in snapshot.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
    world = copy.copy(snapshot.world)
    for attribute in ("anonymous", "admin"):
        who = dataclasses.replace(getattr(world, attribute), client=app.test_client())
        who.question_fields = list(who.question_fields)
        who.client.set_cookie("session", snapshot.cookies[who.name])
        setattr(world, attribute, who)
    return world


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """One app and world for the module, built through the real forms (see the module text)."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    url = conftest.database_url(tmp_path)
    folders = (tmp_path / "exports", tmp_path / "uploads")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False, "EXPORT_FOLDER": str(folders[0]),
        "UPLOAD_FOLDER": str(folders[1]),
        "OPEN311_API_KEYS": [API_KEY],
    })
    with app.app_context():  # as the `app` fixture of conftest.py does
        if url not in conftest._prepared_urls and not url.startswith("sqlite"):
            db.drop_all()
            conftest._prepared_urls.add(url)
        db.create_all()
        conftest.empty_database()
    yield take_snapshot(build_world(app, folders))
    with app.app_context():
        conftest.empty_database()
        db.engine.dispose()


@pytest.fixture
def world(snapshot):
    return restore(snapshot)


def ensure_pending_slogan(world: World, _who: Who) -> None:
    """Moderation needs a slogan still waiting; a decision consumes it, so make another."""
    from quiz.models import Slogan, SloganStatus
    from quiz.timeutil import local_day, utcnow

    with world.app.app_context():
        slogan = db.session.get(Slogan, world.pending_slogan_id) \
            if world.pending_slogan_id else None
        if slogan is None or slogan.status is not SloganStatus.PENDING:
            slogan = Slogan(text=f"待审标语{secrets.token_hex(4)}", device_key="seed",
                            submitted_day=local_day(utcnow()), status=SloganStatus.PENDING)
            db.session.add(slogan)
            db.session.commit()
            world.pending_slogan_id = slogan.id


def ensure_open_paper(world: World, who: Who) -> None:
    """Answers go to an open paper: once the corpus has handed one in, open the next one."""
    from quiz.attempts import is_past_grace
    from quiz.models import Attempt
    from quiz.timeutil import utcnow

    with world.app.app_context():
        attempt = db.session.scalar(db.select(Attempt).filter_by(token=who.attempt_token))
        submitted = attempt is None or attempt.is_submitted or is_past_grace(attempt, utcnow()) \
            or attempt.participant.token != session_value(who, "participant")
    if submitted:
        who.attempt_token, who.question_fields = start_paper(who.client)


def session_value(who: Who, key: str):
    with who.client.session_transaction() as session:
        return session.get(key)


def ensure_logged_in(world: World, who: Who) -> bool:
    """The corpus may log the administrator out (POST /auth/logout): put back the session the
    real login form gave (logging in again each time would cost a password hash)."""
    if who is world.admin and session_value(who, "_user_id") is None:
        who.client.set_cookie("session", world.admin_session)
        assert session_value(who, "_user_id") is not None
        return True
    return False


def report_state(status: str):
    """Put the report back in the state the endpoint's valid submission starts from."""
    def prepare(world: World, _who: Who) -> None:
        from quiz.models.report import HazardGrade, HazardReport, ReportStatus

        with world.app.app_context():
            report = db.session.get(HazardReport, world.report_id)
            if report.status is not ReportStatus(status) or report.extension_reason:
                report.status = ReportStatus(status)
                report.extension_reason = None
                if status != "submitted":
                    report.assigned_unit_id, report.grade = world.unit_id, HazardGrade.GENERAL
                db.session.commit()
    return prepare


# Run before every request of the endpoint: state the previous request may have used up.
PREPARE = {
    "console.report_transition": report_state("submitted"),
    "console.report_assign": report_state("verifying"),
    "console.report_extend": report_state("verifying"),
    "play.save": ensure_open_paper,
    "play.submit": ensure_open_paper,
    "console.moderate_slogan": ensure_pending_slogan,
    "auth.logout": ensure_logged_in,
}


def code_value(world: World, who: Who, rule) -> str:
    return world.tracking_code if rule.rule.startswith("/r/c/") else UNIT


def token_value(world: World, who: Who, rule) -> str:
    if rule.rule.startswith("/a/"):
        return who.attempt_token
    if rule.rule.startswith("/console/units/import/"):
        return world.unit_import_token
    if rule.rule.startswith("/console/bank/import/"):
        return world.bank_import_token
    return world.photo_token  # the photo URLs


# The value of each URL parameter, by name (and by rule where one name means different things).
URL_VALUES = {
    "code": code_value,
    "token": token_value,
    "report_id": lambda w, who, rule: w.report_id,
    "unit_id": lambda w, who, rule: w.unit_id,
    "organiser_id": lambda w, who, rule: w.other_organiser_id,
    "campaign_id": lambda w, who, rule: w.campaign_id,
    "question_id": lambda w, who, rule: w.question_id,
    "slogan_id": lambda w, who, rule: (w.pending_slogan_id if rule.rule.startswith("/console/")
                                       else w.approved_slogan_id),
    "decision": lambda w, who, rule: "reject",
    "preset": lambda w, who, rule: "contest",
    "category": lambda w, who, rule: CATEGORY,
    "purpose": lambda w, who, rule: "quiz",
    "job_id": lambda w, who, rule: w.zip_job_id,
    "filename": lambda w, who, rule: "css/app.css",
}
PARAMETER = re.compile(r"<(?:([^:<>]+):)?(\w+)>")


def build_url(rule, world: World, who: Who, overrides: dict | None = None) -> str:
    def value(match):
        name = match.group(2)
        if overrides and name in overrides:
            raw = overrides[name]
            return quote_from_bytes(raw, safe="") if isinstance(raw, bytes) else quote(raw, safe="")
        if name not in URL_VALUES:
            raise LookupError(f"no value for URL parameter <{name}> of {rule.rule}: "
                              "add it to URL_VALUES")
        return quote(str(URL_VALUES[name](world, who, rule)), safe="")

    return PARAMETER.sub(value, rule.rule)


def campaign_base(world: World, who: Who) -> dict:
    from quiz.models import Campaign

    with world.app.app_context():
        campaign = db.session.get(Campaign, world.campaign_id)
        section = campaign.paper_sections[0]
        data = {"year": "2024", "title": "测试答题活动", "theme": "人人讲安全、个个会应急",
                "starts_on": "2024-06-01", "ends_on": "2024-06-30",
                "consultation_day": "2024-06-16", "sections-0-type": section["type"],
                "sections-0-category": section.get("category") or "",
                "sections-0-count": str(section["count"]),
                "sections-0-points": str(section["points"]),
                "time_limit_seconds": "150", "attempts_per_day": "20", "pass_mark": "60",
                "scoring_mode": campaign.scoring_mode.value}
        if campaign.partial_credit:
            data["partial_credit"] = "y"
        return data


def question_base(world: World, who: Who) -> dict:
    from quiz.console.bank import QuestionEditForm
    from quiz.models import Question

    with world.app.app_context():
        return QuestionEditForm.data_for(db.session.get(Question, world.question_id))


# A valid submission of each POST endpoint; the corpus replaces one field of it at a time.
BASE_SUBMISSIONS = {
    "auth.login": lambda w, who: {"username": ADMIN, "password": "not-the-password-1"},
    "auth.logout": lambda w, who: {},
    "play.start": lambda w, who: {"name": "张三", "unit": UNIT},
    "play.forget": lambda w, who: {"unit": UNIT},
    "play.save": lambda w, who: {name: "0" for name in who.question_fields},
    "play.submit": lambda w, who: {name: "0" for name in who.question_fields},
    "report.create": lambda w, who: {
        "category": "ebike", "unit": UNIT, "place": "5栋楼下", "anonymous": "y",
        "description": "楼下消防通道被车辆长期占用。", "submission_key": secrets.token_urlsafe(24)},
    "report.upload_photo": lambda w, who: {"photo": Upload("p.png", png_bytes(), "image/png")},
    "report.track": lambda w, who: {"code": w.tracking_code},
    "report.dispute_case": lambda w, who: {"reason": "隐患还在，没有整改。"},
    "report.claim": lambda w, who: {"phone": "13800000000"},
    "slogans.new": lambda w, who: {"text": f"安全第一预防为主{secrets.token_hex(2)}", "author_name": "李"},
    "slogans.cast_vote": lambda w, who: {},
    "learn.practice": lambda w, who: {"shown": who.shown, "choice": "0"},
    "learn.mistake_book": lambda w, who: {"shown": who.shown, "choice": "0"},
    "open311.create_request": lambda w, who: {
        "api_key": API_KEY, "service_code": "gas", "description": "小区燃气管道有异味。",
        "address_string": "幸福路8号", "Idempotency-Key": secrets.token_urlsafe(12)},
    "console.moderate_slogan": lambda w, who: {"reason": "与主题不符"},
    "console.activate_campaign": lambda w, who: {},
    "console.campaigns": campaign_base,
    "console.reset_password": lambda w, who: {"password": "new-pass-12345",
                                              "confirm": "new-pass-12345"},
    "console.toggle_organiser": lambda w, who: {},
    "console.new_organiser": lambda w, who: {
        "username": f"user{secrets.token_hex(3)}", "display_name": "王五", "role": "unit",
        "unit": str(w.street_id), "password": "long-password-1"},
    "console.report_assign": lambda w, who: {"assigned_unit": str(w.unit_id)},
    "console.report_extend": lambda w, who: {"days": "5", "reason": "需要协调燃气公司"},
    "console.report_identity": lambda w, who: {"reason": "核实举报内容"},
    "console.report_publish": lambda w, who: {"public_description": "某小区楼道电动车充电"},
    "console.report_reward": lambda w, who: {"action": "approve"},
    "console.report_transition": lambda w, who: {
        "to": "verifying", "reason": "已受理", "assigned_unit": str(w.unit_id), "grade": "general",
        "after_photos": Upload("after.png", png_bytes(), "image/png")},
    "console.report_unpublish": lambda w, who: {},
    "console.report_new": lambda w, who: {
        "category": "gas", "unit": UNIT, "place": "幸福路8号", "anonymous": "y", "channel": "hotline",
        "description": "热线来电：燃气管道有异味。", "submission_key": secrets.token_urlsafe(24)},
    "console.edit_unit": lambda w, who: {"name": "测试单位", "kind": "community", "headcount": "10",
                                         "parent": str(w.street_id), "is_active": "y"},
    "console.import_units": lambda w, who: {"file": Upload(
        "u.csv", "单位名称,类别,上级单位,人数\n南湖社区,社区,S01,50\n".encode(), "text/csv")},
    "console.confirm_import": lambda w, who: {"good_rows_only": "1"},
    "console.bank_question": question_base,
    "console.bank_toggle": lambda w, who: {"back": "/console/bank/"},
    "console.bank_import": lambda w, who: {"file": Upload("b.csv", bank_sheet(), "text/csv")},
    "console.bank_import_confirm": lambda w, who: {"good_rows_only": "1"},
    "posters.zip_start": lambda w, who: {},
}
HEADER_FIELDS = {"Idempotency-Key"}  # read from the headers, so sent as a header


# ------------------------------------------------------------------------------------------------
# Sending a request exactly as a hostile client would
# ------------------------------------------------------------------------------------------------

def as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def urlencoded(pairs) -> bytes:
    return "&".join(f"{quote_from_bytes(as_bytes(k))}={quote_from_bytes(as_bytes(v))}"
                    for k, v in pairs).encode("ascii")


def multipart(pairs) -> tuple[bytes, str]:
    boundary = "----hostile" + secrets.token_hex(8)
    out = io.BytesIO()
    for name, value in pairs:
        out.write(f"--{boundary}\r\n".encode())
        quoted = as_bytes(name).replace(b'"', b"%22")
        disposition = b'Content-Disposition: form-data; name="' + quoted + b'"'
        if isinstance(value, Upload):
            disposition += b'; filename="' + value.filename.encode().replace(b'"', b"%22") + b'"'
            out.write(disposition + b"\r\nContent-Type: " + value.content_type.encode()
                      + b"\r\n\r\n")
            out.write(value.content)
        else:
            out.write(disposition + b"\r\n\r\n" + as_bytes(value))
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


@dataclass
class Variant:
    """One hostile request: what is sent, and what the answer must be."""

    label: str
    field: str
    value: str
    pairs: list = field(default_factory=list)
    body: str = "form"  # form | multipart | json | raw-json | text
    json_body: typing.Any = None
    headers: dict = field(default_factory=dict)
    url_overrides: dict | None = None
    query: list = field(default_factory=list)
    expect: str = ""  # "" | "csrf" (400: token missing or invalid) | "api_key" (403)

    def describe(self) -> str:
        return f"[{self.label}] field={self.field!r} value={self.value}"


@dataclass
class Outcome:
    status: int
    mimetype: str = ""
    body: str = ""
    location: str = ""
    json: typing.Any = None
    error: str = ""


def send(who: Who, method: str, url: str, variant: Variant) -> Outcome:
    headers = dict(variant.headers)
    pairs = [(k, v) for k, v in variant.pairs if k not in HEADER_FIELDS]
    for k, v in variant.pairs:
        if k in HEADER_FIELDS:
            # A header cannot carry a line break (the test client refuses, HTTP would split it).
            headers[k] = as_bytes(v).decode("latin-1").replace("\r", "").replace("\n", "")
    kwargs = {"headers": headers}
    if variant.query:
        kwargs["query_string"] = urlencoded(variant.query).decode("ascii")
    if method == "POST":
        if variant.body == "json":
            kwargs.update(data=json.dumps(variant.json_body), content_type="application/json")
        elif variant.body == "raw-json":
            kwargs.update(data=b'{"csrf_token": "\xff\x00', content_type="application/json")
        elif variant.body == "text":  # a form body under the wrong content type
            has_files = any(isinstance(v, Upload) for _k, v in pairs)
            kwargs.update(data=multipart(pairs)[0] if has_files else urlencoded(pairs),
                          content_type="text/plain")
        elif variant.body == "multipart" or any(isinstance(v, Upload) for _k, v in pairs):
            kwargs["data"], kwargs["content_type"] = multipart(pairs)
        else:
            kwargs.update(data=urlencoded(pairs), content_type="application/x-www-form-urlencoded")
    try:
        response = who.client.open(url, method=method, **kwargs)
    except Exception as error:  # TESTING propagates what production answers with a 500
        return Outcome(500, error=f"{type(error).__name__}: {str(error)[:300]}")
    outcome = Outcome(response.status_code, response.mimetype,
                      location=response.headers.get("Location", ""))
    if response.mimetype == "text/html":
        outcome.body = response.get_data(as_text=True)
    elif response.is_json:
        outcome.json = response.get_json(silent=True)
    response.close()  # a sent file is otherwise left open
    return outcome


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def excerpt(outcome: Outcome) -> str:
    if outcome.error:
        return outcome.error
    if outcome.json is not None:
        return json.dumps(outcome.json, ensure_ascii=False)[:160]
    if outcome.location:
        return f"-> {outcome.location[:120]}"
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", outcome.body)).strip()
    return shown[:160]


def to_login(outcome: Outcome) -> bool:
    return outcome.status in (302, 303) and urlsplit(outcome.location).path == "/auth/login"


def problems_of(outcome: Outcome, variant: Variant, who: Who) -> list[str]:
    problems = []
    if outcome.status >= 500:
        problems.append("server error")
    if variant.expect == "csrf" and outcome.status != 400 and not (
            who.name == "anonymous" and (to_login(outcome) or outcome.status == 403)):
        problems.append("not refused without a valid CSRF token (400 expected)")
    if variant.expect == "api_key" and outcome.status != 403:
        problems.append("not refused without a valid api_key (403 expected)")
    if outcome.mimetype == "text/html" and not 300 <= outcome.status < 400:
        if not CHINESE.search(outcome.body):
            problems.append("page without Chinese text")
        for marker in RAW_MARKUP:
            if marker in outcome.body:
                problems.append(f"unescaped markup {marker!r} in the page")
                break
    if outcome.json is not None and outcome.status >= 400 and \
            not any(CHINESE.search(s) for s in strings_in(outcome.json)):
        problems.append("JSON error without a Chinese message")
    if 400 <= outcome.status < 500 and outcome.mimetype not in ("text/html", "application/json"):
        problems.append(f"refused as {outcome.mimetype or 'an empty body'}, without a message")
    if outcome.location:
        parts = urlsplit(outcome.location)
        if parts.netloc not in ("", "localhost") or outcome.location.startswith("//") \
                or "\n" in outcome.location or "\r" in outcome.location:
            problems.append(f"redirect off the site: {outcome.location[:80]!r}")
    return problems


def is_refusal(outcome: Outcome) -> bool:
    return 400 <= outcome.status < 500 or to_login(outcome)


def row_counter(world: World):
    """Row counts of every table in one query, and the number of uploaded files."""
    with world.app.app_context():
        engine = db.engine
        name_of = engine.dialect.identifier_preparer.quote
        statement = text(" UNION ALL ".join(
            f"SELECT '{table.name}' AS name, COUNT(*) AS n FROM {name_of(table.name)}"
            for table in db.metadata.sorted_tables))
    uploads = world.folders[1]

    def counts() -> dict[str, int]:
        with engine.connect() as connection:
            rows = dict(connection.execute(statement).all())
        rows["files in the upload folder"] = sum(1 for p in uploads.rglob("*") if p.is_file()) \
            if uploads.exists() else 0
        return rows

    return counts


# ------------------------------------------------------------------------------------------------
# Known bugs: stepped around by the main tests, replayed one by one as strict xfails
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bug:
    """Requests of the corpus that fail for one cause. A tuple matches any of its items, "*" any
    value; the first rule, field and value are the ones test_known_bug replays."""

    kind: str  # "post" | "query" | "url"
    rules: tuple  # rules, e.g. ("/r/track",); "*" for every rule of the kind
    variants: tuple  # variant labels, e.g. ("one-field", "all-fields")
    fields: tuple  # fields, query or URL parameters; "*" for any
    values: tuple  # corpus labels; "*" for any
    reason: str
    dialect: str = "*"  # "*" | "sqlite" | "postgresql"
    example: str = ""  # the rule to replay when rules is "*"

    def matches(self, kind: str, rule: str, who: str, variant: Variant, dialect: str) -> bool:
        def has(items, item):
            return items == "*" or "*" in items or item in items
        return (self.kind == kind and has(self.rules, rule) and has(self.variants, variant.label)
                and has(self.fields, variant.field) and has(self.values, variant.value)
                and self.dialect in ("*", dialect))


ANSWER_URLS = ("/a/<token>/save", "/a/<token>/submit")
CAMPAIGN_URLS = ("/console/campaigns/<int:campaign_id>", "/console/campaigns/new/<preset>")
TRANSITION_URL = "/console/reports/<int:report_id>/transition"
KNOWN_BUGS: list[Bug] = []  # the three found last were fixed: blank answers, section types, JSON bodies


# ------------------------------------------------------------------------------------------------
# The variants
# ------------------------------------------------------------------------------------------------

def post_variants(rule, world: World, who: Who, exempt: bool, per_field: bool):
    """Factories of variants; each builds its request right before it is sent (fresh base)."""
    endpoint = rule.endpoint
    fields = discovered_fields(endpoint)
    if endpoint in ("play.save", "play.submit"):
        fields.update(dict.fromkeys(who.question_fields, False))
    fields.update(dict.fromkeys(discovered_headers(endpoint), False))
    fields[UNKNOWN_FIELD] = False
    key_field = "api_key" if exempt else "csrf_token"
    key_refusal = "api_key" if exempt else "csrf"

    def base() -> dict:
        return dict(BASE_SUBMISSIONS.get(endpoint, lambda w, who: {})(world, who))

    def signed(pairs: list) -> list:
        return pairs if exempt else [("csrf_token", who.token)] + pairs

    def without(data: dict, name: str) -> list:
        return [(k, v) for k, v in data.items() if k != name]

    # Every value in every field at once.
    for hostile in CORPUS + (FILE_CORPUS if any(fields.values()) else []):
        def every_field(hostile=hostile):
            pairs = []
            for name, is_file in fields.items():
                if isinstance(hostile.value, Upload) and not is_file:
                    pairs.append((name, hostile.value.filename))
                else:
                    pairs.append((name, hostile.value))
            if exempt:
                return Variant("all-fields", "*", hostile.label, pairs, expect="api_key")
            return Variant("all-fields", "*", hostile.label, signed(pairs))
        yield every_field
    # The key itself (one code path for every form, so a few values suffice), missing, twice.
    for hostile in KEY_CORPUS:
        yield lambda hostile=hostile: Variant(
            "one-field", key_field, hostile.label,
            without(base(), key_field) + [(key_field, hostile.value)], expect=key_refusal)
    yield lambda: Variant("missing", key_field, "-", without(base(), key_field), expect=key_refusal)
    yield lambda: Variant("duplicated", key_field, "script+valid", [(key_field, SCRIPT)] + (
        [("csrf_token", who.token)] if not exempt else []) + list(base().items()),
        expect=key_refusal)
    if not exempt:
        yield lambda: Variant("no-csrf", "*", "token of another session", [
            ("csrf_token", csrf_token(world.app.test_client(), "/r/track"))] + list(base().items()),
            expect="csrf")
    # Structure.
    yield lambda: Variant("only-csrf", "*", "-", signed([]), expect="api_key" if exempt else "")
    yield lambda: Variant("empty-body", "*", "-", [], expect=key_refusal)
    yield lambda: Variant("hostile-field-names", "*", "markup-names", signed(list(
        {**base(), SCRIPT: "x", "a" * 10_000: "y", "q[]": "z", "__proto__": "1", "": "e"}.items())))
    yield lambda: Variant("multipart", "*", "base", signed(list(base().items())), body="multipart")
    yield lambda: Variant("text/plain", "*", "base", signed(list(base().items())), body="text",
                          expect=key_refusal)

    def plain(data):
        return {k: (v.filename if isinstance(v, Upload) else v) for k, v in data.items()}
    yield lambda: Variant("json", "*", "base, token in the body", body="json", expect=key_refusal,
                          json_body={"csrf_token": who.token, **plain(base())})
    yield lambda: Variant("json", "*", "wrong types, token header", body="json",
                          headers={"X-CSRFToken": who.token}, expect="api_key" if exempt else "",
                          json_body={**plain(base()), **{
                              name: [SCRIPT, {"$ne": None}, float("nan"), None, True, -1]
                              for name in fields}})
    yield lambda: Variant("json", "*", "broken JSON, token header", body="raw-json",
                          headers={"X-CSRFToken": who.token}, expect="api_key" if exempt else "")
    if not per_field:
        return
    # One field at a time on a valid submission; duplicated both ways; missing.
    for name, is_file in fields.items():
        for hostile in SHARP + (FILE_CORPUS if is_file else []):
            yield lambda name=name, hostile=hostile: Variant(
                "one-field", name, hostile.label,
                signed(without(base(), name) + [(name, hostile.value)]),
                expect="api_key" if name == key_field else "")

        def duplicated(name=name):
            # The valid value first: a field read with getlist() (or by the last value) takes the
            # hostile second one too. (The hostile value first is the CSRF token's case above.)
            data = base()
            valid = data.get(name, "1")
            second = FILE_CORPUS[0].value if fields[name] else IMG
            return Variant("duplicated", name, "valid+img",
                           signed(without(data, name) + [(name, valid), (name, second)]))
        yield duplicated
        yield lambda name=name: Variant("missing", name, "-", signed(without(base(), name)),
                                        expect="api_key" if name == key_field else "")


def query_variants(names: list[str], per_field: bool = True):
    for hostile in CORPUS:
        yield lambda hostile=hostile: Variant("all-fields", "*", hostile.label,
                                              query=[(name, hostile.value) for name in names])
    if not per_field:
        return
    for name in names:
        for hostile in SHARP + [BY_LABEL["script"], BY_LABEL["negative"]]:
            yield lambda name=name, hostile=hostile: Variant("one-field", name, hostile.label,
                                                             query=[(name, hostile.value)])
        yield lambda name=name: Variant("duplicated", name, "script+img",
                                        query=[(name, SCRIPT), (name, IMG)])


def url_variants(rule, world: World, who: Who):
    method = "GET" if "GET" in rule.methods else "POST"
    for match in PARAMETER.finditer(rule.rule):
        name = match.group(2)
        for hostile in INT_CORPUS if match.group(1) == "int" else PATH_CORPUS:
            def make(name=name, hostile=hostile):
                pairs = []
                if method == "POST":
                    base = BASE_SUBMISSIONS.get(rule.endpoint, lambda w, who: {})
                    pairs = list(base(world, who).items())
                    if not is_csrf_exempt(rule):
                        pairs.insert(0, ("csrf_token", who.token))
                return Variant("url", name, hostile.label, pairs,
                               url_overrides={name: hostile.value})
            yield make


# ------------------------------------------------------------------------------------------------
# Running them
# ------------------------------------------------------------------------------------------------

FOLLOWED = {"img-onerror", "10k-chars", "script"}  # accepted markup: look at the page it leads to
# Values carrying markup; once one is accepted, the pages that show stored content are checked.
MARKUP_LABELS = FOLLOWED | {"valid+img", "file-html", "file-hostile-csv", "markup-names"}


def check_one(world: World, who: Who, method: str, url: str, variant: Variant, endpoint: str,
              counts, before: dict | None = None) -> tuple[Outcome, list[str], dict]:
    """Send one variant and check its answer; also the row counts after it."""
    before = before or counts()
    outcome = send(who, method, url, variant)
    found = problems_of(outcome, variant, who)
    if endpoint == "posters.zip_start":
        wait_for_zip_jobs(world)
    after = counts()
    if is_refusal(outcome) or variant.expect:
        changed = sorted(name for name in after if after[name] != before.get(name)
                         and (endpoint, name) not in WRITES_ON_REFUSAL)
        if changed and (is_refusal(outcome) or variant.expect):
            found.append("refused but stored: " + ", ".join(
                f"{name} {before.get(name)}->{after[name]}" for name in changed))
    if not found and 300 <= outcome.status < 400 and variant.value in FOLLOWED \
            and urlsplit(outcome.location).netloc in ("", "localhost"):
        page = send(who, "GET", outcome.location, Variant("follow", "", ""))
        found += [f"on the page it leads to ({outcome.location[:60]}): {problem}"
                  for problem in problems_of(page, Variant("follow", "", ""), who)]
        after = counts()
    return outcome, found, after


def run(kind: str, rule, world: World, who: Who, method: str, variants,
        prepare=None) -> tuple[list, int]:
    """Send every variant; the problems (known bugs left out) and the number of requests.
    Records in world.stored_markup whether hostile markup may have been stored."""
    counts = row_counter(world)
    problems, sent, last = [], 0, None
    for make in variants:
        if ensure_logged_in(world, who) or prepare:
            last = None  # they may write: count again before the request
        if prepare:
            prepare(world, who)
        variant = make()
        url = build_url(rule, world, who, variant.url_overrides)
        outcome, found, last = check_one(world, who, method, url, variant, rule.endpoint, counts,
                                         last)
        sent += 1
        if outcome.status < 400 and not to_login(outcome) and variant.value in MARKUP_LABELS:
            world.stored_markup = True
        if found and not any(bug.matches(kind, rule.rule, who.name, variant, world.dialect)
                             for bug in KNOWN_BUGS):
            problems.append(f"{who.name} {method} {url[:80]} {variant.describe()} -> "
                            f"{outcome.status}: {'; '.join(found)} | {excerpt(outcome)}")
    return problems, sent


DISPLAY_PAGES = ["/board/", "/board/people", "/board/screen", "/slogans/", "/r/board", "/console/",
                 "/console/units", "/console/organisers", "/console/slogans", "/console/reports/",
                 "/console/campaigns", "/console/bank/?origin=import"]


def display_problems(world: World) -> list[str]:
    """The pages that show what was stored: none may fail or show hostile markup unescaped."""
    urls = DISPLAY_PAGES + [f"/r/c/{world.tracking_code}", f"/console/reports/{world.report_id}",
                            f"/console/bank/{world.question_id}", f"/console/units/{world.unit_id}",
                            f"/console/campaigns/{world.campaign_id}"]
    problems, who = [], world.admin  # the administrator sees every one of them
    ensure_logged_in(world, who)
    for url in urls:
        outcome = send(who, "GET", url, Variant("display", "", ""))
        found = problems_of(outcome, Variant("display", "", ""), who)
        if found:
            problems.append(f"{who.name} GET {url} afterwards -> {outcome.status}: "
                            f"{'; '.join(found)} | {excerpt(outcome)}")
    return problems


def summary(problems: list[str], limit: int = 40) -> str:
    more = f"\n… and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)} problem(s):\n" + "\n".join(problems[:limit]) + more


def requires_login(rule, world: World, method: str = "POST") -> bool:
    who = world.anonymous
    pairs = [("csrf_token", who.token)] + list(
        BASE_SUBMISSIONS.get(rule.endpoint, lambda w, who: {})(world, who).items())
    return to_login(send(who, method, build_url(rule, world, who), Variant("probe", "", "", pairs)))


def per_field_for(who: Who, world: World, login_first: bool) -> bool:
    """Who gets the one-field-at-a-time tier: the visitor the endpoint is for. Both get every
    value in every field at once and the structural variants; on a page that needs a login the
    anonymous visitor is turned away before any field is read, and on a public page the
    administrator runs the same code as everyone else."""
    return who is (world.admin if login_first else world.anonymous)


def rule_id(rule) -> str:
    return f"{rule.endpoint}:{rule.rule}"


@pytest.mark.parametrize("rule", POST_RULES, ids=rule_id)
def test_post_endpoint_survives_hostile_input(world, rule):
    if rule.endpoint in NOT_ATTACKED:
        pytest.skip(NOT_ATTACKED[rule.endpoint])
    exempt = is_csrf_exempt(rule)
    login_first = requires_login(rule, world)
    problems, total = [], 0
    for who in (world.anonymous, world.admin):
        variants = post_variants(rule, world, who, exempt, per_field_for(who, world, login_first))
        found, sent = run("post", rule, world, who, "POST", variants, PREPARE.get(rule.endpoint))
        problems += found
        total += sent
    if world.stored_markup:
        problems += display_problems(world)
    assert not problems, f"POST {rule.rule} ({total} requests): " + summary(problems)


@pytest.mark.parametrize("rule", GET_QUERY_RULES, ids=rule_id)
def test_query_parameters_survive_hostile_input(world, rule):
    names = discovered_query(rule.endpoint) + [UNKNOWN_FIELD]
    login_first = requires_login(rule, world, "GET")
    problems = []
    for who in (world.anonymous, world.admin):
        variants = query_variants(names, per_field_for(who, world, login_first))
        problems += run("query", rule, world, who, "GET", variants)[0]
    assert not problems, f"GET {rule.rule}?{'&'.join(names)}: " + summary(problems)


@pytest.mark.parametrize("rule", PARAM_RULES, ids=rule_id)
def test_url_parameters_survive_hostile_input(world, rule):
    method = "GET" if "GET" in rule.methods else "POST"
    problems = []
    for who in (world.anonymous, world.admin):
        problems += run("url", rule, world, who, method, url_variants(rule, world, who),
                        PREPARE.get(rule.endpoint))[0]
    assert not problems, f"{method} {rule.rule}: " + summary(problems)


def test_every_post_endpoint_is_reached(world):
    """Every POST endpoint of the URL map is attacked (unless allow-listed in NOT_ATTACKED, with a
    reason): its URL parameters resolve to real objects and a valid base submission is declared
    and gets past routing and permissions, so the corpus reaches the view's own checks."""
    problems = []
    exempt = {rule.endpoint for rule in POST_RULES if is_csrf_exempt(rule)}
    if exempt != set(CSRF_EXEMPT_BY_DESIGN):
        problems.append(f"CSRF-exempt POST endpoints {sorted(exempt)} differ from "
                        f"CSRF_EXEMPT_BY_DESIGN {sorted(CSRF_EXEMPT_BY_DESIGN)}")
    who = world.admin
    for rule in POST_RULES:
        if rule.endpoint in NOT_ATTACKED:
            continue
        if rule.endpoint not in BASE_SUBMISSIONS:
            problems.append(f"POST {rule.rule} ({rule.endpoint}) has no valid submission in "
                            "BASE_SUBMISSIONS: the corpus would stop at its first check")
            continue
        ensure_logged_in(world, who)
        if rule.endpoint in PREPARE:
            PREPARE[rule.endpoint](world, who)
        try:
            url = build_url(rule, world, who)
        except LookupError as error:
            problems.append(str(error))
            continue
        pairs = ([] if rule.endpoint in exempt else [("csrf_token", who.token)]) + \
            list(BASE_SUBMISSIONS[rule.endpoint](world, who).items())
        outcome = send(who, "POST", url, Variant("base", "*", "-", pairs))
        if outcome.status in (400, 403, 404, 405) or outcome.status >= 500:
            problems.append(f"POST {url}: the valid submission is refused ({outcome.status}: "
                            f"{excerpt(outcome)})")
    assert not problems, "\n".join(problems)


def replay(world: World, bug: Bug) -> list[str]:
    """Send the requests of the corpus that the bug entry describes (on its example rule) until one
    fails; its problems, or none once the bug is fixed."""
    wanted, matched = bug.example or bug.rules[0], False
    rule = next(r for r in RULES if r.rule == wanted and (
        bug.kind == "query" and "GET" in r.methods or bug.kind == "post" and "POST" in r.methods
        or bug.kind == "url"))
    for who in (world.admin, world.anonymous):
        method = "GET" if bug.kind == "query" or (bug.kind == "url" and "GET" in rule.methods) \
            else "POST"
        if bug.kind == "post":
            factories_ = post_variants(rule, world, who, is_csrf_exempt(rule), True)
        elif bug.kind == "query":
            factories_ = query_variants(discovered_query(rule.endpoint) + [UNKNOWN_FIELD])
        else:
            factories_ = url_variants(rule, world, who)
        for make in factories_:
            ensure_logged_in(world, who)
            if rule.endpoint in PREPARE:
                PREPARE[rule.endpoint](world, who)
            variant = make()
            if bug.matches(bug.kind, rule.rule, who.name, variant, world.dialect):
                matched = True
                url = build_url(rule, world, who, variant.url_overrides)
                outcome, found, _after = check_one(world, who, method, url, variant, rule.endpoint,
                                                   row_counter(world))
                if found:
                    return [f"{who.name} {method} {url[:80]} {variant.describe()} -> "
                            f"{outcome.status}: {'; '.join(found)} | {excerpt(outcome)}"]
    assert matched, f"no request of the corpus matches {bug}"
    return []


def current_dialect() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return "postgresql" if url.startswith("postgres") else "sqlite"


def bug_param(bug: Bug):
    marks = [pytest.mark.xfail(strict=True, reason=bug.reason)]
    if bug.dialect not in ("*", current_dialect()):
        marks = [pytest.mark.skip(reason=f"only on {bug.dialect}")]
    first = [items if isinstance(items, str) else items[0] for items in
             (bug.example or bug.rules, bug.fields, bug.values)]
    return pytest.param(bug, marks=marks, id=f"{bug.kind}:{':'.join(first)}")


@pytest.mark.parametrize("bug", [bug_param(bug) for bug in KNOWN_BUGS])
def test_known_bug(world, bug):
    problems = replay(world, bug)
    assert not problems, "\n".join(problems)
