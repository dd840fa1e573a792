"""Predictive scores: BG/NBD, Gamma-Gamma and CLV on hand-made customers whose answer is
known, and the whole dbt pipeline on CDNOW, which must reproduce Fader, Hardie & Lee (2005)."""

from __future__ import annotations

import csv
import importlib.util
import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml
from scipy.special import beta, gamma, hyp2f1

from cdp.dbt_runner import run_dbt
from cdp.errors import CdpError, PredictiveError
from cdp.load import load_landing
from cdp.predictive import bgnbd, clv, gamma_gamma
from cdp.project import Project
from cdp.source_config import raw_tables

from .conftest import PROJECT_ROOT
from .identity_fixtures import identity_config, shop_customer, write_landing

# Published: BG/NBD in Fader, Hardie & Lee (2005, Marketing Science), Gamma-Gamma in Fader,
# Hardie & Lee (2005, JMR) / Fader & Hardie (2013), both on the 2,357-customer CDNOW sample
# calibrated on 1997-01-01..1997-09-30 in weeks.
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_BGNBD_LL = -9582.4
CDNOW_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
CDNOW_AS_OF = "1997-09-30"


def cdnow_sample() -> Path:
    """lifetimes' copy of CDNOW_sample.txt, found without importing lifetimes (it does not
    import under pandas 3)."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec and spec.submodule_search_locations, "lifetimes is a dev dependency: run make setup"
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "CDNOW_sample.txt"
    assert path.is_file(), path
    return path


def cdnow_landing(folder: Path) -> Path:
    """CDNOW's raw transactions as the shop's landing files: one account per customer and one
    completed USD order per transaction (customer id, id2, YYYYMMDD, CDs, dollars)."""
    orders, first_seen = [], {}
    for number, line in enumerate(cdnow_sample().read_text().splitlines()):
        customer, _, day, _, dollars = line.split()
        ordered_at = f"{day[:4]}-{day[4:6]}-{day[6:]} 12:00:00"
        first_seen.setdefault(customer, ordered_at)
        orders.append(
            {
                "order_id": f"cdnow-{number:05d}",
                "customer_id": customer,
                "email": None,
                "ordered_at": ordered_at,
                "status": "completed",
                "currency": "USD",
                "total_amount": dollars,
            }
        )
    customers = [
        {
            "customer_id": customer,
            "email": None,
            "first_name": None,
            "last_name": None,
            "phone": None,
            "loyalty_id": None,
            "street_address": None,
            "city": None,
            "postcode": None,
            "country": "US",
            "created_at": created_at,
        }
        for customer, created_at in first_seen.items()
    ]
    return write_landing(folder, {"shop_customers": customers, "shop_orders": orders})


def customer_config(**predictive: object) -> dict:
    config = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]["cdp_customer"]
    config["predictive"].update(predictive)
    return config


def build_predictions(project: Project, as_of: str, time_unit: str = "week") -> str:
    """Builds the prediction marts and everything upstream (no Splink: hand-made and CDNOW
    records have no names or addresses to compare); returns dbt's output."""
    identity = identity_config(PROJECT_ROOT)
    identity["probabilistic"]["enabled"] = False
    customer = customer_config(time_unit=time_unit) | {"as_of": as_of}
    result = run_dbt(
        project,
        [
            "build",
            "--select",
            "+customer_prediction_params +customer_predictions",
            "--indirect-selection",
            "cautious",  # not the staging tests that read the unselected quarantine models
            "--vars",
            json.dumps({"cdp_identity": identity, "cdp_customer": customer}),
        ],
        capture=True,
    )
    assert result.ok, result.output[-5000:]
    return result.output


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """CDNOW loaded as raw shop data and built by our models up to the prediction marts."""
    root = tmp_path_factory.mktemp("cdnow")
    project = Project(PROJECT_ROOT, root / "warehouse.duckdb")
    load_landing(cdnow_landing(root / "landing"), project.warehouse, raw_tables(PROJECT_ROOT))
    build_predictions(project, CDNOW_AS_OF)
    return project


def _query(project: Project, sql: str) -> list[tuple]:
    with duckdb.connect(str(project.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_cdnow_summary_matches_the_papers(cdnow: Project) -> None:
    """Our purchase summary of the raw transactions is, customer by customer, the summary the
    paper was fitted on (lifetimes ships it as cdnow_customers_summary_with_transactions.csv,
    numbered by CDNOW's second id column): x, t_x, T in weeks and zbar, to the csv's 2 decimals."""
    paper_ids = {}
    for line in cdnow_sample().read_text().splitlines():
        customer, number, *_ = line.split()
        paper_ids[customer] = int(number)
    with (cdnow_sample().parent / "cdnow_customers_summary_with_transactions.csv").open() as handle:
        paper = {int(row["ID"]): row for row in csv.DictReader(handle)}
    ours = _query(
        cdnow,
        """select r.record_id, s.frequency, s.recency, s.customer_age, coalesce(s.monetary_value, 0)
           from customer.int_customer__purchase_summary as s
           join identity.customer_records as r
             on r.customer_id = s.customer_id and r.source_table = 'shop_customers'""",
    )
    assert len(ours) == len(paper) == 2357
    mismatched = [
        (customer, x, t_x, big_t, m_x, paper[paper_ids[customer]])
        for customer, x, t_x, big_t, m_x in ours
        if x != int(paper[paper_ids[customer]]["x"])
        # the csv rounds to 2 decimals (half up): 0.005 and a little float noise
        or not np.allclose(
            [t_x, big_t, m_x],
            [float(paper[paper_ids[customer]][k]) for k in ("t_x", "T", "zbar")],
            rtol=0,
            atol=0.00501,
        )
    ]
    assert mismatched == [], f"{len(mismatched)} customers differ from the paper's summary: {mismatched[:3]}"
    assert sum(x for _, x, *_ in ours) == 2457  # repeat purchases in the calibration period


def test_cdnow_fit_reproduces_fader_hardie_lee(cdnow: Project) -> None:
    rows = _query(
        cdnow,
        """select model_name, parameter_name, parameter_value, log_likelihood, customers,
                  time_unit, as_of_date
           from customer.customer_prediction_params""",
    )
    fitted = {(model, name): value for model, name, value, *_ in rows}
    for name, published in CDNOW_BGNBD.items():
        tolerance = 0.02 if name == "alpha" else 0.005
        assert fitted[("bg_nbd", name)] == pytest.approx(published, abs=tolerance), name
    for name, published in CDNOW_GAMMA_GAMMA.items():
        tolerance = 0.1 if name == "v" else 0.05
        assert fitted[("gamma_gamma", name)] == pytest.approx(published, abs=tolerance), name
    meta = {model: (ll, customers, unit, str(day)) for model, _, _, ll, customers, unit, day in rows}
    assert meta["bg_nbd"][0] == pytest.approx(CDNOW_BGNBD_LL, abs=0.5)
    assert meta["bg_nbd"][1:] == (2357, "week", CDNOW_AS_OF)
    assert meta["gamma_gamma"][1] == 946


def test_cdnow_predictions(cdnow: Project) -> None:
    """FHL (2005) section 4: customer 1 (x = 2, t_x = 30.43, T = 38.86) is expected to make
    1.226 purchases in the next 39 weeks. The mart holds the 12-month (360-day) figure."""
    params = bgnbd.BgNbdParams(
        **dict(zip(bgnbd.PARAMETERS, _bgnbd_params(cdnow), strict=True)), log_likelihood=np.nan, n=0
    )
    customer_1 = ([2], [213 / 7], [272 / 7])  # days between 1997-01-01, -08-02 and -09-30
    assert bgnbd.expected_purchases(params, 39, *customer_1)[0] == pytest.approx(1.226, abs=0.001)
    [(x, expected, alive, churn, order_value, value)] = _query(
        cdnow,
        """select p.frequency, p.expected_purchases, p.probability_alive, p.churn_risk,
                  p.expected_order_value, p.predicted_clv
           from customer.customer_predictions as p
           join identity.customer_records as r
             on r.customer_id = p.customer_id and r.source_table = 'shop_customers'
           where r.record_id = '00004'""",
    )
    assert x == 2
    assert expected == pytest.approx(bgnbd.expected_purchases(params, 360 / 7, *customer_1)[0])
    assert alive == pytest.approx(bgnbd.probability_alive(params, *customer_1)[0])
    assert alive + churn == pytest.approx(1)
    assert 0 < alive < 1
    assert 0 < float(value) < float(order_value) * expected  # discounted
    assert _query(cdnow, "select count(*) from customer.customer_predictions") == [(2357,)]


def _bgnbd_params(project: Project) -> list[float]:
    fitted = dict(
        _query(
            project,
            """select parameter_name, parameter_value from customer.customer_prediction_params
               where model_name = 'bg_nbd'""",
        )
    )
    return [fitted[name] for name in bgnbd.PARAMETERS]


# Hand-made customers.

PARAMS = bgnbd.BgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5, log_likelihood=np.nan, n=0)
SPEND = gamma_gamma.GammaGammaParams(p=6.0, q=4.0, v=15.0, log_likelihood=np.nan, n=0)


def test_probability_alive_is_one_without_repeat_purchases() -> None:
    alive = bgnbd.probability_alive(PARAMS, [0, 0, 3], [0.0, 0.0, 5.0], [10.0, 50.0, 50.0])
    assert alive[:2].tolist() == [1.0, 1.0]
    assert 0 < alive[2] < 1


def test_bgnbd_log_likelihood_is_the_formula() -> None:
    """Equation 6 of FHL (2005), written out with plain gamma and beta functions."""
    r, alpha, a, b = 0.5, 3.0, 1.2, 2.0
    # Frequencies repeat, out of order: the special functions are computed per distinct one.
    customers = [(3, 7.5, 9.0), (0, 0.0, 10.0), (1, 4.0, 12.0), (3, 2.0, 20.0), (0, 0.0, 1.0), (1, 1.0, 3.0)]
    expected = []
    for x, t_x, big_t in customers:
        head = gamma(r + x) * alpha**r / gamma(r)
        likelihood = beta(a, b + x) / beta(a, b) * head / (alpha + big_t) ** (r + x)
        if x > 0:
            likelihood += beta(a + 1, b + x - 1) / beta(a, b) * head / (alpha + t_x) ** (r + x)
        expected.append(np.log(likelihood))
    columns = [np.array(column, dtype=float) for column in zip(*customers, strict=True)]
    assert bgnbd.log_likelihood_rows(r, alpha, a, b, *columns) == pytest.approx(expected, rel=1e-12)
    params = bgnbd.BgNbdParams(r, alpha, a, b, log_likelihood=np.nan, n=0)
    assert bgnbd.log_likelihood(params, *columns) == pytest.approx(sum(expected), rel=1e-12)


def test_gamma_gamma_log_likelihood_is_the_formula() -> None:
    p, q, v = 2.0, 3.0, 10.0
    # Frequencies repeat, out of order; the last customer has no repeat purchases: left out.
    customers = [(4, 35.5), (1, 20.0), (4, 12.0), (1, 7.25), (0, 0.0)]
    expected = [
        np.log(
            gamma(p * x + q)
            / (gamma(p * x) * gamma(q))
            * v**q
            * m ** (p * x - 1)
            * x ** (p * x)
            / (v + x * m) ** (p * x + q)
        )
        for x, m in customers[:-1]
    ]
    x, m_x = (np.array(column, dtype=float) for column in zip(*customers[:-1], strict=True))
    assert gamma_gamma.log_likelihood_rows(p, q, v, x, m_x) == pytest.approx(expected, rel=1e-12)
    params = gamma_gamma.GammaGammaParams(p, q, v, log_likelihood=np.nan, n=0)
    assert gamma_gamma.log_likelihood(params, *zip(*customers, strict=True)) == pytest.approx(sum(expected))


def test_recent_regular_buyer_is_expected_to_buy_more_than_one_who_stopped() -> None:
    # Both bought 10 times in 52 weeks; one bought last week, the other not since week 10.
    expected = bgnbd.expected_purchases(PARAMS, 52, [10, 10], [51.0, 10.0], [52.0, 52.0])
    alive = bgnbd.probability_alive(PARAMS, [10, 10], [51.0, 10.0], [52.0, 52.0])
    assert expected[0] > 5 * expected[1]
    assert alive[0] > 0.9 > 0.1 > alive[1]


def test_expected_purchases_grow_with_the_horizon() -> None:
    horizons = [bgnbd.expected_purchases(PARAMS, t, [2], [20.0], [30.0])[0] for t in (0, 4, 52, 520)]
    assert horizons[0] == 0
    assert horizons == sorted(horizons)
    assert horizons[1] > 0


def _expected_purchases_of_one(
    params: bgnbd.BgNbdParams, t: float, x: float, t_x: float, big_t: float
) -> float:
    """FHL (2005) equation 10 for one customer, term by term with scalar scipy calls."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
    while_alive = (a + b + x - 1) / (a - 1) * (1 - ((alpha + big_t) / (alpha + big_t + t)) ** (r + x) * hyp)
    odds = a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x) if x > 0 else 0.0
    return while_alive / (1 + odds)


def test_expected_purchases_of_customers_sharing_a_frequency_and_age_keep_their_own_recency() -> None:
    """expected_purchases computes the hypergeometric term once per distinct (frequency,
    customer_age): customers sharing one, in any order, still get their own value."""
    rng = np.random.default_rng(7)
    ages = rng.choice([30.0, 52.0, 80.5], size=300)
    frequency = rng.integers(0, 6, size=300).astype(float)
    recency = np.where(frequency > 0, rng.uniform(0, 1, size=300) * ages, 0.0)
    by_horizon = bgnbd.expected_purchases_by_horizon(PARAMS, [4.0, 52.0], frequency, recency, ages)
    for t, values in zip([4.0, 52.0], by_horizon, strict=True):
        expected = [
            _expected_purchases_of_one(PARAMS, t, *customer)
            for customer in zip(frequency, recency, ages, strict=True)
        ]
        assert values == pytest.approx(expected, rel=1e-12)
    assert len({(x, big_t) for x, big_t in zip(frequency, ages, strict=True)}) < 30 < len(set(by_horizon[1]))


def test_clv_is_discounted() -> None:
    args = (PARAMS, np.array([40.0, 40.0]), [3, 0], [20.0, 0.0], [30.0, 30.0])
    undiscounted = clv.customer_lifetime_value(
        *args, time_unit="week", horizon_months=12, monthly_discount_rate=0.0
    )
    discounted = clv.customer_lifetime_value(
        *args, time_unit="week", horizon_months=12, monthly_discount_rate=0.01
    )
    assert np.all(discounted < undiscounted)
    # Undiscounted, CLV is the expected purchases over 12 months of 30 days times the value.
    purchases = bgnbd.expected_purchases(PARAMS, 12 * 30 / 7, *args[2:])
    assert undiscounted == pytest.approx(purchases * 40.0)


def test_clv_in_days_equals_clv_in_weeks_for_the_same_customer() -> None:
    """The month conversion follows the unit: a day-fitted model is the week one with alpha/7."""
    daily = bgnbd.BgNbdParams(PARAMS.r, PARAMS.alpha * 7, PARAMS.a, PARAMS.b, log_likelihood=np.nan, n=0)
    value = np.array([25.0])
    kwargs = {"horizon_months": 6, "monthly_discount_rate": 0.02}
    weeks = clv.customer_lifetime_value(PARAMS, value, [4], [10.0], [20.0], time_unit="week", **kwargs)
    days = clv.customer_lifetime_value(daily, value, [4], [70.0], [140.0], time_unit="day", **kwargs)
    assert days == pytest.approx(weeks)


def test_expected_order_value_shrinks_towards_the_population_mean() -> None:
    population = SPEND.p * SPEND.v / (SPEND.q - 1)
    values = gamma_gamma.expected_order_value(SPEND, [0, 1, 50], [np.nan, 100.0, 100.0])
    assert values[0] == pytest.approx(population)
    assert population < values[1] < values[2] < 100.0


def _simulate_bgnbd(
    rng: np.random.Generator, rates: np.ndarray, dropout: np.ndarray, big_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(x, t_x) of customers buying at Poisson ``rates`` from time 0 who drop out with
    probability ``dropout`` after each repeat purchase, observed until ``big_t``."""
    x, t_x = np.zeros(len(rates)), np.zeros(len(rates))
    for i in range(len(rates)):
        t = 0.0
        while True:
            t += rng.exponential(1 / rates[i])
            if t > big_t[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < dropout[i]:
                break
    return x, t_x


def test_fit_recovers_simulated_parameters() -> None:
    """Customers simulated from known BG/NBD parameters fit back to them."""
    rng = np.random.default_rng(0)
    true = {"r": 0.6, "alpha": 5.0, "a": 1.5, "b": 4.0}
    n = 20_000
    big_t = rng.uniform(10, 52, n)
    x, t_x = _simulate_bgnbd(
        rng, rng.gamma(true["r"], 1 / true["alpha"], n), rng.beta(true["a"], true["b"], n), big_t
    )
    fitted = bgnbd.fit(x, t_x, big_t)
    for name, value in true.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.1), name
    assert fitted.n == n
    assert fitted.log_likelihood == pytest.approx(bgnbd.log_likelihood(fitted, x, t_x, big_t))


def test_fit_stops_at_the_limit_when_everyone_drops_out_alike() -> None:
    """With one drop-out probability for all, the likelihood rises forever as a and b grow
    at a fixed a/(a+b) (generated shop data looks like this): the fit must stop there, not
    fail, and keep the mean drop-out probability."""
    rng = np.random.default_rng(1)
    n = 5_000
    big_t = rng.uniform(10, 150, n)
    x, t_x = _simulate_bgnbd(rng, rng.gamma(0.8, 1 / 20, n), np.full(n, 0.05), big_t)
    fitted = bgnbd.fit(x, t_x, big_t)
    mean = fitted.a / (fitted.a + fitted.b)
    assert mean == pytest.approx(0.05, rel=0.2)
    # Next to no spread of drop-out probabilities (the Beta's standard deviation), not a + b
    # past a fixed size: the likelihood is so flat along a/(a+b) that where the optimiser
    # stops depends on the machine's rounding (a + b was 597 on one, over 1,000 on others).
    spread = np.sqrt(fitted.a * fitted.b / ((fitted.a + fitted.b) ** 2 * (fitted.a + fitted.b + 1)))
    assert spread < 0.3 * mean, fitted
    alive = bgnbd.probability_alive(fitted, x, t_x, big_t)
    assert np.all((alive > 0) & (alive <= 1))


@pytest.mark.parametrize(("seed", "n"), [(0, 600), (1, 300), (5, 300)])
def test_fit_accepts_the_flat_plateau_near_the_limit(seed: int, n: int) -> None:
    """Few customers who drop out alike: the fit ends on a plateau (a and b in the tens of
    thousands) where the mean log-likelihood only moves by its rounding noise, ~1e-9, in
    every direction. These samples made the optimiser run out of evaluations and the build
    fail (an erased person's rebuild on the sample data did); they must fit."""
    rng = np.random.default_rng(seed)
    big_t = rng.uniform(10, 150, n)
    x, t_x = _simulate_bgnbd(rng, rng.gamma(0.8, 1 / 20, n), np.full(n, 0.05), big_t)
    fitted = bgnbd.fit(x, t_x, big_t)
    assert 0.01 < fitted.a / (fitted.a + fitted.b) < 0.2
    alive = bgnbd.probability_alive(fitted, x, t_x, big_t)
    assert np.all((alive > 0) & (alive <= 1))


def test_no_repeat_buyers_is_a_clear_error() -> None:
    with pytest.raises(PredictiveError, match="bg_nbd: none of the 3 customers bought more than once"):
        bgnbd.fit([0, 0, 0], [0.0, 0.0, 0.0], [5.0, 9.0, 12.0])
    with pytest.raises(PredictiveError, match="gamma_gamma: 0 customer"):
        gamma_gamma.fit([0, 0], [np.nan, np.nan])
    with pytest.raises(CdpError, match="bg_nbd: no customers"):
        bgnbd.fit([], [], [])


def test_a_shop_without_repeat_buyers_builds_with_the_reason_and_null_scores(tmp_path: Path) -> None:
    """Three customers, one purchase day each (two orders on one day are one purchase): the
    build passes with a warning, fit_status says why, and the scores are null."""
    orders = [
        ("o-1", "501", "2025-03-01 10:00:00"),
        ("o-2", "501", "2025-03-01 18:00:00"),
        ("o-3", "502", "2025-04-01 10:00:00"),
        ("o-4", "503", "2025-05-01 10:00:00"),
    ]
    landing = write_landing(
        tmp_path / "landing",
        {
            "shop_orders": [
                {
                    "order_id": order_id,
                    "customer_id": customer,
                    "email": None,
                    "ordered_at": ordered_at,
                    "status": "completed",
                    "currency": "USD",
                    "total_amount": "20.00",
                }
                for order_id, customer, ordered_at in orders
            ],
            "shop_customers": [
                shop_customer(customer, None, "Ann", f"Lee{customer}", "2025-01-01 10:00:00")
                for customer in ("501", "502", "503")
            ],
        },
    )
    project = Project(PROJECT_ROOT, tmp_path / "warehouse.duckdb")
    load_landing(landing, project.warehouse, raw_tables(PROJECT_ROOT))
    output = build_predictions(project, "2025-06-30")
    assert "fit_status" in output and "WARN=1" in output, output[-3000:]
    statuses = dict(
        _query(project, "select distinct model_name, fit_status from customer.customer_prediction_params")
    )
    assert statuses["bg_nbd"].startswith("not fitted: bg_nbd: none of the 3 customers bought more than once")
    assert statuses["gamma_gamma"].startswith("not fitted: gamma_gamma: 0 customer(s) bought again")
    assert _query(
        project,
        """select count(*), count(parameter_value), sum(customers), min(as_of_date)
           from customer.customer_prediction_params""",
    ) == [(7, 0, 0, date(2025, 6, 30))]
    assert _query(
        project,
        """select count(*), sum(frequency), count(probability_alive), count(expected_purchases),
                  count(expected_order_value), count(predicted_clv)
           from customer.customer_predictions""",
    ) == [(3, 0, 0, 0, 0, 0)]


def test_impossible_summary_is_a_clear_error() -> None:
    with pytest.raises(PredictiveError, match=r"impossible summary.*recency 12\.0, customer_age 10\.0"):
        bgnbd.fit([1, 2], [12.0, 3.0], [10.0, 9.0])
