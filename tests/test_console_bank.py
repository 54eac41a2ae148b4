"""The bank in the console: list and filters, enable/disable, editing own questions as new
versions, the import preview and confirm, export, and who may do any of it."""
import io
import random
import re

import pytest
from openpyxl import load_workbook

from quiz.attempts import finish_attempt, start_or_resume
from quiz.extensions import db
from quiz.models import AttemptQuestion, Campaign, Question, Unit
from tests.conftest import csrf_token
from tests.factories import make_participant, make_question
from tests.test_bank_io import EBIKE, FIRE, GAS, sheet


def own_question(app, **values) -> int:
    """An organiser's imported question (ZD-…), through the real import."""
    from quiz.bank_io import apply_import, check_import
    from quiz.exports import read_rows

    with app.app_context():
        rows = check_import(read_rows("own.xlsx", sheet([{**FIRE, **values}])))
        assert rows[0].errors == []
        apply_import(rows)
        db.session.commit()
        return db.session.scalar(db.select(Question.id).where(Question.origin == "import")
                                 .order_by(Question.id.desc()).limit(1))


@pytest.mark.parametrize("method, url", [
    ("get", "/console/bank/"), ("get", "/console/bank/export.xlsx"),
    ("get", "/console/bank/template.xlsx"), ("get", "/console/bank/import"),
    ("get", "/console/bank/stats"), ("get", "/console/bank/1"),
])
def test_unit_organisers_get_403(street_client, method, url):
    assert getattr(street_client, method)(url).status_code == 403


def test_unit_organisers_cannot_post_either(street_client, app):
    question_id = own_question(app)
    token = csrf_token(street_client, "/console/units/import")
    for url in (f"/console/bank/{question_id}/toggle", f"/console/bank/{question_id}",
                "/console/bank/import"):
        assert street_client.post(url, data={"csrf_token": token}).status_code == 403


def test_the_list_filters_and_paginates(admin_client, app):
    with app.app_context():
        for number in range(35):
            make_question(key=f"JT-{number:03d}", category="交通安全", stem=f"交通题{number}（　）")
    own_question(app, 题干="冷库作业人员进入前应当（　）。")
    page = admin_client.get("/console/bank/").get_data(as_text=True)
    assert "共 52 道题，第 1/2 页" in page  # the demo's 16 fire questions, 35 + 1
    assert 'href="/console/bank/?page=2"' in page
    filtered = admin_client.get("/console/bank/?category=交通安全&page=2").get_data(as_text=True)
    assert "共 35 道题，第 2/2 页" in filtered and "JT-034" in filtered and "JT-000" not in filtered
    assert "?page=1&amp;category=%E4%BA%A4%E9%80%9A%E5%AE%89%E5%85%A8\"" in filtered  # keeps the filter
    own = admin_client.get("/console/bank/?origin=import").get_data(as_text=True)
    assert "共 1 道题" in own and "ZD-0001" in own
    found = admin_client.get("/console/bank/?q=冷库作业").get_data(as_text=True)
    assert "共 1 道题" in found and "冷库作业人员" in found
    by_key = admin_client.get("/console/bank/?q=jt-007").get_data(as_text=True)
    assert "共 1 道题" in by_key
    judges = admin_client.get("/console/bank/?qtype=judge").get_data(as_text=True)
    assert "共 4 道题" in judges
    assert "共 0 道题" in admin_client.get("/console/bank/?q=100%").get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ("qtype=essay", "题型"), ("category=不存在的分类", "分类"), ("status=gone", "状态"),
    ("q=" + "长" * 51, "搜索词不能超过 50 个字"),
])
def test_bad_filters_get_400_with_a_chinese_message(admin_client, query, message):
    response = admin_client.get(f"/console/bank/?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_disabling_a_bank_question_keeps_it_out_of_papers(admin_client, app):
    with app.app_context():
        question = db.session.scalars(db.select(Question).order_by(Question.id)).first()
        question_id, key = question.id, question.key
    token = csrf_token(admin_client, "/console/bank/")
    assert admin_client.post(f"/console/bank/{question_id}/toggle").status_code == 400  # no token
    response = admin_client.post(f"/console/bank/{question_id}/toggle",
                                 data={"csrf_token": token, "back": "/console/bank/?status=disabled"})
    assert response.status_code == 302 and response.location == "/console/bank/?status=disabled"
    page = admin_client.get(response.location).get_data(as_text=True)
    assert f"已停用：{key}" in page and "共 1 道题" in page
    with app.app_context():
        assert db.session.get(Question, question_id).is_enabled is False
    outside = admin_client.post(f"/console/bank/{question_id}/toggle",
                                data={"csrf_token": token, "back": "https://evil.example/"})
    assert outside.location == "/console/bank/"
    with app.app_context():
        assert db.session.get(Question, question_id).is_enabled is True


def test_bank_file_questions_are_read_only(admin_client, app):
    with app.app_context():
        question_id = db.session.scalars(db.select(Question.id)).first()
    page = admin_client.get(f"/console/bank/{question_id}").get_data(as_text=True)
    assert "只能在题库文件中修改" in page and 'name="stem"' not in page
    token = csrf_token(admin_client, f"/console/bank/{question_id}")
    response = admin_client.post(f"/console/bank/{question_id}",
                                 data={"csrf_token": token, "stem": "改掉"})
    assert response.status_code == 403
    assert "只能在 questions/ 目录中修改" in response.get_data(as_text=True)


def edit_data(client, question_id: int, **changes) -> dict:
    data = {"csrf_token": csrf_token(client, f"/console/bank/{question_id}"), "category": "消防安全",
            "difficulty": "2", "stem": FIRE["题干"], "option_a": FIRE["选项A"],
            "option_b": FIRE["选项B"], "option_c": FIRE["选项C"], "answer": "B",
            "explanation": FIRE["解析"], "source": FIRE["出处"]}
    data.update(changes)
    return data


def test_editing_an_own_question_makes_a_new_version_and_old_attempts_keep_theirs(admin_client, app, demo):
    question_id = own_question(app)
    with app.app_context():  # a paper drawn from the fire questions, this one among them
        campaign = db.session.get(Campaign, demo["campaign_id"])
        db.session.execute(db.update(Question).where(Question.id != question_id)
                           .values(is_enabled=False))
        campaign.paper_sections = [{"type": "any", "category": None, "count": 1, "points": 100}]
        db.session.commit()
        unit = db.session.scalar(db.select(Unit).filter_by(code="S01C01"))
        attempt = start_or_resume(campaign, make_participant(unit), rng=random.Random(1))
        finish_attempt(attempt, {1: ["B"]})
        old_version_id = attempt.questions[0].question_version_id
        assert attempt.score == 100

    page = admin_client.get(f"/console/bank/{question_id}").get_data(as_text=True)
    assert 'value="关火并盖上锅盖"' in page and "保存为第 2 版" in page
    response = admin_client.post(f"/console/bank/{question_id}", data=edit_data(
        admin_client, question_id, option_d="用湿毛巾覆盖", answer="D",
        explanation="湿毛巾或锅盖都能隔绝空气。"))
    assert response.status_code == 302
    assert "第 2 版" in admin_client.get(response.location).get_data(as_text=True)
    with app.app_context():
        question = db.session.get(Question, question_id)
        assert [v.version for v in question.versions] == [1, 2]
        assert question.current_version.answer == ["D"]
        item = db.session.scalar(db.select(AttemptQuestion))
        assert item.question_version_id == old_version_id  # the paper keeps what it was drawn with
        assert item.version.answer == ["B"] and item.version.version == 1
        assert item.points_awarded == 100


@pytest.mark.parametrize("changes, message", [
    ({"answer": "E"}, "答案 E 不在已填写的选项（A–C）之中"),
    ({"answer": "AB"}, "单选题只能有一个答案字母"),
    ({"option_c": ""}, "选择题至少要填 3 个选项"),
    ({"option_b": "立即用水浇灭"}, "选项B与选项A内容相同"),
    ({"stem": ""}, "请填写题干"),
    ({"source": "出" * 256}, "出处不能超过 255 个字"),
    ({"difficulty": "9"}, "不是有效的选择"),
    ({"stem": "油锅起火\x00（　）"}, "无法识别的字符"),
])
def test_bad_edits_are_refused_with_400_and_a_chinese_message(admin_client, app, changes, message):
    question_id = own_question(app)
    response = admin_client.post(f"/console/bank/{question_id}",
                                 data=edit_data(admin_client, question_id, **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.get(Question, question_id).versions) == 1


def test_an_edit_may_not_copy_another_questions_stem(admin_client, app):
    with app.app_context():
        make_question(key="XF-900", stem="家用灭火器应当放在（　）。")
    question_id = own_question(app)
    response = admin_client.post(f"/console/bank/{question_id}", data=edit_data(
        admin_client, question_id, stem="家用灭火器应当放在？"))
    assert response.status_code == 400
    assert "题干与已有题目 XF-900重复" in response.get_data(as_text=True)


def test_an_unchanged_edit_saves_no_version(admin_client, app):
    question_id = own_question(app)
    response = admin_client.post(f"/console/bank/{question_id}",
                                 data=edit_data(admin_client, question_id, difficulty="1"))
    assert response.status_code == 302
    assert "内容没有变化" in admin_client.get(response.location).get_data(as_text=True)


def upload(client, data: bytes, filename: str = "bank.xlsx"):
    token = csrf_token(client, "/console/bank/import")
    return client.post("/console/bank/import", data={"csrf_token": token,
                                                     "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client, page: str, good_rows_only: bool = False):
    action = re.search(r'action="(/console/bank/import/[^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(client, "/console/bank/import")}
    if good_rows_only:
        data["good_rows_only"] = "1"
    return client.post(action, data=data)


def own_stems(app) -> set[str]:
    with app.app_context():
        return {q.current_version.stem for q in db.session.scalars(
            db.select(Question).where(Question.origin == "import"))}


def test_import_previews_then_confirm_imports_exactly_the_good_rows(admin_client, app):
    bad = {**GAS, "题干": "燃气灶熄火保护装置的作用是（　）。", "答案": "AE"}
    page = upload(admin_client, sheet([FIRE, bad, EBIKE, {**FIRE, "题型": ""}])).get_data(as_text=True)
    assert "共 4 行，2 行有错误" in page
    assert re.search(r"第 3 行</td><td[^>]*>答案 E 不在已填写的选项（A–D）之中", page)
    assert re.search(r"第 5 行</td><td[^>]*>请填写题型", page)
    assert "只导入正确的 2 行" in page
    assert own_stems(app) == set()  # nothing before the confirmation

    refused = confirm(admin_client, page)
    assert refused.status_code == 302 and own_stems(app) == set()
    assert "文件中有 2 行错误" in admin_client.get(refused.location).get_data(as_text=True)
    done = confirm(admin_client, page, good_rows_only=True)
    assert done.status_code == 302
    assert "导入完成：新增 2 道，更新 0 道，跳过 2 行有错误的行。" in \
        admin_client.get(done.location).get_data(as_text=True)
    assert own_stems(app) == {FIRE["题干"], EBIKE["题干"]}


def test_a_clean_file_imports_in_full_and_a_second_time_changes_nothing(admin_client, app):
    data = sheet([FIRE, GAS])
    page = upload(admin_client, data).get_data(as_text=True)
    assert "共 2 行，0 行有错误" in page and "确认导入（新增 2 道，更新 0 道）" in page
    confirm(admin_client, page)
    assert len(own_stems(app)) == 2
    again = upload(admin_client, data).get_data(as_text=True)
    assert "题干与已有题目 ZD-0001重复" in again  # without 编号 a repeat is a duplicate


@pytest.mark.parametrize("data, filename, message", [
    (b"not a workbook", "bank.xlsx", "无法读取这个 Excel 文件"),
    ("题型,题干\n单选,x\n".encode(), "bank.csv", "缺少列：答案、解析、分类、出处"),
    (b"", "bank.csv", "文件是空的"),
    (b"x", "bank.txt", "只支持 .xlsx 或 .csv 文件"),
])
def test_unreadable_files_get_400_and_a_reason(admin_client, data, filename, message):
    response = upload(admin_client, data, filename)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_template_and_filtered_export_download(admin_client, app):
    own_question(app)
    template = admin_client.get("/console/bank/template.xlsx")
    assert template.status_code == 200
    header = next(load_workbook(io.BytesIO(template.data)).worksheets[0].iter_rows(values_only=True))
    assert header[:4] == ("编号", "题型", "题干", "选项A") and header[-1] == "出处"
    export = admin_client.get("/console/bank/export.xlsx?origin=import")
    rows = list(load_workbook(io.BytesIO(export.data)).worksheets[0].iter_rows(values_only=True))
    assert [row[:3] for row in rows[1:]] == [("ZD-0001", "单选题", FIRE["题干"])]
    everything = admin_client.get("/console/bank/export.xlsx")
    assert len(list(load_workbook(io.BytesIO(everything.data)).worksheets[0].iter_rows())) == 18
    assert admin_client.get("/console/bank/export.xlsx?qtype=essay").status_code == 400


def test_item_statistics_page_lists_the_campaigns_questions(admin_client, app, demo):
    from tests.test_console import answer_for

    answer_for(app, "S01C01", "张三")
    page = admin_client.get("/console/bank/stats").get_data(as_text=True)
    assert "点二列相关" in page and "共 5 道题被抽到" in page
    assert "没有需要复核的题目" in page
    assert admin_client.get("/console/bank/stats?campaign=999").status_code == 404


@pytest.mark.parametrize("url", [
    "/console/bank/99999999999999999999", "/console/bank/?page=99999999999999999999",
    "/console/bank/?page=0", "/console/bank/stats?campaign=9223372036854775808",
])
def test_numbers_no_row_could_have_are_404_not_500(admin_client, url):
    assert admin_client.get(url).status_code == 404


def test_toggling_a_question_that_cannot_exist_is_404(admin_client):
    token = csrf_token(admin_client, "/console/bank/")
    response = admin_client.post("/console/bank/9223372036854775808/toggle", data={"csrf_token": token})
    assert response.status_code == 404


def test_questions_citing_a_document_under_review_are_marked_and_filterable(admin_client, app, tmp_path):
    from tests.test_bank_loader import bank_with_registry
    app.config["QUESTION_BANK_DIR"] = str(bank_with_registry(tmp_path))
    with app.app_context():
        cited = make_question(key="XF-901", stem="复核题（　）", source="《中华人民共和国消防法》第十六条")
        make_question(key="XF-902", stem="现行题（　）", source="《中华人民共和国消防法实施办法》第二条")
        cited_id = cited.id
    page = admin_client.get("/console/bank/").get_data(as_text=True)
    row = re.search(r"XF-901</a></td>\s*<td class=\"bank-stem\">(.*?)</td>", page, re.S).group(1)
    assert "依据待复核" in row and "修正案施行后逐条核对" in row
    assert "依据待复核" not in re.search(r"XF-902</a></td>\s*<td class=\"bank-stem\">(.*?)</td>",
                                      page, re.S).group(1)
    filtered = admin_client.get("/console/bank/?basis=review").get_data(as_text=True)
    assert "共 1 道题" in filtered and "XF-901" in filtered and "XF-902" not in filtered
    detail = admin_client.get(f"/console/bank/{cited_id}").get_data(as_text=True)
    assert "依据待复核：" in detail and "出处引用了《中华人民共和国消防法》。修正案施行后逐条核对" in detail
    assert admin_client.get("/console/bank/?basis=other").status_code == 400
