"""Header mapping: the built-in header map and the rules that apply it.

:data:`HEADER_MAP` lists the headers of real exports and their canonical column;
:func:`normalise_header` is the lookup key of a header, :func:`map_columns` renames
a raw frame's headers to canonical names, :func:`header_unit` reads the money unit a
header states. Imports nothing from payseg.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["HEADER_MAP", "header_unit", "map_columns", "normalise_header"]

# Headers found in Chinese utility marketing-system exports (SG186 / 营销系统, China
# Southern Grid, county bureaus, bank and third-party reconciliation files) and English
# ones, keyed by their normalised form (NFKC, no spaces, lower case, brackets and units
# stripped). 违约金 (late fee), 户名, 地址, 票据号 and the like are left unmapped: the
# loader keeps only canonical columns. When several headers map to one canonical
# column, the first one in the file wins.
HEADER_MAP = {
    # customer id
    "户号": "customer_id",
    "用户编号": "customer_id",
    "客户编号": "customer_id",
    "用户号": "customer_id",
    "客户号": "customer_id",
    "户号编号": "customer_id",
    "用户户号": "customer_id",
    "电费户号": "customer_id",
    "电力户号": "customer_id",
    "用电户号": "customer_id",
    "客户户号": "customer_id",
    "户籍号": "customer_id",
    "缴费号": "customer_id",
    "缴费户号": "customer_id",
    "用户代码": "customer_id",
    "客户代码": "customer_id",
    "用户编码": "customer_id",
    "客户编码": "customer_id",
    "电费账号": "customer_id",
    "缴费编号": "customer_id",
    "cust_no": "customer_id",
    "customer_no": "customer_id",
    "customerno": "customer_id",
    "account_no": "customer_id",
    "accountno": "customer_id",
    "consno": "customer_id",
    "customer_id": "customer_id",
    "customerid": "customer_id",
    "account": "customer_id",
    "account_id": "customer_id",
    "accountid": "customer_id",
    "cons_no": "customer_id",
    # payment time
    "缴费时间": "paid_at",
    "缴费日期": "paid_at",
    "收费时间": "paid_at",
    "收费日期": "paid_at",
    "交费时间": "paid_at",
    "交费日期": "paid_at",
    "实收时间": "paid_at",
    "实收日期": "paid_at",
    "到账时间": "paid_at",
    "paid_at": "paid_at",
    "payment_date": "paid_at",
    "pay_date": "paid_at",
    "paydate": "paid_at",
    "date": "paid_at",
    "缴费日": "paid_at",
    "收费时刻": "paid_at",
    "到账日期": "paid_at",
    "入账时间": "paid_at",
    "入账日期": "paid_at",
    "交易时间": "paid_at",
    "交易日期": "paid_at",
    "支付时间": "paid_at",
    "支付日期": "paid_at",
    "销账时间": "paid_at",
    "销账日期": "paid_at",
    "实收时刻": "paid_at",
    "充值时间": "paid_at",
    "充值日期": "paid_at",
    "购电时间": "paid_at",
    "购电日期": "paid_at",
    "payment_time": "paid_at",
    "paymentdate": "paid_at",
    "paid_on": "paid_at",
    "transaction_date": "paid_at",
    "txn_date": "paid_at",
    # channel
    "缴费方式": "channel",
    "缴费渠道": "channel",
    "交费方式": "channel",
    "交费渠道": "channel",
    "收费方式": "channel",
    "收费渠道": "channel",
    "支付方式": "channel",
    "渠道": "channel",
    "缴费途径": "channel",
    "交费途径": "channel",
    "缴费方式名称": "channel",
    "收费方式名称": "channel",
    "缴费渠道名称": "channel",
    "收费渠道名称": "channel",
    "支付渠道": "channel",
    "交易渠道": "channel",
    "收费途径": "channel",
    "缴费渠道类型": "channel",
    "充值渠道": "channel",
    "购电方式": "channel",
    "paymentmethod": "channel",
    "paymentchannel": "channel",
    "pay_channel": "channel",
    "method": "channel",
    "channel": "channel",
    "payment_channel": "channel",
    "payment_method": "channel",
    # payment amount
    "实收金额": "amount",
    "缴费金额": "amount",
    "交费金额": "amount",
    "收费金额": "amount",
    "实收电费": "amount",
    "金额": "amount",
    "amount": "amount",
    "paid_amount": "amount",
    "pay_amount": "amount",
    "本次实收": "amount",
    "本次实收金额": "amount",
    "实收电费金额": "amount",
    "实缴金额": "amount",
    "缴纳金额": "amount",
    "交易金额": "amount",
    "支付金额": "amount",
    "充值金额": "amount",
    "购电金额": "amount",
    "实收总金额": "amount",
    "收款金额": "amount",
    "到账金额": "amount",
    "本次缴费金额": "amount",
    "amountpaid": "amount",
    "amount_paid": "amount",
    "paidamount": "amount",
    "payment_amount": "amount",
    # billing period
    "电费年月": "period",
    "应收年月": "period",
    "账期": "period",
    "计费年月": "period",
    "抄表年月": "period",
    "结算年月": "period",
    "period": "period",
    "billing_period": "period",
    "bill_period": "period",
    "账务年月": "period",
    "电费月份": "period",
    "所属期": "period",
    "所属年月": "period",
    "所属月份": "period",
    "电费所属期": "period",
    "应收月份": "period",
    "账单月份": "period",
    "账单年月": "period",
    "费用年月": "period",
    "billing_month": "period",
    "billingmonth": "period",
    "bill_month": "period",
    # region / supply unit
    "供电单位": "region",
    "供电所": "region",
    "管理单位": "region",
    "地区": "region",
    "区域": "region",
    "region": "region",
    "supply_unit": "region",
    "供电单位名称": "region",
    "管理单位名称": "region",
    "所属单位": "region",
    "营业所": "region",
    "供电营业所": "region",
    "区县": "region",
    # bills
    "发行日期": "issued_on",
    "发行时间": "issued_on",
    "出账日期": "issued_on",
    "账单日期": "issued_on",
    "issued_on": "issued_on",
    "issue_date": "issued_on",
    "缴费截止日期": "due_on",
    "交费截止日期": "due_on",
    "截止日期": "due_on",
    "缴费期限": "due_on",
    "到期日期": "due_on",
    "due_on": "due_on",
    "due_date": "due_on",
    "应收金额": "amount_due",
    "应收电费": "amount_due",
    "账单金额": "amount_due",
    "应缴金额": "amount_due",
    "amount_due": "amount_due",
    "bill_amount": "amount_due",
    "应收电费金额": "amount_due",
    "应交金额": "amount_due",
    "应收总金额": "amount_due",
    # customers
    "表计类型": "meter",
    "电表类型": "meter",
    "付费方式": "meter",
    "meter": "meter",
    "电价类别": "tariff",
    "用电类别": "tariff",
    "tariff": "tariff",
    "窃电标志": "theft",
    "窃电": "theft",
    "theft": "theft",
    "窃电标识": "theft",
    "是否窃电": "theft",
    "窃电记录": "theft",
    "窃电嫌疑": "theft",
    # invoice-level bills: the number a payment may reference
    "账单编号": "bill_id",
    "账单号": "bill_id",
    "应收流水号": "bill_id",
    "应收编号": "bill_id",
    "应收标识": "bill_id",
    "发票号": "bill_id",
    "发票号码": "bill_id",
    "发票编号": "bill_id",
    "票据号": "bill_id",
    "bill_id": "bill_id",
    "billid": "bill_id",
    "bill_no": "bill_id",
    "billno": "bill_id",
    "billnumber": "bill_id",
    "bill_number": "bill_id",
    "invoice": "bill_id",
    "invoice_id": "bill_id",
    "invoiceid": "bill_id",
    "invoice_no": "bill_id",
    "invoiceno": "bill_id",
    "invoicenumber": "bill_id",
    "invoice_number": "bill_id",
    # transaction id of a payment (reversals repeat it)
    "流水号": "txn_id",
    "交易流水号": "txn_id",
    "缴费流水号": "txn_id",
    "收费流水号": "txn_id",
    "实收流水号": "txn_id",
    "支付流水号": "txn_id",
    "交易编号": "txn_id",
    "交易号": "txn_id",
    "txn_id": "txn_id",
    "transaction_id": "txn_id",
    "transactionid": "txn_id",
    "payment_id": "txn_id",
    "paymentid": "txn_id",
    "receipt_no": "txn_id",
    "receiptnumber": "txn_id",
    # arrears and late fees of bills
    "欠费金额": "arrears",
    "欠费": "arrears",
    "欠费电费": "arrears",
    "欠费余额": "arrears",
    "当前欠费": "arrears",
    "arrears": "arrears",
    "amount_outstanding": "arrears",
    "outstanding": "arrears",
    "outstandingamount": "arrears",
    "balance_due": "arrears",
    "滞纳金": "late_fee",
    "违约金": "late_fee",
    "电费违约金": "late_fee",
    "滞纳金金额": "late_fee",
    "违约金金额": "late_fee",
    "late_fee": "late_fee",
    "latefee": "late_fee",
    "penalty": "late_fee",
    # customer attributes
    "户名": "customer_name",
    "用户名称": "customer_name",
    "客户名称": "customer_name",
    "用户名": "customer_name",
    "客户名": "customer_name",
    "customer_name": "customer_name",
    "customername": "customer_name",
    "用电地址": "address",
    "地址": "address",
    "用户地址": "address",
    "客户地址": "address",
    "address": "address",
    "收费员": "collector",
    "抄表员": "collector",
    "催费员": "collector",
    "collector": "collector",
    "用户类型": "customer_type",
    "客户类型": "customer_type",
    "用户分类": "customer_type",
    "客户分类": "customer_type",
    "customer_type": "customer_type",
    "customertype": "customer_type",
    "电压等级": "voltage",
    "供电电压": "voltage",
    "voltage": "voltage",
    "用电量": "kwh",
    "电量": "kwh",
    "抄见电量": "kwh",
    "结算电量": "kwh",
    "kwh": "kwh",
    "usage": "kwh",
    # billing cycle of a customer (months between bills): customers table
    "抄表周期": "cycle_months",
    "计费周期": "cycle_months",
    "结算周期": "cycle_months",
    "抄表结算周期": "cycle_months",
    "电费结算周期": "cycle_months",
    "抄表频率": "cycle_months",
    "账单周期": "cycle_months",
    "发行周期": "cycle_months",
    "billingcycle": "cycle_months",
    "billing_cycle": "cycle_months",
    "billcycle": "cycle_months",
    "bill_cycle": "cycle_months",
    "billfrequency": "cycle_months",
    "bill_frequency": "cycle_months",
    "billingfrequency": "cycle_months",
    "billing_frequency": "cycle_months",
    "cycle_months": "cycle_months",
    "cyclemonths": "cycle_months",
    "预付费标志": "meter",
    "计量方式": "meter",
    "meter_type": "meter",
    "metertype": "meter",
    # other systems (English receivables and billing software)
    "user_id": "customer_id",
    "userid": "customer_id",
    "accountnumber": "customer_id",
    "account_number": "customer_id",
    "acct_no": "customer_id",
    "acctno": "customer_id",
    "customer": "customer_id",
    "customernumber": "customer_id",
    "customer_number": "customer_id",
    "record_date": "paid_at",
    "recorddate": "paid_at",
    "paymenttime": "paid_at",
    "settled_date": "paid_at",
    "settleddate": "paid_at",
    "date_paid": "paid_at",
    "datepaid": "paid_at",
    "paymentamount": "amount",
    "invoicedate": "issued_on",
    "invoice_date": "issued_on",
    "bill_date": "issued_on",
    "billdate": "issued_on",
    "issuedate": "issued_on",
    "statement_date": "issued_on",
    "duedate": "due_on",
    "payment_due_date": "due_on",
    "invoiceamount": "amount_due",
    "invoice_amount": "amount_due",
    "billamount": "amount_due",
    "amountdue": "amount_due",
    "total_due": "amount_due",
    "totaldue": "amount_due",
    "billing_date": "issued_on",
}

_BRACKETS = re.compile(r"[\(（\[【<《].*?[\)）\]】>》]")
# A unit written after a slash ("金额/元"), required-field stars, a trailing colon.
_HEADER_JUNK = re.compile(r"^[*＊]+|[*＊:：]+$")
_HEADER_UNIT = re.compile(r"[/／](元|万元|分|yuan|rmb|cny)$")


def normalise_header(name: object) -> str:
    """Lookup key of a header: NFKC, no spaces, lower case, units in brackets dropped.

    >>> normalise_header(" 缴费金额（元） ")
    '缴费金额'
    >>> normalise_header("*实收金额/元：")
    '实收金额'
    """
    text = unicodedata.normalize("NFKC", str(name))
    text = _BRACKETS.sub("", text)
    text = "".join(text.split()).lower().lstrip("\ufeff")
    return _HEADER_UNIT.sub("", _HEADER_JUNK.sub("", text))


def header_unit(name: object) -> str | None:
    """The money unit a header states, when it is not yuan: '分' or '万元'.

    >>> header_unit("交易金额(分)"), header_unit("实收金额（元）")
    ('分', None)
    """
    text = "".join(unicodedata.normalize("NFKC", str(name)).split()).lower()
    unit = re.search(r"[\(\[【/](分|万元|cents?|fen)[\)\]】]?$", text)
    if unit is None:
        return None
    return "万元" if unit.group(1) == "万元" else "分"


def map_columns(raw, columns, required, optional, *, source, error):
    """Rename ``raw``'s headers to canonical names; raise ``error`` if one is missing."""
    user = {normalise_header(k): v for k, v in (columns or {}).items()}
    wanted = set(required) | set(optional)
    rename, taken = {}, set()
    for header in raw.columns:
        key = normalise_header(header)
        target = user.get(key) or HEADER_MAP.get(key)
        if target is None and key in wanted:
            target = key
        # The first header that maps to a canonical name wins; later ones stay raw.
        if target in wanted and target not in taken:
            rename[header] = target
            taken.add(target)
    missing = [c for c in required if c not in taken]
    if missing:
        found = ", ".join(map(str, raw.columns)) or "(none)"
        raise error(
            f"{source}: required column {missing[0]!r} not found; headers found: "
            f"{found}. Pass columns={{'<your header>': {missing[0]!r}}} to map it."
        )
    out = raw.rename(columns=rename)
    out.attrs = raw.attrs
    return out
