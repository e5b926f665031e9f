"""Regenerate the export fixtures of this folder: python tests/data/exports/_make.py

Four payment exports in the shapes other utilities and banks write them (see
tests/test_load_exports.py::test_directory_of_mixed_exports for what each holds).
"""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent

SG186 = (
    "国网XX省XX县供电公司2025年4月电费实收明细表,,,,,,,,\r\n"
    "制表日期：2025-05-02,,,,,,,单位：元,\r\n"
    "序号,供电单位,户号,户名,电费年月,应收电费,实收电费,实收违约金,收费方式,收费日期\r\n"
    "1,城关供电所,3300012345,张三,202503,120.50,120.50,0.00,坐收,2025-04-01 08:15:00\r\n"
    "2,城关供电所,3300012346,李四,202503,88.00,88.00,0.00,走收,2025-04-02 09:00:00\r\n"
    "3,城关供电所,3300012347,王五,202503,95.00,95.00,0.00,批量代扣,2025-04-03 00:00:00\r\n"
    ",城关供电所小计,,,,303.50,303.50,0.00,,\r\n"
    '4,河口供电所,3300022001,赵六,2025年3月,"1,070.00","1,070.00",1.07,网上国网,'
    "2025-04-25 21:40:12\r\n"
    "5,河口供电所,3300022002,钱七,202503,66.60,66.60,0.00,POS刷卡,2025/4/28 10:05\r\n"
    ',河口供电所小计,,,,"1,136.60","1,136.60",1.07,,\r\n'
    ',合计,,,,"1,440.10","1,440.10",1.07,,\r\n'
    "制表人：张会计,,,,,,审核人：李主任,,,\r\n"
)

CSG = [
    ["XX供电局2025年4月电费回收明细", None, None, None, None, None],
    ["导出时间：2025-05-01 09:00:00", None, None, None, None, None],
    ["用户编号", "客户名称", "交费时间", "缴费渠道", "本次实收", "所属期"],
    ["'0300100001", "陈一", 45748.4375, "南网在线", "¥1,234.50", "2025年3月"],
    ["0300100002", "林二", 45749, "微信缴费", 88, 45717],
    [
        "0300100003",
        "黄三",
        "2025年04月03日 10时30分",
        "农商行代扣",
        "95.00元",
        "2025.03",
    ],
    ["0300100004", "吴四", "2025-04-04", "支付宝生活缴费", "(12.00)", "2025-03"],
    ["总计", None, None, None, 1405.5, None],
]

BANK = (
    "交易日期\t交易时间\t缴费号\t交易金额(分)\t交易渠道\t流水号\t交易状态\t\r\n"
    "20250401\t103000\t3300012345\t12050\t手机银行\tB0001\t成功\t\r\n"
    "20250401\t093005\t3300012346\t8800\t柜面\tB0002\t成功\t\r\n"
    "20250402\t141516\t3300012347\t9500\t网上银行\tB0003\t交易失败\t\r\n"
    "20250402\t151617\t1.23457E+09\t5000\tATM\tB0004\t成功\t\r\n"
)

COUNTY = (
    "<html><head><meta http-equiv='Content-Type' content='text/html; charset=gbk'>"
    "</head><body><table border=1>"
    "<tr><td colspan=4>XX县供电所2025年4月收费明细</td></tr>"
    "<tr><th>客户编号</th><th>收费时间</th><th>收费途径</th><th>收费金额</th></tr>"
    '<tr><td>="0012345601"</td><td>2025-04-01 10:00:00.000</td><td>代收</td>'
    "<td>50.00</td></tr>"
    "<tr><td>0012345602</td><td>20250402103000</td><td>邮政代收</td><td>60.00</td></tr>"
    "<tr><td>0012345603</td><td>2025.04.03</td><td>超市代收</td><td>—</td></tr>"
    "<tr><td>合  计</td><td></td><td></td><td>110.00</td></tr>"
    "</table></body></html>"
)


def main() -> None:
    (HERE / "sg186_shilou_gbk.csv").write_bytes(SG186.encode("gbk"))
    pd.DataFrame(CSG).to_excel(HERE / "csg_huishou.xlsx", header=False, index=False)
    (HERE / "bank_duizhang_utf16.txt").write_bytes(BANK.encode("utf-16"))
    (HERE / "county_daochu.xls").write_bytes(COUNTY.encode("gbk"))


if __name__ == "__main__":
    main()
