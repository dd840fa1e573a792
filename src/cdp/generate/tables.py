"""The raw tables the generator writes: the shape real exports land in (every column text).

tests/test_generator.py checks these match the dbt ``_sources.yml`` declarations.
"""

RAW_TABLES: dict[str, tuple[str, ...]] = {
    "crm_contacts": (
        "contact_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "date_of_birth",
        "street_address",
        "city",
        "postcode",
        "country",
        "created_at",
        "updated_at",
    ),
    "shop_customers": (
        "customer_id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "loyalty_id",
        "street_address",
        "city",
        "postcode",
        "country",
        "created_at",
    ),
    "shop_orders": ("order_id", "customer_id", "email", "ordered_at", "status", "currency", "total_amount"),
    "shop_order_lines": ("order_line_id", "order_id", "sku", "product_name", "quantity", "unit_price"),
    "web_events": (
        "event_id",
        "anonymous_id",
        "user_id",
        "event_type",
        "event_at",
        "received_at",
        "page_path",
        "platform",
    ),
    "support_tickets": (
        "ticket_id",
        "requester_email",
        "requester_name",
        "requester_phone",
        "channel",
        "subject",
        "status",
        "created_at",
    ),
    "email_engagement": ("event_id", "email", "campaign_id", "event_type", "event_at"),
    "consent_records": ("consent_id", "email", "purpose", "status", "source", "recorded_at"),
}

# Ground truth: which person each source record belongs to. Models never read it.
# anonymous = 'true' where nothing in the data ties the record to its person (web events on a
# device its person never logged in on, or on a shared kiosk before login): no method can
# link those, so `cdp evaluate` also scores the linkable records alone.
TRUTH_COLUMNS = ("source_table", "record_id", "person_id", "anonymous")
PEOPLE_COLUMNS = (
    "person_id",
    "household_id",
    "country",
    "first_name",
    "last_name",
    "email",
    "phone_e164",
    "date_of_birth",
)
