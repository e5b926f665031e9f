"""Declarative specs of the planted payment-behaviour archetypes (DOMAIN.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .._vocab import ARCHETYPE_KEYS

__all__ = ["ARCHETYPE_KEYS", "Archetype"]


def _frozen(mapping) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in dict(mapping).items()})


@dataclass(frozen=True)
class Archetype:
    """One planted payment behaviour: who pays, when, through which channel, how much.

    Every range ``(lo, hi)`` is drawn once per customer (uniformly), so customers of
    one archetype differ; per-payment randomness comes on top.

    Parameters
    ----------
    key : str
        Archetype name, e.g. ``"deadline"`` (see :data:`ARCHETYPE_KEYS`).
    share : float
        Expected share of customers; shares are normalised over all archetypes.
    meter : {"postpaid", "prepaid"}
        Postpaid customers receive bills and pay them; prepaid customers top up a
        balance and get no bills.
    channels : mapping of channel code to weight
        Mix from which each customer draws a favourite channel.
    p_other : float
        Probability that one payment uses another channel (drawn from the market's
        regional mix), scaled by ``noise``.
    anchor : {"issued", "due"}
        Date the payment delay counts from (postpaid).
    delay_days : (float, float)
        Range of the per-customer mean delay in days after ``anchor`` (negative:
        before it). Each payment's delay is gamma distributed around that mean.
    delay_shape : float
        Gamma shape of the per-payment delay (large = regular habit).
    late_prob : float
        Probability that an otherwise punctual bill is paid after its due date,
        scaled by ``noise``.
    skip_prob : (float, float)
        Range of the per-customer probability of not paying a bill on time.
    catch_up : float
        Probability that a skipped bill is settled later, on the day of the next
        payment (one row per bill, late fee included); the rest stay unpaid.
    pay_every : (int, int)
        Range of k: the customer pays every k-th bill, settling what has built up.
    kwh : (float, float)
        Median and log-sd of the customer's typical monthly consumption (kWh).
    topup_amount : (float, float)
        Prepaid: range of the customer's usual top-up in currency units.
    topup_round : float
        Prepaid: top-ups are rounded to a multiple of this.
    topup_threshold : (float, float)
        Prepaid: range of the balance at which the customer reacts.
    response_days : (int, int)
        Prepaid: range of days between reaching the threshold and topping up.
    rural_share : float
        Probability of living in a rural supply area.
    payday_share : float
        Share of customers whose payments gather just after a payday (10th or 15th).
    migrate_share : float
        Share of customers who switch channel once during the window (scaled by
        ``noise``), e.g. from the counter to the app.
    migrate_to : mapping of channel code to weight
        Mix of the channels migrants switch to.

    Examples
    --------
    >>> from payseg.synth import Archetype, default_archetypes
    >>> a = default_archetypes()["deadline"]
    >>> a.anchor, a.delay_days
    ('due', (-3.0, -0.7))
    >>> a.with_share(0.3).share
    0.3
    """

    key: str
    share: float
    meter: str = "postpaid"
    channels: Mapping[str, float] = field(default_factory=dict)
    p_other: float = 0.05
    anchor: str = "issued"
    delay_days: tuple[float, float] = (1.0, 3.0)
    delay_shape: float = 2.0
    late_prob: float = 0.02
    skip_prob: tuple[float, float] = (0.0, 0.0)
    catch_up: float = 0.0
    pay_every: tuple[int, int] = (1, 1)
    kwh: tuple[float, float] = (190.0, 0.45)
    topup_amount: tuple[float, float] = (0.0, 0.0)
    topup_round: float = 10.0
    topup_threshold: tuple[float, float] = (10.0, 30.0)
    response_days: tuple[int, int] = (0, 2)
    rural_share: float = 0.25
    payday_share: float = 0.0
    migrate_share: float = 0.0
    migrate_to: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "channels", _frozen(self.channels))
        object.__setattr__(self, "migrate_to", _frozen(self.migrate_to))
        if self.meter not in ("postpaid", "prepaid"):
            raise ValueError(
                f"archetype {self.key!r}: meter must be 'postpaid' or 'prepaid', "
                f"got {self.meter!r}"
            )
        if self.anchor not in ("issued", "due"):
            raise ValueError(
                f"archetype {self.key!r}: anchor must be 'issued' or 'due', "
                f"got {self.anchor!r}"
            )
        if not self.share >= 0:
            raise ValueError(f"archetype {self.key!r}: share must be >= 0")
        if not self.channels or min(self.channels.values()) < 0:
            raise ValueError(
                f"archetype {self.key!r}: channels needs at least one code with a "
                "non-negative weight"
            )
        if self.migrate_share > 0 and not self.migrate_to:
            raise ValueError(
                f"archetype {self.key!r}: migrate_share > 0 needs migrate_to channels"
            )
        if self.meter == "prepaid" and self.topup_amount[1] <= 0:
            raise ValueError(f"archetype {self.key!r}: prepaid needs topup_amount > 0")
        if self.pay_every[0] < 1 or self.pay_every[1] < self.pay_every[0]:
            raise ValueError(f"archetype {self.key!r}: pay_every must be 1 <= lo <= hi")

    def with_share(self, share: float) -> Archetype:
        """A copy with another share."""
        return replace(self, share=float(share))


# Online apps and wallets shared by several archetypes.
_APPS = {
    "sgcc_app": 0.36,
    "alipay": 0.25,
    "wechat": 0.21,
    "mobile_banking": 0.08,
    "unionpay": 0.04,
    "internet_banking": 0.03,
    "ecommerce": 0.03,
}


def _cn() -> tuple[Archetype, ...]:
    """China defaults. Shares within the DOMAIN.md ranges (estimates)."""
    return (
        Archetype(
            "auto_debit",
            0.18,
            channels={"card_debit": 0.6, "entrusted_debit": 0.4},
            p_other=0.04,
            anchor="issued",
            delay_days=(0.2, 1.0),
            delay_shape=1.0,
            late_prob=0.01,
            rural_share=0.15,
        ),
        Archetype(
            "prompt_online",
            0.28,
            channels=_APPS,
            p_other=0.06,
            anchor="issued",
            delay_days=(0.8, 3.0),
            delay_shape=1.5,
            late_prob=0.01,
            rural_share=0.15,
            payday_share=0.1,
        ),
        Archetype(
            "deadline",
            0.17,
            channels={
                **_APPS,
                "bank_kiosk": 0.1,
                "utility_kiosk": 0.08,
                "bank_counter": 0.05,
            },
            p_other=0.06,
            anchor="due",
            delay_days=(-3.0, -0.7),
            delay_shape=1.5,
            late_prob=0.04,
            rural_share=0.25,
            payday_share=0.25,
        ),
        Archetype(
            "chronic_late",
            0.05,
            channels={
                "wechat": 0.3,
                "alipay": 0.25,
                "sgcc_app": 0.25,
                "counter": 0.1,
                "agent_outlet": 0.1,
            },
            p_other=0.08,
            anchor="due",
            delay_days=(10.0, 25.0),
            delay_shape=3.0,
            late_prob=0.0,
            skip_prob=(0.08, 0.2),
            catch_up=0.5,
            rural_share=0.35,
            payday_share=0.3,
            kwh=(210.0, 0.45),
        ),
        Archetype(
            "counter_loyal",
            0.07,
            channels={"counter": 0.7, "bank_counter": 0.25, "temp_point": 0.05},
            p_other=0.04,
            anchor="issued",
            delay_days=(2.5, 8.0),
            delay_shape=4.0,
            late_prob=0.03,
            rural_share=0.45,
            payday_share=0.3,
            kwh=(160.0, 0.4),
            migrate_share=0.12,
            migrate_to={"sgcc_app": 0.6, "wechat": 0.4},
        ),
        Archetype(
            "agent_rural",
            0.08,
            channels={
                "agent_outlet": 0.55,
                "postal": 0.25,
                "partner_hall": 0.1,
                "door_to_door": 0.1,
            },
            p_other=0.05,
            anchor="issued",
            delay_days=(8.0, 14.0),
            delay_shape=4.0,
            late_prob=0.05,
            rural_share=0.9,
            payday_share=0.2,
            kwh=(150.0, 0.45),
            migrate_share=0.06,
            migrate_to={"wechat": 0.6, "alipay": 0.4},
        ),
        Archetype(
            "prepaid_frequent",
            0.08,
            meter="prepaid",
            channels={
                "sgcc_app": 0.4,
                "alipay": 0.27,
                "wechat": 0.22,
                "ecommerce": 0.06,
                "auto_topup": 0.05,
            },
            p_other=0.05,
            topup_amount=(30.0, 80.0),
            topup_round=10.0,
            topup_threshold=(5.0, 30.0),
            response_days=(0, 2),
            rural_share=0.2,
            kwh=(190.0, 0.4),
        ),
        Archetype(
            "prepaid_occasional",
            0.05,
            meter="prepaid",
            channels={
                "counter": 0.25,
                "ic_card": 0.25,
                "load_control": 0.1,
                "sgcc_app": 0.2,
                "bank_kiosk": 0.1,
                "utility_kiosk": 0.1,
            },
            p_other=0.05,
            topup_amount=(300.0, 800.0),
            topup_round=50.0,
            topup_threshold=(20.0, 60.0),
            response_days=(0, 5),
            rural_share=0.5,
            kwh=(210.0, 0.4),
        ),
        Archetype(
            "dormant",
            0.04,
            channels={
                "sgcc_app": 0.35,
                "alipay": 0.25,
                "wechat": 0.2,
                "mobile_banking": 0.1,
                "counter": 0.1,
            },
            p_other=0.05,
            anchor="issued",
            delay_days=(2.0, 12.0),
            delay_shape=2.0,
            late_prob=0.02,
            pay_every=(3, 8),
            rural_share=0.4,
            kwh=(8.0, 0.6),
        ),
    )
