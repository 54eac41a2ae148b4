"""The organiser login form."""
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from quiz.forms import BaseForm


class LoginForm(BaseForm):
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请填写密码"), Length(max=128)])
