"""Canonical tables: column names, dtypes and the built-in header map of real exports."""

from __future__ import annotations

# Canonical columns of each table (DESIGN.md). Required ones first.
PAYMENT_REQUIRED = ("customer_id", "paid_at", "amount")
PAYMENT_OPTIONAL = ("channel", "period", "region")
BILL_REQUIRED = ("customer_id", "period")
BILL_OPTIONAL = ("issued_on", "due_on", "amount_due", "region")
CUSTOMER_REQUIRED = ("customer_id",)
CUSTOMER_OPTIONAL = ("region", "meter", "tariff", "theft")

REJECTED_COLUMNS = ("source", "line", "column", "value", "reason")

# Headers found in Chinese utility marketing-system exports (and English ones), keyed
# by their normalised form (NFKC, no spaces, lower case, brackets and units stripped).
HEADER_MAP = {
    # customer id
    "户号": "customer_id", "用户编号": "customer_id", "客户编号": "customer_id",
    "用户号": "customer_id", "客户号": "customer_id", "户号编号": "customer_id",
    "用户户号": "customer_id", "电费户号": "customer_id",
    "customer_id": "customer_id", "customerid": "customer_id", "account": "customer_id",
    "account_id": "customer_id", "accountid": "customer_id", "cons_no": "customer_id",
    # payment time
    "缴费时间": "paid_at", "缴费日期": "paid_at", "收费时间": "paid_at",
    "收费日期": "paid_at", "交费时间": "paid_at", "交费日期": "paid_at",
    "实收时间": "paid_at", "实收日期": "paid_at", "到账时间": "paid_at",
    "paid_at": "paid_at", "payment_date": "paid_at", "pay_date": "paid_at",
    "paydate": "paid_at", "date": "paid_at",
    # channel
    "缴费方式": "channel", "缴费渠道": "channel", "交费方式": "channel",
    "交费渠道": "channel", "收费方式": "channel", "收费渠道": "channel",
    "支付方式": "channel", "渠道": "channel",
    "channel": "channel", "payment_channel": "channel", "payment_method": "channel",
    # payment amount
    "实收金额": "amount", "缴费金额": "amount", "交费金额": "amount",
    "收费金额": "amount", "实收电费": "amount", "金额": "amount",
    "amount": "amount", "paid_amount": "amount", "pay_amount": "amount",
    # billing period
    "电费年月": "period", "应收年月": "period", "账期": "period", "计费年月": "period",
    "抄表年月": "period", "结算年月": "period", "period": "period",
    "billing_period": "period", "bill_period": "period",
    # region / supply unit
    "供电单位": "region", "供电所": "region", "管理单位": "region", "地区": "region",
    "区域": "region", "region": "region", "supply_unit": "region",
    # bills
    "发行日期": "issued_on", "发行时间": "issued_on", "出账日期": "issued_on",
    "账单日期": "issued_on", "issued_on": "issued_on", "issue_date": "issued_on",
    "缴费截止日期": "due_on", "交费截止日期": "due_on", "截止日期": "due_on",
    "缴费期限": "due_on", "到期日期": "due_on", "due_on": "due_on",
    "due_date": "due_on",
    "应收金额": "amount_due", "应收电费": "amount_due", "账单金额": "amount_due",
    "应缴金额": "amount_due", "amount_due": "amount_due", "bill_amount": "amount_due",
    # customers
    "表计类型": "meter", "电表类型": "meter", "付费方式": "meter", "meter": "meter",
    "电价类别": "tariff", "用电类别": "tariff", "tariff": "tariff",
    "窃电标志": "theft", "窃电": "theft", "theft": "theft",
}
