"""Regenerate docs/channels.md from the registry: python docs/_gen_channels.py"""

from pathlib import Path

from payseg import channels


def render() -> str:
    t = channels.table(include_aliases=True)
    lines = [
        "# Payment channels",
        "",
        "The registry `payseg.channels` holds the 18 reference payment methods of Chinese",
        "electricity billing (DOMAIN.md, from a 2018 study of payment-behaviour",
        "segmentation) and the channels that came after them. Attribute weights: 1 yes,",
        "0.5 both / partly / mixed / remote, 0 no. `group` is the family a channel counts",
        "towards in the attribute shares of the feature table.",
        "",
        "Add a channel or a spelling at run time, without touching code:",
        "",
        "```python",
        "payseg.channels.register('douyin_pay', '抖音支付', 'Douyin Pay', aliases=['抖音'],",
        "                         group='online', online=1, self_service=1)",
        "payseg.channels.register('alipay', aliases=['支付宝APP缴费'])   # a new spelling",
        "```",
        "",
        "Spellings are matched after NFKC folding (full-width characters), removal of all",
        "spaces and lower-casing; numeric codes 1-18 (also `07`, `7.0`) are the reference",
        "numbers. `payseg channels` prints this table.",
        "",
        "| # | code | 中文 | English | group | online | self-service | automatic | "
        "prepaid | operator | spellings recognised |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for code, r in t.iterrows():
        num = "" if r["number"] is None or str(r["number"]) == "<NA>" else r["number"]
        aliases = ", ".join(a for a in r["aliases"] if a not in (code,))
        lines.append(
            f"| {num} | `{code}` | {r['name_zh']} | {r['name_en']} | {r['group']} | "
            f"{r['online']:g} | {r['self_service']:g} | {r['automatic']:g} | "
            f"{r['prepaid']:g} | {r['operator']} | {aliases} |"
        )
    lines += [
        "",
        "## Spellings that are not in the table",
        "",
        "A spelling that is not an alias is matched by keyword, the first rule that",
        "applies winning (`payseg.channels.KEYWORDS`): `工商银行代扣` is a card debit,",
        "`建行手机银行` mobile banking, `南网网上营业厅` the China Southern Grid app.",
        "Register an alias to override a rule. A spelling no rule matches is rejected",
        "with reason `unknown channel` and a warning; an empty cell, `-` or `NULL` is a",
        "payment of unknown channel and is kept.",
        "",
        "| keyword | code |",
        "|---|---|",
    ]
    lines += [f"| {word} | `{code}` |" for word, code in channels.KEYWORDS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    Path(__file__).with_name("channels.md").write_text(render(), encoding="utf-8")
