"""Forms of the public hazard report pages."""
from wtforms import BooleanField, FloatField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from quiz.forms import BaseForm, choices, strip_text
from quiz.models.report import HazardCategory

DESCRIPTION_MAX = 500
PHONE = Regexp(r"^1\d{10}$", message="请填写 11 位手机号")


class ReportForm(BaseForm):
    category = SelectField("隐患类别", choices=choices([("", "请选择")] + [(c.value, c.label) for c in HazardCategory]),
                           validators=[DataRequired("请选择隐患类别")])
    unit = SelectField("所在单位或社区", validate_choice=False, validators=[Optional()])
    place = StringField("具体位置", filters=[strip_text], validators=[
        DataRequired("请写明隐患在哪里，如“3栋2单元楼道”"), Length(max=120, message="位置不能超过 120 个字")])
    latitude = FloatField(validators=[Optional(), NumberRange(-90, 90, "位置信息不正确")])
    longitude = FloatField(validators=[Optional(), NumberRange(-180, 180, "位置信息不正确")])
    description = TextAreaField("隐患情况", filters=[strip_text], validators=[
        DataRequired("请简单描述看到的隐患"),
        Length(min=5, max=DESCRIPTION_MAX, message=f"描述请写 5 到 {DESCRIPTION_MAX} 个字")])
    anonymous = BooleanField("匿名举报（不留姓名和电话）", default=True)
    name = StringField("姓名", filters=[strip_text], validators=[
        Optional(), Length(max=20, message="姓名不能超过 20 个字")])
    phone = StringField("手机号", filters=[strip_text], validators=[Optional(), PHONE])
    consent = BooleanField("我同意仅为核实和奖励联系我使用以上信息")
    allows_publication = BooleanField("同意隐去个人信息后在“隐患曝光台”公开这个案件")
    photo_tokens = HiddenField(validators=[Optional(), Length(max=200)])
    submission_key = HiddenField(validators=[DataRequired("页面已过期，请刷新后重新提交"),
                                             Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="页面已过期，请刷新后重新提交")])

    def validate_unit(self, field):
        if field.data and field.data not in {choice.value for choice in field.choices if choice.value}:
            raise ValidationError("请从列表中选择单位")

    def validate_consent(self, field):
        if not self.anonymous.data and (self.name.data or self.phone.data) and not field.data:
            raise ValidationError("留下姓名或电话需要先勾选同意；也可以选择匿名举报")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Checks across fields: Optional() stops a field's own chain when it is empty.
        if not self.anonymous.data and not (self.name.data or self.phone.data):
            self.phone.errors.append("实名举报请至少留下姓名或手机号，或者选择匿名举报")
            valid = False
        if (self.latitude.data is None) != (self.longitude.data is None) and not self.latitude.errors:
            self.longitude.errors.append("位置信息不完整")
            valid = False
        return valid

    def hidden_errors(self) -> list[str]:
        """Errors of fields the person cannot see, shown at the top of the form."""
        return [error for field in (self.submission_key, self.latitude, self.longitude, self.photo_tokens)
                for error in field.errors]

    def tokens(self) -> list[str]:
        return [token for token in (self.photo_tokens.data or "").split(",") if token][:3]


class TrackForm(BaseForm):
    code = StringField("查询码", filters=[strip_text], validators=[
        DataRequired("请输入查询码"), Length(max=24, message="查询码不正确")])


class DisputeForm(BaseForm):
    reason = TextAreaField("不同意的理由", filters=[strip_text], validators=[
        DataRequired("请写明不同意办理结果的理由"), Length(max=200, message="理由不能超过 200 个字")])


class ClaimForm(BaseForm):
    phone = StringField("联系手机号", filters=[strip_text], validators=[Optional(), PHONE])


class PhotoForm(BaseForm):
    """The upload of one photo; CSRF only (the file is read from request.files)."""
