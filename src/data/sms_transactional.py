"""Training augmentation for the spam task: seeded SMS in today's styles, with wording of its own.

The corpus's normal class is mostly chat and holds no `【signature】`, so a model learns "a
signature means spam". These messages teach the other side: transactional notices with a
signature (verification codes, bank, payment, parcel, travel, utility, healthcare, operator,
shop orders), personal messages, and spam in current styles (loans, gambling, phishing links,
marketing with 退订回T). They enter the training split only. Their templates and sender
signatures are disjoint from the challenge set's (`src.data.sms_challenge`), and two challenge
families (government, education) have no counterpart here, so the challenge set measures
generalisation, not recall of a template.
"""

from __future__ import annotations

import pandas as pd

from src.data.sms_fields import Template, generate

AUGMENT_PER_TEMPLATE = 300


def _ham(family: str, signatures: tuple[str, ...], *texts: str) -> list[Template]:
    return [Template(family, "ham", text, signatures) for text in texts]


def _spam(family: str, signatures: tuple[str, ...], *texts: str) -> list[Template]:
    return [Template(family, "spam", text, signatures) for text in texts]


TEMPLATES: tuple[Template, ...] = (
    *_ham(
        "verification",
        ("淘宝网", "京东", "微博", "抖音", "网易", "百度", "腾讯科技", "滴答清单"),
        "【{sig}】校验码{code}，您正在进行身份验证，打死不要告诉别人哦！",
        "【{sig}】登录确认码：{code}，{minutes}分钟内输入有效，请勿转发。",
        "您的验证码为{code}，请在页面中输入以完成验证。【{sig}】",
        "【{sig}】{code}是您本次找回密码的校验码，若非本人操作，请修改账户密码。",
        "【{sig}】安全提醒：验证码{code}，您的账号正在新设备登录。",
    ),
    *_ham(
        "bank",
        ("工商银行", "建设银行", "农业银行", "中国银行", "招商银行", "平安银行"),
        "【{sig}】您账户{tail4}于{month}月{day}日{hour}:{minute}快捷支付扣款{amount}元，可用余额{balance}元。",
        "【{sig}】您尾号{tail4}卡{month}月{day}日收到工资{balance}元，活期余额{balance}元。",
        "【{sig}】您的信用卡{month}月账单已出，应还金额{amount}元，到期还款日{month}月{day}日。",
        "{name}，您尾号{tail4}的借记卡入账{amount}元，交易类型：转账。【{sig}】",
        "【{sig}】您的定期存款{balance}元已于{month}月{day}日到期并转入活期。",
    ),
    *_ham(
        "payment",
        ("微信支付", "财付通", "翼支付"),
        "【{sig}】您向{name}付款{amount}元成功，账单可在钱包中查看。",
        "【{sig}】自动扣费提醒：您订阅的会员服务将于{month}月{day}日扣费{amount}元。",
        "【{sig}】您的零钱提现{amount}元已到账，预计{hour}:00前入卡。",
    ),
    *_ham(
        "parcel",
        ("顺丰速运", "中通快递", "圆通速递", "申通快递", "极兔速递"),
        "【{sig}】您的快件已放至{city}花园{number}栋快递柜，取件码{pickup}，24小时内免费保管。",
        "【{sig}】运单{waybill}正在派送中，派送员{name}，联系电话{phone}。",
        "【{sig}】您好，您的包裹已由前台代收，运单号{waybill}。",
        "【{sig}】{name}您好，您寄出的快件{waybill}已被揽收。",
    ),
    *_ham(
        "travel",
        ("中国铁路", "南方航空", "同程旅行", "去哪儿网", "首汽约车"),
        "【{sig}】购票成功：{name}，{month}月{day}日{train}次，{car}车厢{seat}座，{city}站开车时间{hour}:{minute}。",
        "【{sig}】航班{flight}登机口变更为{number}号，登机时间{hour}:{minute}，请注意。",
        "【{sig}】您的酒店订单已确认，{month}月{day}日入住{city}某酒店，保留至18:00。",
        "【{sig}】行程已结束，本次车费{amount}元，已从账户扣除。",
    ),
    *_ham(
        "utility",
        ("南方电网", "华润燃气", "水务集团"),
        "【{sig}】户号{tail4}本期水费{amount}元，已由银行代扣成功。",
        "【{sig}】{month}月{day}日{hour}:00至{hour}:30{city}部分线路检修停电，给您带来不便敬请谅解。",
        "【{sig}】您的电费余额为{amount}元，已低于预警值，请尽快缴费。",
    ),
    *_ham(
        "healthcare",
        ("挂号网", "中医院", "口腔医院", "社区卫生服务中心"),
        "【{sig}】挂号成功：{month}月{day}日{dept}，第{number}号，请提前30分钟到院取号。",
        "【{sig}】您的检验结果已出，请登录小程序查看。",
        "【{sig}】温馨提示：您明日{hour}:{minute}有{dept}复诊预约，如需取消请提前处理。",
    ),
    *_ham(
        "operator",
        ("中国移动", "10086", "移动和家亲"),
        "【{sig}】尊敬的客户，您{month}月账单费用{amount}元，当前可用余额{balance}元。",
        "【{sig}】您已使用套餐内流量的80%，剩余{gb}GB，超出后按标准资费收取。",
        "【{sig}】您已成功充值{amount}元，感谢您的支持。",
        "【{sig}】您办理的宽带业务已受理，装维人员将于{month}月{day}日上门安装。",
    ),
    *_ham(
        "shop_order",
        ("唯品会", "苏宁易购", "盒马", "叮咚买菜"),
        "【{sig}】您的订单已发货，运单号{waybill}，可在订单详情中查看物流。",
        "【{sig}】您的退款{amount}元已原路退回，请注意查收。",
        "【{sig}】骑手已取餐，预计{hour}:{minute}送达，请保持电话畅通。",
    ),
    *_ham(
        "personal",
        (),
        "老婆我下班了，要不要带点菜回去？",
        "周末去爬山吗，{hour}点地铁站集合",
        "爸，药我已经寄过去了，记得按时吃。",
        "刚开完会，晚点给你回电话",
        "明天的聚餐改到{city}那家火锅店了，别走错了",
        "房租{amount}我微信转你了哈",
        "宝宝今天第一次叫妈妈了，好开心",
        "{name}，文件我发你邮箱了，看完回我一下",
    ),
    *_spam(
        "loan",
        ("信用钱包", "速借宝", "惠民金融"),
        "【{sig}】尊敬的用户，您的备用金{limit}000元已到位，最快{minutes}分钟到账，"
        "戳 {short} 领取，拒收请回复R",
        "无抵押无担保，凭身份证贷款{limit}万，黑户也可办理，详情咨询{phone}",
        "【{sig}】您的借款额度已提升至{limit}万，年化利率低至{percent}%，立即提现：{url}",
        "【{sig}】您已获得{limit}万元授信，随借随还按日计息，手机一键申请 {short}",
        "工资不够花？正规持牌机构最高可借{limit}万，{minutes}分钟审批，详询微信{code}",
    ),
    *_spam(
        "gambling",
        (),
        "澳门赌场线上开业，注册送{number}元，每日返水{percent}%，网址{url}",
        "棋牌游戏火爆上线，充{number}送{number}，提现秒到，下载{short}",
        "六合彩内部资料，期期必中，加微信{code}{code}",
        "真人娱乐城新会员首存{number}送{number}，流水一倍即可提款，入口 {url}",
        "足球篮球电竞全场竞猜，赔率全网最高，注册领{number}元体验金 {short}",
    ),
    *_spam(
        "phishing",
        ("网上营业厅",),
        "【{sig}】您的积分{number}分即将清零，请登录 {url} 兑换现金礼品。",
        "您的银行账户存在异常，已被临时冻结，请立即访问 {short} 验证身份解冻。",
        "您的包裹因信息不全被退回，请点击 {url} 重新填写收件信息并支付运费{amount}元。",
        "【{sig}】您的信用卡额度可提升至{limit}万元，请登录 {url} 进行申请。",
        "您的账户因未完成实名认证将于今日停用，请尽快访问 {url} 重新认证。",
        "【{sig}】您的订单支付异常，系统将退还{amount}元，请点击 {short} 确认收款账户。",
        "您的社保卡信息需要年审，逾期将停止使用，请登录 {url} 完成认证。",
        "您购买的商品因仓库原因无法发货，可获赔偿{amount}元，请访问 {short} 办理退款。",
    ),
    *_spam(
        "marketing",
        ("品牌特卖", "潮流女装", "家电城"),
        "【{sig}】会员日福利，全场{percent}折，再送{number}元券，点击 {short} 进店，退订回T",
        "【{sig}】新品首发！前{number}名下单立减{limit}元，速抢 {short} 回TD退订",
        "【{sig}】亲，您收藏的宝贝降价啦，仅剩{number}件，马上抢购 {short} 退订回N",
    ),
)


def augmentation_frame(seed: int, per_template: int = AUGMENT_PER_TEMPLATE) -> pd.DataFrame:
    """The augmentation messages (family, template, label, text), duplicates dropped; seeded."""
    rows = generate(TEMPLATES, per_template, seed)
    frame = pd.DataFrame(rows, columns=["family", "template", "label", "text"])
    return frame.drop_duplicates("text").reset_index(drop=True)
