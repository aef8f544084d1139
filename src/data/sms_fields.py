"""Random fields for SMS templates: codes, amounts, dates, names, links; one seeded generator drives them all.

Templates are `str.format` strings with named fields (`{code}`, `{amount}`, `{sig}` …). `render`
fills every field a template names from `FIELD_MAKERS`, drawing from the numpy Generator it is
given, so a seed fixes every message.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭")
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "建国")
CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆", "长沙", "郑州")
TLDS = ("cn", "com", "top", "vip", "xyz", "cc")


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, n))


def _letters(rng: np.random.Generator, n: int) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(0, len(options)))]


def _amount(rng: np.random.Generator) -> str:
    value = float(np.round(rng.lognormal(4.5, 1.2), 2))
    return f"{value:.2f}"


FIELD_MAKERS: dict[str, Callable[[np.random.Generator], str]] = {
    "code": lambda rng: _digits(rng, int(rng.choice([4, 6]))),
    "amount": _amount,
    "balance": lambda rng: f"{float(np.round(rng.lognormal(8, 1.0), 2)):.2f}",
    "tail4": lambda rng: _digits(rng, 4),
    "month": lambda rng: str(int(rng.integers(1, 13))),
    "day": lambda rng: str(int(rng.integers(1, 29))),
    "hour": lambda rng: f"{int(rng.integers(7, 22)):02d}",
    "minute": lambda rng: f"{int(rng.integers(0, 60)):02d}",
    "minutes": lambda rng: str(int(rng.choice([5, 10, 15, 30]))),
    "name": lambda rng: _pick(rng, SURNAMES) + _pick(rng, GIVEN),
    "surname": lambda rng: _pick(rng, SURNAMES),
    "city": lambda rng: _pick(rng, CITIES),
    "city2": lambda rng: _pick(rng, CITIES[::-1]),
    "train": lambda rng: _pick(rng, ("G", "D", "K", "Z")) + str(int(rng.integers(10, 2000))),
    "flight": lambda rng: _pick(rng, ("CA", "MU", "CZ", "HU", "ZH")) + _digits(rng, 4),
    "car": lambda rng: f"{int(rng.integers(1, 17)):02d}",
    "seat": lambda rng: f"{int(rng.integers(1, 20)):02d}{_pick(rng, 'ABCDF')}",
    "pickup": lambda rng: f"{int(rng.integers(1, 30))}-{int(rng.integers(1, 9))}-{_digits(rng, 4)}",
    "waybill": lambda rng: _pick(rng, ("SF", "YT", "ZTO", "JD")) + _digits(rng, 12),
    "number": lambda rng: str(int(rng.integers(2, 300))),
    "percent": lambda rng: str(int(rng.integers(3, 9))),
    "room": lambda rng: f"{int(rng.integers(1, 30))}{int(rng.integers(1, 4)):02d}",
    "dept": lambda rng: _pick(rng, ("内科", "外科", "儿科", "眼科", "口腔科", "皮肤科", "妇产科", "骨科")),
    "phone": lambda rng: "1" + str(int(rng.choice([3, 5, 7, 8, 9]))) + _digits(rng, 9),
    "hotline": lambda rng: _pick(rng, ("95", "400-8")) + _digits(rng, 3) + _digits(rng, 2),
    "url": lambda rng: f"http://{_letters(rng, 5)}.{_pick(rng, TLDS)}/{_letters(rng, 6)}",
    "short": lambda rng: f"{_letters(rng, 3)}.{_pick(rng, TLDS)}/{_letters(rng, 5)}",
    "limit": lambda rng: str(int(rng.choice([5, 10, 20, 30, 50]))),
    "rate": lambda rng: f"0.0{int(rng.integers(1, 5))}",
    "gb": lambda rng: str(int(rng.choice([1, 2, 5, 10, 20]))),
}


@dataclass(frozen=True)
class Template:
    """One message template of a family, with its class (`ham`/`spam`) and sender signatures."""

    family: str
    label: str
    text: str
    signatures: tuple[str, ...] = ()


def fields_of(text: str) -> list[str]:
    """Names of the fields a template uses."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def render(template: Template, rng: np.random.Generator) -> str:
    """One message from a template: every field drawn from `rng`, `{sig}` from its signatures."""
    values = {}
    for name in fields_of(template.text):
        if name == "sig":
            values[name] = _pick(rng, template.signatures)
        else:
            values[name] = FIELD_MAKERS[name](rng)
    return template.text.format(**values)


def generate(templates: Sequence[Template], per_template: int, seed: int) -> list[dict[str, str]]:
    """`per_template` messages of every template, in template order, from one seed."""
    rng = np.random.default_rng(seed)
    rows = []
    for index, template in enumerate(templates):
        for _ in range(per_template):
            rows.append(
                {
                    "family": template.family,
                    "template": str(index),
                    "label": template.label,
                    "text": render(template, rng),
                }
            )
    return rows
