"""Emits the raw records each source system holds about one person, with noise."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cdp.generate import noise
from cdp.generate.ids import hex_id, record_id
from cdp.generate.noise import NoiseRates
from cdp.generate.people import Address, Person

CURRENCY = {"US": "USD", "GB": "GBP"}
KIOSK_DEVICES = tuple(f"kiosk-store-{n:03d}" for n in range(20))  # shared in-store tablets
EMAIL_PURPOSES = ("email_marketing", "sms_marketing", "personalised_ads", "analytics")
CONSENT_SOURCES = ("web_form", "shop_checkout", "crm_import", "preference_centre")
TICKET_SUBJECTS = (
    "Where is my order?",
    "Return request",
    "Damaged item",
    "Change address",
    "Discount code not working",
    "Cancel my order",
    "Size exchange",
)
PAGES = ("/", "/sale", "/new-in", "/women", "/men", "/home", "/search", "/account")


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: float


@functools.lru_cache(maxsize=2)  # pure in seed; each worker process builds it once
def build_catalog(seed: int) -> tuple[Product, ...]:
    rng = random.Random(f"catalog-{seed}")
    kinds = (
        "T-shirt",
        "Hoodie",
        "Sneakers",
        "Jeans",
        "Backpack",
        "Scarf",
        "Mug",
        "Lamp",
        "Candle",
        "Notebook",
    )
    colours = ("Black", "White", "Navy", "Olive", "Sand")
    return tuple(
        Product(f"SKU-{i:04d}", f"{colours[i % 5]} {kind}", round(rng.uniform(8, 140), 2))
        for i, kind in enumerate(k for k in kinds for _ in range(5))
    )


@dataclass
class Batch:
    """Columns of one chunk of rows per table, plus ground truth rows."""

    rows: dict[str, list[dict[str, str | None]]] = field(default_factory=dict)
    truth: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(
        self,
        table: str,
        row: dict[str, str | None],
        person: Person | None,
        rng: random.Random,
        rates: NoiseRates,
        key: str,
        anonymous: bool = False,
    ) -> None:
        """``anonymous``: nothing in the data ties the record to its person (see TRUTH_COLUMNS)."""
        self.rows.setdefault(table, []).append(row)
        if rng.random() < rates.duplicate_row:  # at-least-once delivery re-sends rows
            self.rows[table].append(dict(row))
        if person is not None and row[key]:
            self.truth.append((table, row[key], person.person_id, "true" if anonymous else "false"))


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


@dataclass
class Emitter:
    rng: random.Random
    rates: NoiseRates
    as_of: datetime
    catalog: tuple[Product, ...]
    batch: Batch

    # -- shared renderings ------------------------------------------------------------
    def email(self, person: Person, missing: float = 0.0) -> str | None:
        roll = self.rng.random()
        if roll < missing:
            return None
        if roll < missing + self.rates.junk_value:
            return self.rng.choice(noise.JUNK_EMAILS)
        if roll < missing + self.rates.junk_value + self.rates.broken_email:
            return noise.broken_email(self.rng, person.email)
        return noise.email_variant(self.rng, person.email, self.rates)

    def phone(self, person: Person, national_ok: bool, missing: float = 0.0) -> str | None:
        roll = self.rng.random()
        if roll < missing:
            return None
        if roll < missing + self.rates.junk_value:
            return self.rng.choice(noise.JUNK_PHONES)
        return noise.phone_variant(self.rng, person.phone_renderings, national_ok)

    def first_name(self, person: Person) -> str:
        if self.rng.random() < self.rates.junk_value:
            return self.rng.choice(noise.JUNK_NAMES)
        return noise.first_name_variant(self.rng, person.first_name, self.rates)

    def last_name(self, person: Person) -> str:
        return noise.name_variant(self.rng, person.last_name, self.rates)

    def address(self, person: Person, older_system: bool) -> Address:
        moved = person.previous_address is not None and older_system
        return person.previous_address if moved else person.address  # type: ignore[return-value]

    def malformed(self) -> bool:
        return self.rng.random() < self.rates.malformed_row

    def bad_timestamp(self) -> str:
        return self.rng.choice(noise.BAD_TIMESTAMPS)

    # -- sources ----------------------------------------------------------------------
    def crm_contacts(self, person: Person) -> None:
        if self.rng.random() > 0.75:
            return
        copies = 2 if self.rng.random() < 0.08 else 1  # CRM duplicates entered by hand
        for ordinal in range(copies):
            created = _between(self.rng, person.first_seen - timedelta(days=400), person.first_seen)
            address = self.address(person, older_system=True)
            row = {
                "contact_id": f"003{record_id(11, person.index, ordinal):012X}",
                "first_name": self.first_name(person),
                "last_name": self.last_name(person),
                "email": self.email(person, missing=0.08),
                "phone": self.phone(person, national_ok=True, missing=0.2),
                "date_of_birth": person.date_of_birth.isoformat() if self.rng.random() < 0.6 else None,
                "street_address": address.street,
                "city": address.city,
                "postcode": address.postcode,
                "country": person.country,
                "created_at": ts(created),
                "updated_at": ts(_between(self.rng, created, self.as_of)),
            }
            if self.malformed():
                row[self.rng.choice(("date_of_birth", "created_at"))] = self.rng.choice(noise.BAD_DATES)
            self.batch.add("crm_contacts", row, person, self.rng, self.rates, "contact_id")

    def shop_customers(self, person: Person) -> list[str]:
        """Returns the shop customer ids (a few people open a second account)."""
        if self.rng.random() > 0.6:
            return []
        accounts = 2 if self.rng.random() < 0.03 else 1
        ids = []
        for ordinal in range(accounts):
            customer_id = str(record_id(22, person.index, ordinal))
            created = _between(self.rng, person.first_seen, person.first_seen + timedelta(days=30))
            address = self.address(person, older_system=False)
            row = {
                "customer_id": customer_id,
                "email": self.email(person),
                "first_name": self.first_name(person),
                "last_name": self.last_name(person),
                "phone": self.phone(person, national_ok=True, missing=0.4),
                "loyalty_id": f"LY{record_id(23, person.index, ordinal) % 10**10:010d}"
                if self.rng.random() < 0.3
                else None,
                "street_address": address.street,
                "city": address.city,
                "postcode": address.postcode,
                "country": person.country,
                "created_at": ts(min(created, self.as_of)),
            }
            if self.malformed():
                row["created_at"] = self.bad_timestamp()
            self.batch.add("shop_customers", row, person, self.rng, self.rates, "customer_id")
            ids.append(customer_id)
        return ids

    def shop_orders(self, person: Person, customer_ids: list[str]) -> None:
        rate = person.orders_per_year if customer_ids else 0.15  # guests buy rarely
        moment, ordinal = person.first_seen, 0
        while True:
            gap_days = self.rng.expovariate(max(rate, 1e-3)) * 365
            # A rare buyer's next order can fall millennia ahead, past what datetime holds.
            if gap_days > (person.active_until - moment).total_seconds() / 86400 or ordinal >= 60:
                return
            moment += timedelta(days=gap_days)
            self._order(person, customer_ids, moment, ordinal)
            ordinal += 1

    def _order(self, person: Person, customer_ids: list[str], moment: datetime, ordinal: int) -> None:
        order_id = hex_id("ord_", 33, person.index, ordinal)
        total = 0.0
        for line in range(1 + min(int(self.rng.expovariate(1 / person.basket_size)), 6)):
            product = self.rng.choice(self.catalog)
            quantity = 1 if self.rng.random() < 0.8 else self.rng.randint(2, 4)
            total += quantity * product.price
            line_row = {
                "order_line_id": f"{order_id}-{line + 1}",
                "order_id": order_id,
                "sku": product.sku,
                "product_name": product.name,
                "quantity": str(quantity),
                "unit_price": f"{product.price:.2f}",
            }
            if self.malformed():
                line_row[self.rng.choice(("quantity", "unit_price"))] = self.rng.choice(("-1", "abc", ""))
            self.batch.add("shop_order_lines", line_row, person, self.rng, self.rates, "order_line_id")
        status = self.rng.choices(("completed", "refunded", "cancelled"), (0.9, 0.06, 0.04))[0]
        row = {
            "order_id": order_id,
            "customer_id": self.rng.choice(customer_ids) if customer_ids else None,
            "email": self.email(person, missing=0.3 if customer_ids else 0.0),
            "ordered_at": ts(moment),
            "status": status,
            "currency": CURRENCY.get(person.country, "EUR"),
            "total_amount": f"{total:.2f}",
        }
        if self.malformed():
            if self.rng.random() < 0.5:
                row["total_amount"] = f"-{total:.2f}"
            else:
                row["ordered_at"] = self.bad_timestamp()
        self.batch.add("shop_orders", row, person, self.rng, self.rates, "order_id")

    def web_events(self, person: Person, customer_ids: list[str]) -> None:
        if self.rng.random() > 0.7:
            return
        if not person.devices:
            person.devices = [hex_id("anon_", 44, person.index, d) for d in range(self.rng.randint(1, 3))]
        rows: list[dict[str, str | None]] = []
        for _session in range(1 + int(self.rng.expovariate(0.5))):
            in_store = self.rng.random() < self.rates.shared_store_device
            device = self.rng.choice(KIOSK_DEVICES) if in_store else self.rng.choice(person.devices)
            platform = "kiosk" if in_store else self.rng.choice(("web", "web", "ios", "android"))
            moment = _between(self.rng, person.first_seen, person.active_until)
            user_id = None
            logs_in = bool(customer_ids) and (in_store or self.rng.random() < 0.5)
            for step in range(self.rng.randint(1, 5)):
                if logs_in and step == 1:
                    user_id = self.rng.choice(customer_ids)
                event_type = (
                    "login"
                    if logs_in and step == 1
                    else self.rng.choice(("page_view", "page_view", "product_view", "add_to_cart"))
                )
                moment += timedelta(seconds=self.rng.randint(5, 300))
                late = self.rng.random() < self.rates.late_event
                received = moment + (
                    timedelta(hours=self.rng.randint(1, 96))
                    if late
                    else timedelta(seconds=self.rng.randint(0, 5))
                )
                rows.append(
                    {
                        "event_id": hex_id("evt_", 55, person.index, len(rows)),
                        "anonymous_id": device,
                        "user_id": user_id,
                        "event_type": event_type,
                        "event_at": iso_z(moment),
                        "received_at": iso_z(received),
                        "page_path": self.rng.choice(PAGES),
                        "platform": platform,
                    }
                )
        # A device ties its events to the person only if the person logged in on it once;
        # a shared kiosk never does.
        own_logins = {r["anonymous_id"] for r in rows if r["user_id"] and r["platform"] != "kiosk"}
        for row in rows:
            anonymous = row["user_id"] is None and row["anonymous_id"] not in own_logins
            if self.malformed():
                row["event_at"] = self.bad_timestamp()
            self.batch.add("web_events", row, person, self.rng, self.rates, "event_id", anonymous)

    def support_tickets(self, person: Person) -> None:
        if self.rng.random() > 0.2:
            return
        for ordinal in range(self.rng.randint(1, 2)):
            first = self.first_name(person)
            row = {
                "ticket_id": str(record_id(66, person.index, ordinal) % 10**12),
                "requester_email": self.email(person, missing=0.05),
                "requester_name": f"{first} {self.last_name(person)}",
                "requester_phone": self.phone(person, national_ok=False, missing=0.7),
                "channel": self.rng.choice(("email", "chat", "phone")),
                "subject": self.rng.choice(TICKET_SUBJECTS),
                "status": self.rng.choice(("open", "pending", "solved", "closed")),
                "created_at": ts(_between(self.rng, person.first_seen, self.as_of)),
            }
            if self.malformed():
                row["created_at"] = self.bad_timestamp()
            self.batch.add("support_tickets", row, person, self.rng, self.rates, "ticket_id")

    def email_engagement(self, person: Person) -> None:
        if self.rng.random() > 0.6:
            return
        address = self.email(person)
        ordinal = 0
        for _campaign in range(self.rng.randint(1, 4)):
            sent = _between(self.rng, person.first_seen, self.as_of)
            campaign = f"cmp-{sent:%Y-%m}-{self.rng.randint(1, 4)}"
            kinds = ["delivered"]
            if self.rng.random() < 0.35:
                kinds.append("open")
                if self.rng.random() < 0.25:
                    kinds.append("click")
            if self.rng.random() < 0.01:
                kinds = ["bounce"]
            elif self.rng.random() < 0.01:
                kinds.append("unsubscribe")
            for kind in kinds:
                sent += timedelta(minutes=self.rng.randint(1, 600))
                row = {
                    "event_id": hex_id("esp_", 77, person.index, ordinal),
                    "email": address,
                    "campaign_id": campaign,
                    "event_type": kind,
                    "event_at": iso_z(sent),
                }
                if self.malformed():
                    row["event_type"] = self.rng.choice(("opne", "clik", ""))
                self.batch.add("email_engagement", row, person, self.rng, self.rates, "event_id")
                ordinal += 1

    def consent_records(self, person: Person) -> None:
        if self.rng.random() > 0.8:
            return
        address = self.email(person)
        ordinal = 0
        for purpose in self.rng.sample(EMAIL_PURPOSES, self.rng.randint(1, 3)):
            moment = _between(self.rng, person.first_seen, self.as_of)
            statuses = [self.rng.choices(("granted", "denied"), (0.75, 0.25))[0]]
            if statuses[0] == "granted" and self.rng.random() < 0.1:
                statuses.append("withdrawn")
            for status in statuses:
                row = {
                    "consent_id": hex_id("cns_", 88, person.index, ordinal),
                    "email": address,
                    "purpose": purpose,
                    "status": status,
                    "source": self.rng.choice(CONSENT_SOURCES),
                    "recorded_at": ts(moment),
                }
                if self.malformed():
                    row[self.rng.choice(("status", "recorded_at"))] = self.rng.choice(("maybe", "N/A"))
                self.batch.add("consent_records", row, person, self.rng, self.rates, "consent_id")
                moment = _between(self.rng, moment, self.as_of)
                ordinal += 1

    def person(self, person: Person) -> None:
        self.crm_contacts(person)
        customer_ids = self.shop_customers(person)
        self.shop_orders(person, customer_ids)
        self.web_events(person, customer_ids)
        self.support_tickets(person)
        self.email_engagement(person)
        self.consent_records(person)
