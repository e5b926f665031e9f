"""Markets: regions, tariffs, calendars and archetype shares per country."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..calendar import BillingCalendar
from ._archetypes import Archetype, _cn, _frozen

__all__ = ["MARKETS", "Market", "default_archetypes", "get_market"]


@dataclass(frozen=True)
class Market:
    """Everything country-specific the generator needs.

    Parameters
    ----------
    key : str
        Market code ("cn", "us", "uk").
    archetypes : tuple of Archetype
        Default archetype specs and shares.
    urban_regions, rural_regions : tuple of str
        Supply-area names; customers are placed by their archetype's ``rural_share``.
    urban_other, rural_other : mapping of channel code to weight
        Mix of the occasional "other" channels, by kind of area: rural areas lean on
        agents and counters.
    calendar : BillingCalendar
        Default billing calendar.
    tier_kwh : tuple of float
        Upper monthly kWh bound of each tariff tier but the last.
    tier_price : tuple of float
        Price per kWh of each tier (one more than ``tier_kwh``).
    season : tuple of 12 float
        Consumption factor of each calendar month (January first).
    kwh_scale : float
        Multiplies every archetype's typical consumption.
    late_fee_rate, min_late_fee : float
        Late fee per overdue day as a share of the bill, and its floor.
    currency : str
        Unit of amounts (the canonical column is called "yuan" for China).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from payseg.synth import get_market
    >>> cn = get_market("cn")
    >>> cn.rural_regions[0], cn.late_fee_rate
    ('东乡供电所', 0.001)
    >>> flat = replace(cn, tier_kwh=(), tier_price=(0.56,))  # a flat tariff
    """

    key: str
    archetypes: tuple[Archetype, ...]
    urban_regions: tuple[str, ...]
    rural_regions: tuple[str, ...]
    urban_other: Mapping[str, float]
    rural_other: Mapping[str, float]
    calendar: BillingCalendar = field(default_factory=BillingCalendar)
    tier_kwh: tuple[float, ...] = (200.0, 400.0)
    tier_price: tuple[float, ...] = (0.52, 0.57, 0.82)
    season: tuple[float, ...] = (
        1.45,
        1.3,
        1.0,
        0.9,
        0.95,
        1.15,
        1.6,
        1.65,
        1.15,
        0.9,
        1.0,
        1.35,
    )
    kwh_scale: float = 1.0
    late_fee_rate: float = 0.001
    min_late_fee: float = 1.0
    currency: str = "CNY"

    def __post_init__(self):
        object.__setattr__(self, "urban_other", _frozen(self.urban_other))
        object.__setattr__(self, "rural_other", _frozen(self.rural_other))
        if len(self.tier_price) != len(self.tier_kwh) + 1:
            raise ValueError("tier_price needs one more entry than tier_kwh")
        if len(self.season) != 12:
            raise ValueError("season needs 12 monthly factors")


def _by_key(archetypes, **changes) -> tuple[Archetype, ...]:
    """Defaults with per-key field changes; keys not mentioned are dropped."""
    base = {a.key: a for a in archetypes}
    return tuple(replace(base[k], **kw) for k, kw in changes.items())


def _china() -> Market:
    return Market(
        key="cn",
        archetypes=_cn(),
        urban_regions=(
            "城东供电所",
            "城西供电所",
            "城南供电所",
            "城北供电所",
            "高新区供电所",
        ),
        rural_regions=("东乡供电所", "西山供电所", "南湖镇供电所", "北岭镇供电所"),
        urban_other={
            "sgcc_app": 0.25,
            "alipay": 0.2,
            "wechat": 0.2,
            "mobile_banking": 0.08,
            "counter": 0.08,
            "utility_kiosk": 0.06,
            "bank_kiosk": 0.05,
            "bank_counter": 0.04,
            "unionpay": 0.04,
        },
        rural_other={
            "agent_outlet": 0.22,
            "counter": 0.2,
            "wechat": 0.18,
            "postal": 0.1,
            "alipay": 0.1,
            "sgcc_app": 0.1,
            "door_to_door": 0.05,
            "temp_point": 0.05,
        },
        # China Southern Grid and State Grid roll a due date off a holiday in practice.
        calendar=BillingCalendar(roll_due=True),
    )


def _us() -> Market:
    # DOMAIN.md, US electric customers 2017: autopay 35%, utility website 33%,
    # mail 21%, walk-in 14% (a multi-answer survey: normalised here).
    web = {"web": 1.0}
    return Market(
        key="us",
        archetypes=_by_key(
            _cn(),
            auto_debit={"share": 0.34, "channels": {"card_debit": 1.0}},
            prompt_online={"share": 0.20, "channels": web, "payday_share": 0.2},
            deadline={"share": 0.10, "channels": {"web": 0.7, "mail": 0.3}},
            counter_loyal={
                "share": 0.30,
                "channels": {"mail": 0.6, "counter": 0.4},
                "migrate_to": web,
            },
            chronic_late={
                "share": 0.04,
                "channels": {"web": 0.5, "mail": 0.3, "counter": 0.2},
            },
            dormant={"share": 0.02, "channels": web},
        ),
        urban_regions=("Metro North", "Metro South", "Suburban East", "Suburban West"),
        rural_regions=("Rural Valley", "Rural Hills"),
        urban_other={"web": 0.6, "card_debit": 0.2, "mail": 0.1, "counter": 0.1},
        rural_other={"mail": 0.45, "web": 0.3, "counter": 0.25},
        calendar=BillingCalendar(due=21, holidays=None),
        tier_kwh=(),
        tier_price=(0.16,),
        season=(1.25, 1.15, 1.0, 0.9, 0.95, 1.2, 1.45, 1.45, 1.2, 0.9, 0.95, 1.15),
        kwh_scale=4.5,
        late_fee_rate=0.0005,
        min_late_fee=0.0,
        currency="USD",
    )


def _uk() -> Market:
    # DOMAIN.md, UK: over half on direct debit, about 15% on prepayment meters,
    # about 5% of accounts in debt.
    web = {"web": 1.0}
    return Market(
        key="uk",
        archetypes=_by_key(
            _cn(),
            auto_debit={"share": 0.55, "channels": {"entrusted_debit": 1.0}},
            prompt_online={"share": 0.13, "channels": web},
            deadline={"share": 0.05, "channels": {"web": 0.8, "mail": 0.2}},
            counter_loyal={
                "share": 0.05,
                "channels": {"counter": 0.5, "mail": 0.5},
                "migrate_to": web,
            },
            chronic_late={"share": 0.05, "channels": {"web": 0.6, "counter": 0.4}},
            prepaid_frequent={
                "share": 0.10,
                "channels": {"prepay_meter": 0.8, "web": 0.2},
                "topup_amount": (10.0, 25.0),
                "topup_round": 5.0,
                "topup_threshold": (2.0, 8.0),
            },
            prepaid_occasional={
                "share": 0.05,
                "channels": {"prepay_meter": 1.0},
                "topup_amount": (60.0, 150.0),
                "topup_round": 10.0,
                "topup_threshold": (5.0, 15.0),
            },
            dormant={"share": 0.02, "channels": web},
        ),
        urban_regions=("London", "Midlands", "North West", "South East"),
        rural_regions=("Rural Wales", "Highlands"),
        urban_other={"web": 0.6, "entrusted_debit": 0.2, "counter": 0.1, "mail": 0.1},
        rural_other={"web": 0.4, "counter": 0.3, "mail": 0.3},
        calendar=BillingCalendar(due=14, holidays=None),
        tier_kwh=(),
        tier_price=(0.25,),
        season=(1.35, 1.25, 1.1, 0.95, 0.85, 0.8, 0.8, 0.8, 0.85, 1.0, 1.2, 1.35),
        kwh_scale=1.2,
        late_fee_rate=0.0,
        min_late_fee=0.0,
        currency="GBP",
    )


MARKETS = MappingProxyType({"cn": _china, "us": _us, "uk": _uk})


def get_market(market) -> Market:
    """Return a :class:`Market` by key (or pass a Market through).

    Examples
    --------
    >>> get_market("uk").currency
    'GBP'
    """
    if isinstance(market, Market):
        return market
    if market not in MARKETS:
        raise ValueError(f"market must be one of {sorted(MARKETS)}, got {market!r}")
    return MARKETS[market]()


def default_archetypes(market: str = "cn") -> dict[str, Archetype]:
    """The default archetype specs of a market, keyed by archetype.

    Parameters
    ----------
    market : {"cn", "us", "uk"}, default "cn"

    Returns
    -------
    dict of str to Archetype
        A fresh dict: edit it, or pass ``{key: share}`` to ``generate`` to change
        shares only.

    Examples
    --------
    >>> specs = default_archetypes()
    >>> list(specs)[:3]
    ['auto_debit', 'prompt_online', 'deadline']
    >>> round(sum(a.share for a in specs.values()), 6)
    1.0
    """
    return {a.key: a for a in get_market(market).archetypes}
