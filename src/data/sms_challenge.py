"""The spam task's challenge set: today's SMS, written by the project, generated from a seed.

An evaluation only: it never enters training or model selection. Legitimate messages are
transactional notices with a registered `【signature】` (verification codes, bank, payment, parcel,
travel, utility, government, healthcare, education, operator) and personal messages; spam is in
current styles (loans, gambling, refund and parcel phishing with links, marketing with 退订回T).
The wording and the sender signatures are disjoint from the training augmentation's
(`src.data.sms_transactional`); families are documented in docs/text.md.

    python -m src.data.sms_challenge [--seed 20260101] [--per-template 40] [--output FILE.csv]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from src.data.sms_fields import Template, generate
from src.paths import PROCESSED_DIR

CHALLENGE_SEED = 20260101
PER_TEMPLATE = 40


def _ham(family: str, signatures: tuple[str, ...], *texts: str) -> list[Template]:
    return [Template(family, "ham", text, signatures) for text in texts]


def _spam(family: str, signatures: tuple[str, ...], *texts: str) -> list[Template]:
    return [Template(family, "spam", text, signatures) for text in texts]


TEMPLATES: tuple[Template, ...] = (
    *_ham(
        "verification",
        ("美团", "拼多多", "哔哩哔哩", "饿了么", "小红书", "高德地图"),
        "【{sig}】验证码{code}，用于登录验证，{minutes}分钟内有效。如非本人操作请忽略本短信。",
        "【{sig}】您正在修改登录密码，验证码：{code}。请勿将验证码告知他人。",
        "【{sig}】{code}（动态验证码），您正在绑定新手机号，切勿泄露。",
        "【{sig}】您的注册验证码是{code}，有效期{minutes}分钟，工作人员不会向您索取。",
    ),
    *_ham(
        "bank",
        ("交通银行", "浦发银行", "中信银行", "兴业银行", "邮储银行"),
        "【{sig}】您尾号{tail4}的储蓄卡{month}月{day}日{hour}:{minute}支出人民币{amount}元，余额{balance}元。",
        "【{sig}】尾号{tail4}账户{month}月{day}日代发工资收入{balance}元，当前余额{balance}元。",
        "【{sig}】您尾号{tail4}的信用卡本期账单{amount}元，最后还款日{month}月{day}日，可通过手机银行还款。",
        "【{sig}】您尾号{tail4}的卡片于{month}月{day}日转入{amount}元，对方户名：{name}。",
    ),
    *_ham(
        "payment",
        ("支付宝", "云闪付", "京东支付"),
        "【{sig}】您于{month}月{day}日在{city}某便利店消费{amount}元，如有疑问请查看账单详情。",
        "【{sig}】您的账户已成功向{name}转账{amount}元，若非本人操作请立即冻结账户。",
        "【{sig}】本月花呗账单{amount}元已出，{month}月{day}日自动还款，请保持余额充足。",
    ),
    *_ham(
        "parcel",
        ("菜鸟驿站", "韵达快递", "京东物流", "邮政EMS"),
        "【{sig}】您的包裹已到{city}XX小区东门驿站，取件码{pickup}，请于{hour}:00前取件。",
        "【{sig}】快递员{surname}师傅正在派送您的快件{waybill}，预计{hour}:{minute}送达，电话{phone}。",
        "【{sig}】您的快件{waybill}已签收，签收人：本人。感谢使用。",
        "【{sig}】凭取件码{pickup}到丰巢柜领取包裹，超时将收取保管费。",
    ),
    *_ham(
        "travel",
        ("铁路12306", "东方航空", "携程旅行", "滴滴出行"),
        "【{sig}】订单已出票：{month}月{day}日{train}次{car}车{seat}号，{city}站{hour}:{minute}开，请持身份证检票。",
        "【{sig}】您预订的{month}月{day}日{flight}航班{city}-{city2}，{hour}:{minute}起飞，请提前90分钟到达机场。",
        "【{sig}】您乘坐的{train}次列车检票口变更为{number}号，请留意车站广播。",
        "【{sig}】司机{surname}师傅已接单，车辆预计{minutes}分钟后到达上车点。",
    ),
    *_ham(
        "utility",
        ("国家电网", "燃气集团", "自来水公司"),
        "【{sig}】您户号{tail4}的{month}月电费{amount}元，请于{month}月{day}日前缴纳。",
        "【{sig}】因管道检修，{city}部分区域{month}月{day}日{hour}:00起停水{number}小时，请提前储水。",
        "【{sig}】您的燃气表余额不足{limit}元，请及时充值以免影响使用。",
    ),
    *_ham(
        "government",
        ("个人所得税", "社保中心", "公积金中心", "交管12123"),
        "【{sig}】您的{month}月社会保险费已扣缴成功，共计{amount}元。",
        "【{sig}】您的年度汇算已办理完成，应退税额{amount}元，将于近期退还至您的银行账户。",
        "【{sig}】您名下机动车于{month}月{day}日在{city}有一条交通违法记录，请及时处理。",
        "【{sig}】您的住房公积金{month}月缴存{amount}元已到账，账户余额{balance}元。",
    ),
    *_ham(
        "healthcare",
        ("健康160", "市第一人民医院", "妇幼保健院"),
        "【{sig}】您已成功预约{month}月{day}日上午{dept}{name}医生门诊，就诊序号{number}，请携带身份证就诊。",
        "【{sig}】您的体检报告已生成，可在公众号查询，如有异常请及时复诊。",
        "【{sig}】提醒：宝宝的疫苗接种时间为{month}月{day}日，请按时前往接种点。",
    ),
    *_ham(
        "education",
        ("实验小学", "教务处", "学而思"),
        "【{sig}】各位家长：本周五下午{hour}:00召开家长会，地点在{room}教室，请准时参加。",
        "【{sig}】您的孩子{name}今日已安全到校。",
        "【{sig}】期末考试安排已发布，请同学们登录教务系统查看考场及座位号。",
    ),
    *_ham(
        "operator",
        ("中国电信", "中国联通", "中国广电"),
        "【{sig}】尊敬的客户，截至{month}月{day}日您本月已用流量{gb}GB，剩余通用流量{gb}GB。",
        "【{sig}】您的话费余额为{amount}元，为避免停机，请及时充值。",
        "【{sig}】您申请的套餐变更将于下月1日生效，详询10000。",
    ),
    *_ham(
        "personal",
        (),
        "妈，我今晚加班，晚饭不用等我了。",
        "生日快乐！祝你天天开心，礼物周末给你带过去。",
        "我到{city}了，酒店安顿好了，明天上午开完会就回去。",
        "下午{hour}点在公司楼下咖啡店见，帮我带一下那份合同。",
        "孩子发烧了我先去医院，会议帮我请个假，谢谢！",
        "钱已经转你了，{amount}元，查收一下。",
    ),
    *_spam(
        "loan",
        ("易借花", "闪电贷", "金橙分期"),
        "【{sig}】您有一笔{limit}万元额度待领取，日息低至{rate}%，无需抵押，当天放款，"
        "点击 {short} 申请，退订回T",
        "急用钱？身份证即可贷{limit}万，不看征信，秒批秒到账，加V：dk{code}",
        "【{sig}】恭喜您获得{limit}万元信用额度，{hour}点前激活立享首月免息：{url}",
    ),
    *_spam(
        "gambling",
        (),
        "新葡京上线，注册即送{number}元彩金，充值返水{percent}%，官网 {url}",
        "百家乐真人在线，首充翻倍，日赚千元不是梦，登录 {short}",
        "体育投注高赔率，世界杯专场，新人首存送{number}，点击 {url}",
    ),
    *_spam(
        "refund_phishing",
        ("客服中心",),
        "【{sig}】您在平台购买的商品存在质量问题，我司将为您办理{amount}元理赔退款，请点击 {url} 填写信息。",
        "您的医保卡已被冻结，请于今日内登录 {short} 进行解冻认证，逾期将影响使用。",
        "【{sig}】您的ETC认证已失效，请立即登录 {url} 重新认证，否则将暂停使用。",
    ),
    *_spam(
        "parcel_phishing",
        (),
        "您的快递因地址不详无法派送，请在{hour}点前点击 {short} 补充地址信息。",
        "【快件通知】您的包裹在运输中丢失，请联系理赔专员领取{amount}元赔偿：{url}",
        "海关通知：您有一件国际包裹需补缴关税{amount}元，请点击 {url} 完成缴纳，逾期退回。",
    ),
    *_spam(
        "marketing",
        ("优品汇", "鲜丰生活", "悦享会员"),
        "【{sig}】双十一狂欢提前购，全场{percent}折起，满{number}减{limit}，点击 {short} 抢购，退订回T",
        "【{sig}】尊贵会员专享：今晚{hour}点限时秒杀，爆款低至{number}元，戳 {short} ，回T退订",
        "【{sig}】您的{number}元无门槛券即将过期，速来使用 {short} 拒收请回复R",
    ),
)


def challenge_frame(seed: int = CHALLENGE_SEED, per_template: int = PER_TEMPLATE) -> pd.DataFrame:
    """The challenge set (family, template, label, text), duplicates dropped; the seed fixes every row."""
    rows = generate(TEMPLATES, per_template, seed)
    frame = pd.DataFrame(rows, columns=["family", "template", "label", "text"])
    return frame.drop_duplicates("text").reset_index(drop=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write the set as UTF-8 CSV atomically (a temporary file beside the target, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, quoting=csv.QUOTE_MINIMAL)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """Generate the challenge set and write it as CSV (default data/processed/sms_challenge.csv)."""
    parser = argparse.ArgumentParser(description="Generate the spam challenge set (seeded, deterministic).")
    parser.add_argument("--seed", type=int, default=CHALLENGE_SEED)
    parser.add_argument("--per-template", type=int, default=PER_TEMPLATE)
    parser.add_argument("--output", type=Path, default=PROCESSED_DIR / "sms_challenge.csv")
    args = parser.parse_args(argv)
    if args.per_template < 1:
        print(f"error: --per-template must be >= 1, got {args.per_template}", file=sys.stderr)
        return 1
    frame = challenge_frame(args.seed, args.per_template)
    write_csv(frame, args.output)
    counts = frame.groupby("label").size().to_dict()
    print(f"wrote {len(frame)} messages ({counts}) to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
