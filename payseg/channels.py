"""The payment-channel registry: the 18 reference methods and the apps that came after.

Every payment row carries a canonical channel *code* (``"counter"``, ``"alipay"``, ...).
Real files hold Chinese names, short forms, English names, full-width characters and
numeric codes; :func:`resolve` maps all of them to codes through the alias table, and
:func:`register` opens the table to new channels and spellings at run time.

Attributes follow DOMAIN.md. The tri-state columns (``online``, ``self_service``,
``automatic``, ``prepaid``) hold a weight in [0, 1]: 1 for "yes", 0.5 for "both",
"partly", "mixed" or "remote", 0 for "no" or "n/a". ``group`` is the one family each
channel belongs to for the attribute shares of the feature table (counter, agent,
automatic, online, self_service, prepaid).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "GROUPS",
    "KEYWORDS",
    "Channel",
    "attributes",
    "get",
    "normalise_name",
    "register",
    "resolve",
    "table",
]

#: The channel families used by the attribute shares, in display order.
GROUPS = ("automatic", "online", "self_service", "prepaid", "counter", "agent")


@dataclass(frozen=True)
class Channel:
    """One payment channel.

    Parameters
    ----------
    code : str
        Stable canonical code, lower-case ASCII (``"sgcc_app"``).
    name_zh, name_en : str
        Chinese and English display names.
    group : {"automatic", "online", "self_service", "prepaid", "counter", "agent"}
        The family the channel counts towards in attribute shares.
    online, self_service, automatic, prepaid : float
        Attribute weights in [0, 1] (1 yes, 0.5 both/partly, 0 no).
    operator : str
        Who runs the channel: utility, bank, post, third_party, platform.
    number : int or None
        Position in the 18-method reference list, None for modern channels.
    aliases : tuple of str
        Other spellings found in real files.
    """

    code: str
    name_zh: str
    name_en: str
    group: str
    online: float
    self_service: float
    automatic: float
    prepaid: float
    operator: str
    number: int | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)


Y, B, N = 1.0, 0.5, 0.0

# The 18 reference payment methods of Chinese electricity billing (DOMAIN.md), then the
# channels that postdate that list.
_BUILTIN = [
    Channel(
        "counter",
        "供电企业营业厅缴费",
        "utility service-hall counter",
        "counter",
        N,
        N,
        N,
        B,
        "utility",
        1,
        (
            "营业厅",
            "营业厅缴费",
            "供电营业厅",
            "柜台",
            "柜台缴费",
            "坐收",
            "营业厅收费",
            "柜台收费",
            "营业厅柜台",
            "供电营业厅缴费",
            "营业网点",
            "坐收缴费",
            "现金",
            "现金缴费",
            "现金收费",
            "POS",
            "POS刷卡",
            "POS机",
            "刷卡",
            "营业厅POS",
            "支票",
            "service hall",
            "counter",
            "cash",
        ),
    ),
    Channel(
        "bank_counter",
        "银行代收缴费",
        "bank-branch collection",
        "counter",
        N,
        N,
        N,
        N,
        "bank",
        2,
        (
            "银行代收",
            "银行柜台",
            "银行柜面",
            "银行网点",
            "代收",
            "金融机构代收",
            "银行网点代收",
            "银行柜台缴费",
            "柜面",
            "bank branch",
            "bank counter",
        ),
    ),
    Channel(
        "bank_transfer",
        "银行转账结算缴费",
        "bank transfer settlement",
        "online",
        B,
        N,
        N,
        N,
        "bank",
        3,
        ("银行转账", "转账", "转账结算", "bank transfer"),
    ),
    Channel(
        "postal",
        "邮政储蓄代缴",
        "postal savings agency",
        "agent",
        N,
        N,
        B,
        N,
        "post",
        4,
        (
            "邮政代缴",
            "邮政储蓄",
            "邮储",
            "邮政",
            "邮政代收",
            "邮局",
            "邮政网点",
            "邮储银行",
            "邮政储蓄银行",
            "邮政代收点",
            "postal savings",
            "post office",
        ),
    ),
    Channel(
        "entrusted_debit",
        "同城特约委托收款缴费",
        "same-city entrusted collection",
        "automatic",
        N,
        N,
        Y,
        N,
        "bank",
        5,
        (
            "特约委托",
            "同城特约委托",
            "委托收款",
            "特约委托收款",
            "托收",
            "direct debit",
        ),
    ),
    Channel(
        "card_debit",
        "银行卡代缴",
        "bank-card auto-debit",
        "automatic",
        N,
        N,
        Y,
        N,
        "bank",
        6,
        (
            "银行代扣",
            "代扣",
            "银行卡代扣",
            "银行卡自动扣款",
            "自动扣款",
            "代缴",
            "批量代扣",
            "批扣",
            "银行批扣",
            "银行代扣缴费",
            "代扣缴费",
            "签约代扣",
            "自动代扣",
            "农信社代扣",
            "农商行代扣",
            "信用社代扣",
            "农村信用社代扣",
            "农村商业银行代扣",
            "bank card debit",
            "auto-debit",
            "autopay",
        ),
    ),
    Channel(
        "internet_banking",
        "网银缴费",
        "internet banking",
        "online",
        Y,
        Y,
        N,
        B,
        "bank",
        7,
        (
            "网银",
            "网上银行",
            "网上银行缴费",
            "网银支付",
            "个人网银",
            "企业网银",
            "internet banking",
            "online banking",
        ),
    ),
    Channel(
        "phone_banking",
        "电话银行缴费",
        "telephone banking",
        "online",
        B,
        Y,
        N,
        N,
        "bank",
        8,
        (
            "电话银行",
            "95598电话缴费",
            "电话缴费",
            "电话支付",
            "telephone banking",
            "phone banking",
        ),
    ),
    Channel(
        "mobile_banking",
        "手机银行缴费",
        "mobile banking",
        "online",
        Y,
        Y,
        N,
        B,
        "bank",
        9,
        ("手机银行", "手机银行APP", "掌上银行", "mobile banking"),
    ),
    Channel(
        "bank_kiosk",
        "银行自助终端缴费",
        "bank self-service terminal",
        "self_service",
        N,
        Y,
        N,
        B,
        "bank",
        10,
        (
            "银行自助终端",
            "银行自助",
            "ATM",
            "自助银行",
            "银行自助设备",
            "银行自助机",
            "bank kiosk",
            "bank terminal",
        ),
    ),
    Channel(
        "utility_kiosk",
        "供电企业自助终端缴费",
        "utility self-service terminal",
        "self_service",
        N,
        Y,
        N,
        B,
        "utility",
        11,
        (
            "自助终端",
            "自助缴费终端",
            "自助缴费机",
            "供电自助终端",
            "自助终端缴费",
            "自助缴费",
            "自助机",
            "自助服务终端",
            "营业厅自助终端",
            "utility kiosk",
            "self-service terminal",
            "kiosk",
        ),
    ),
    Channel(
        "recharge_card",
        "电费充值卡缴费",
        "electricity recharge card",
        "self_service",
        B,
        Y,
        N,
        Y,
        "utility",
        12,
        ("充值卡", "电费充值卡", "电费卡", "充值卡缴费", "recharge card"),
    ),
    Channel(
        "agent_outlet",
        "社会化代收点缴费",
        "third-party agent outlet",
        "agent",
        N,
        N,
        N,
        B,
        "third_party",
        13,
        (
            "社会化代收",
            "代收点",
            "代收网点",
            "社会代收点",
            "便利店",
            "超市代收",
            "超市",
            "便利店代收",
            "商超代收",
            "社会代收",
            "村级代收点",
            "社区代收点",
            "代售点",
            "拉卡拉",
            "agent outlet",
            "agent",
            "convenience store",
        ),
    ),
    Channel(
        "temp_point",
        "临时收费点缴费",
        "temporary collection point",
        "counter",
        N,
        N,
        N,
        N,
        "utility",
        14,
        ("临时收费点", "临时收费", "流动收费点", "temporary point"),
    ),
    Channel(
        "ic_card",
        "IC卡购电缴费",
        "IC-card meter purchase",
        "prepaid",
        N,
        N,
        N,
        Y,
        "utility",
        15,
        ("IC卡购电", "IC卡", "卡表购电", "购电卡", "插卡购电", "IC卡表购电", "ic card"),
    ),
    Channel(
        "load_control",
        "负荷控制预购电缴费",
        "load-control prepurchase",
        "prepaid",
        N,
        N,
        N,
        Y,
        "utility",
        16,
        ("负荷控制预购电", "负控预购电", "预购电", "负控购电", "负控", "load control"),
    ),
    Channel(
        "door_to_door",
        "人工走收缴费",
        "door-to-door collection",
        "counter",
        N,
        N,
        N,
        N,
        "utility",
        17,
        (
            "人工走收",
            "走收",
            "上门收费",
            "抄表员收费",
            "走收现金",
            "上门收取",
            "door to door",
            "door-to-door",
        ),
    ),
    Channel(
        "partner_hall",
        "合作营业厅缴费",
        "partner service hall",
        "agent",
        N,
        N,
        N,
        B,
        "third_party",
        18,
        ("合作营业厅", "合作网点", "partner hall"),
    ),
    # Channels after the 2018 list; they dominate today.
    Channel(
        "sgcc_app",
        "网上国网",
        "State Grid app",
        "online",
        Y,
        Y,
        N,
        B,
        "utility",
        None,
        (
            "网上国网APP",
            "网上国网缴费",
            "国网APP",
            "掌上电力",
            "掌上电力APP",
            "电e宝",
            "电E宝",
            "95598网站",
            "95598",
            "95598智能互动网站",
            "国网电商",
            "国网商城",
            "State Grid app",
            "wsgw",
        ),
    ),
    Channel(
        "csg_app",
        "南网在线",
        "China Southern Grid app",
        "online",
        Y,
        Y,
        N,
        B,
        "utility",
        None,
        (
            "南网在线APP",
            "南方电网APP",
            "南网APP",
            "南方电网",
            "南网掌上营业厅",
            "南网网上营业厅",
            "南网微信公众号",
            "95598南网",
            "China Southern Grid app",
        ),
    ),
    Channel(
        "alipay",
        "支付宝",
        "Alipay",
        "online",
        Y,
        Y,
        N,
        B,
        "platform",
        None,
        (
            "支付宝缴费",
            "支付宝生活缴费",
            "支付宝支付",
            "支付宝APP",
            "支付宝生活号",
            "alipay",
        ),
    ),
    Channel(
        "wechat",
        "微信支付",
        "WeChat Pay",
        "online",
        Y,
        Y,
        N,
        B,
        "platform",
        None,
        (
            "微信",
            "微信缴费",
            "微信生活缴费",
            "财付通",
            "微信公众号",
            "微信小程序",
            "微信扫码",
            "wechat pay",
            "weixin",
            "wechat",
        ),
    ),
    Channel(
        "unionpay",
        "云闪付",
        "UnionPay QuickPass",
        "online",
        Y,
        Y,
        N,
        B,
        "bank",
        None,
        (
            "银联云闪付",
            "银联",
            "银联在线",
            "银联商务",
            "云闪付APP",
            "unionpay",
            "quickpass",
        ),
    ),
    Channel(
        "ecommerce",
        "电商充值",
        "e-commerce top-up",
        "online",
        Y,
        Y,
        N,
        Y,
        "platform",
        None,
        (
            "电商平台",
            "电商缴费",
            "淘宝",
            "京东",
            "拼多多",
            "抖音",
            "抖音支付",
            "天猫",
            "京东缴费",
            "淘宝缴费",
            "苏宁",
            "电商",
            "e-commerce",
        ),
    ),
    Channel(
        "gov_app",
        "政务服务APP",
        "government service app",
        "online",
        Y,
        Y,
        N,
        B,
        "platform",
        None,
        (
            "政务APP",
            "政务服务",
            "粤省事",
            "随申办",
            "浙里办",
            "皖事通",
            "government app",
        ),
    ),
    Channel(
        "auto_topup",
        "自动充值",
        "automatic top-up",
        "automatic",
        Y,
        N,
        Y,
        Y,
        "utility",
        None,
        ("自动购电", "智能交费自动充值", "智能交费", "auto top-up", "automatic top-up"),
    ),
    # Markets outside China (synthetic generator, DOMAIN.md): autopay maps onto card_debit.
    Channel(
        "web",
        "网站缴费",
        "utility website",
        "online",
        Y,
        Y,
        N,
        N,
        "utility",
        None,
        ("utility website", "website", "online portal", "网上营业厅"),
    ),
    Channel(
        "mail",
        "邮寄支票",
        "mail / cheque",
        "counter",
        N,
        N,
        N,
        N,
        "post",
        None,
        ("mail", "check by mail", "cheque"),
    ),
    Channel(
        "prepay_meter",
        "预付费电表充值",
        "prepayment meter top-up",
        "prepaid",
        N,
        N,
        N,
        Y,
        "utility",
        None,
        ("prepayment", "prepayment meter", "paypoint", "payzone"),
    ),
]

_REGISTRY: dict[str, Channel] = {}
_ALIASES: dict[str, str] = {}

# Fallback for spellings that are not an alias: the first keyword found in the
# normalised name decides ("工商银行代扣" -> card_debit, "建行手机银行" -> mobile_banking,
# "南网网上营业厅" -> csg_app). Order matters: specific before generic, so that "银行"
# and "营业厅" come last. Only reached on an alias miss, once per distinct spelling.
KEYWORDS: tuple[tuple[str, str], ...] = (
    ("特约", "entrusted_debit"),
    ("托收", "entrusted_debit"),
    ("委托收款", "entrusted_debit"),
    ("自动充值", "auto_topup"),
    ("自动购电", "auto_topup"),
    ("代扣", "card_debit"),
    ("批扣", "card_debit"),
    ("自动扣款", "card_debit"),
    ("网上国网", "sgcc_app"),
    ("掌上电力", "sgcc_app"),
    ("电e宝", "sgcc_app"),
    ("国网", "sgcc_app"),
    ("95598", "sgcc_app"),
    ("南网", "csg_app"),
    ("南方电网", "csg_app"),
    ("云闪付", "unionpay"),
    ("银联", "unionpay"),
    ("支付宝", "alipay"),
    ("alipay", "alipay"),
    ("微信", "wechat"),
    ("wechat", "wechat"),
    ("财付通", "wechat"),
    ("京东", "ecommerce"),
    ("淘宝", "ecommerce"),
    ("天猫", "ecommerce"),
    ("拼多多", "ecommerce"),
    ("抖音", "ecommerce"),
    ("电商", "ecommerce"),
    ("手机银行", "mobile_banking"),
    ("掌上银行", "mobile_banking"),
    ("网银", "internet_banking"),
    ("网上银行", "internet_banking"),
    ("电话银行", "phone_banking"),
    ("充值卡", "recharge_card"),
    ("ic卡", "ic_card"),
    ("卡表", "ic_card"),
    ("插卡", "ic_card"),
    ("负控", "load_control"),
    ("负荷控制", "load_control"),
    ("走收", "door_to_door"),
    ("上门", "door_to_door"),
    ("临时", "temp_point"),
    ("合作营业厅", "partner_hall"),
    ("邮政", "postal"),
    ("邮储", "postal"),
    ("邮局", "postal"),
    ("银行自助", "bank_kiosk"),
    ("atm", "bank_kiosk"),
    ("自助", "utility_kiosk"),
    ("代收点", "agent_outlet"),
    ("超市", "agent_outlet"),
    ("便利店", "agent_outlet"),
    ("商店", "agent_outlet"),
    ("社会化", "agent_outlet"),
    ("代售", "agent_outlet"),
    ("转账", "bank_transfer"),
    ("网上营业厅", "web"),
    ("银行", "bank_counter"),
    ("柜面", "bank_counter"),
    ("代收", "bank_counter"),
    ("营业厅", "counter"),
    ("柜台", "counter"),
    ("坐收", "counter"),
    ("现金", "counter"),
    ("pos", "counter"),
    ("刷卡", "counter"),
)


def _lookup(key: str) -> str | None:
    """Code of a normalised spelling: the alias table, then the keyword rules."""
    code = _ALIASES.get(key)
    if code is not None or not key or key.isdigit():
        return code
    for word, code in KEYWORDS:
        if word in key and code in _REGISTRY:
            return code
    return None


def normalise_name(name: object) -> str:
    """Return the lookup key of a raw channel spelling.

    NFKC folds full-width characters, whitespace is removed, Latin letters are
    lower-cased, and a trailing 缴费/支付 is kept (aliases list both forms).

    Examples
    --------
    >>> normalise_name(" 网 银\\u3000")
    '网银'
    >>> normalise_name("ＡＬＩＰＡＹ")
    'alipay'
    """
    text = unicodedata.normalize("NFKC", str(name))
    text = "".join(text.split()).lower()
    # "07" and "7.0" from spreadsheets are the same numeric code as "7".
    if text.replace(".", "", 1).isdigit():
        try:
            text = str(int(float(text)))
        except ValueError:  # pragma: no cover - isdigit guards this
            pass
    return text


def _add_aliases(code: str, names) -> None:
    for name in names:
        _ALIASES[normalise_name(name)] = code


def register(
    code: str,
    name_zh: str | None = None,
    name_en: str | None = None,
    *,
    aliases=(),
    group: str = "online",
    online: float = 0.0,
    self_service: float = 0.0,
    automatic: float = 0.0,
    prepaid: float = 0.0,
    operator: str = "third_party",
) -> Channel:
    """Add a channel, or new spellings of an existing one, at run time.

    Parameters
    ----------
    code : str
        Canonical code. If it is already registered, only ``aliases`` (and the names,
        as spellings) are added and the existing attributes are kept.
    name_zh, name_en : str, optional
        Display names of a new channel; default to ``code``.
    aliases : iterable of str
        Spellings that should resolve to ``code``.
    group : str
        One of :data:`GROUPS` for a new channel.
    online, self_service, automatic, prepaid : float
        Attribute weights in [0, 1] for a new channel.
    operator : str
        Who runs a new channel.

    Returns
    -------
    Channel
        The registered channel.

    Examples
    --------
    >>> ch = register("douyin_pay", "抖音支付", "Douyin Pay", aliases=["抖音"],
    ...               group="online", online=1, self_service=1, operator="platform")
    >>> resolve(["抖音"])[0].tolist()
    ['douyin_pay']
    >>> _ = register("alipay", aliases=["支付宝APP缴费"])  # a new spelling only
    """
    if isinstance(aliases, str):
        aliases = [aliases]
    if code in _REGISTRY:
        _add_aliases(code, [n for n in (name_zh, name_en) if n] + list(aliases))
        return _REGISTRY[code]
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
    for attr, value in (
        ("online", online),
        ("self_service", self_service),
        ("automatic", automatic),
        ("prepaid", prepaid),
    ):
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{attr} must be a weight in [0, 1], got {value!r}")
    channel = Channel(
        code,
        name_zh or code,
        name_en or code,
        group,
        float(online),
        float(self_service),
        float(automatic),
        float(prepaid),
        operator,
        None,
        tuple(aliases),
    )
    _store(channel)
    return channel


def _store(channel: Channel) -> None:
    _REGISTRY[channel.code] = channel
    names = [channel.code, channel.name_zh, channel.name_en, *channel.aliases]
    if channel.name_zh.endswith("缴费"):
        names.append(channel.name_zh[: -len("缴费")])
    if channel.number is not None:
        names.append(str(channel.number))
    _add_aliases(channel.code, names)


def _reset() -> None:
    """Restore the built-in registry (used by tests)."""
    _REGISTRY.clear()
    _ALIASES.clear()
    for channel in _BUILTIN:
        _store(channel)


_reset()


def get(code: str) -> Channel:
    """Return the registered :class:`Channel` for a canonical code or any alias.

    Examples
    --------
    >>> get("网上银行").code
    'internet_banking'
    """
    key = _lookup(normalise_name(code))
    if key is None:
        raise KeyError(
            f"unknown channel {code!r}; add it with payseg.channels.register(...)"
        )
    return _REGISTRY[key]


def codes() -> list[str]:
    """Return every registered channel code, reference methods first."""
    return list(_REGISTRY)


def resolve(names) -> tuple[pd.Categorical, np.ndarray]:
    """Map raw channel spellings to canonical codes, vectorised.

    Each distinct spelling is normalised once (full-width, spaces, case, numeric codes)
    and looked up in the alias table, then, on a miss, in the keyword rules of
    :data:`KEYWORDS` ("工商银行代扣" is a card debit); rows are mapped through the
    factorised codes, so the cost is one pass over the rows plus one lookup per
    distinct spelling.

    Parameters
    ----------
    names : array-like of str
        Raw channel values, one per payment row. Missing values are unknown.

    Returns
    -------
    codes : pandas.Categorical
        Canonical code per row (categories: every registered code), NaN where unknown.
    unknown : ndarray of bool
        True for rows whose spelling is not in the registry.

    Examples
    --------
    >>> codes, unknown = resolve(["网上银行", "支付宝 ", "7", "建行代扣", "比特币"])
    >>> codes.tolist()
    ['internet_banking', 'alipay', 'internet_banking', 'card_debit', nan]
    >>> unknown.tolist()
    [False, False, False, False, True]
    """
    raw_codes, uniques = pd.factorize(pd.Series(names, dtype=object), sort=False)
    categories = codes()
    position = {code: i for i, code in enumerate(categories)}
    lookup = np.array(
        [position.get(_lookup(normalise_name(u)) or "", -1) for u in uniques]
        + [-1],  # raw code -1 (missing) indexes this last slot
        dtype=np.int32,
    )
    mapped = lookup[raw_codes]
    result = pd.Categorical.from_codes(mapped, categories=categories)
    return result, mapped < 0


def table(*, include_aliases: bool = False) -> pd.DataFrame:
    """Return the registry as a DataFrame indexed by channel code.

    Examples
    --------
    >>> t = table()
    >>> int(t["number"].notna().sum())
    18
    >>> t.loc["card_debit", "automatic"]
    np.float64(1.0)
    """
    rows = []
    for ch in _REGISTRY.values():
        row: dict[str, object] = {
            "code": ch.code,
            "number": ch.number,
            "name_zh": ch.name_zh,
            "name_en": ch.name_en,
            "group": ch.group,
            "online": ch.online,
            "self_service": ch.self_service,
            "automatic": ch.automatic,
            "prepaid": ch.prepaid,
            "operator": ch.operator,
        }
        if include_aliases:
            row["aliases"] = sorted(k for k, v in _ALIASES.items() if v == ch.code)
        rows.append(row)
    out = pd.DataFrame(rows).set_index("code")
    out["number"] = out["number"].astype("Int64")
    return out


def attributes(channel_codes=None) -> pd.DataFrame:
    """Numeric attribute weights per channel code (online, self_service, ...).

    Parameters
    ----------
    channel_codes : sequence of str, optional
        Codes to return, in this order; default every registered code.

    Returns
    -------
    DataFrame indexed by code with float columns ``online``, ``self_service``,
    ``automatic``, ``prepaid`` and one 0/1 column per group (``group_counter``, ...).

    Examples
    --------
    >>> attributes(["counter", "alipay"])["group_counter"].tolist()
    [1.0, 0.0]
    """
    t = table()
    if channel_codes is not None:
        t = t.loc[list(channel_codes)]
    out = t[["online", "self_service", "automatic", "prepaid"]].astype(float)
    for group in GROUPS:
        out[f"group_{group}"] = (t["group"] == group).astype(float)
    return out
