"""Playwright driving Debian's Chromium at a phone viewport."""
import shutil

import pytest
from playwright.sync_api import sync_playwright

from quiz.bank_loader import load_bank
from quiz.demo import seed_campaigns, seed_units
from quiz.extensions import db

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN",
         # An Android WeChat in-app browser announces itself like this.
         "user_agent": "Mozilla/5.0 (Linux; Android 10; M2004J19C) AppleWebKit/537.36 (KHTML, "
                       "like Gecko) Version/4.0 Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 "
                       "Mobile Safari/537.36 MMWEBID/0 MicroMessenger/8.0.28.2240(0x28001C3B) "
                       "WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64"}


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A fresh phone: its own cookies, a 390x844 screen."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def district(app):
    """The demo district, both campaigns (2024 contest active) and the shipped bank."""
    with app.app_context():
        seed_units()
        seed_campaigns()
        db.session.commit()
        load_bank(app.config["QUESTION_BANK_DIR"])
