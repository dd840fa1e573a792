{#- Each customer's current consent decision per purpose (cdp_customer.consent_purposes):
    the latest record wins; records at the same moment resolve to the most restrictive
    decision (withdrawn, then denied, then granted). Purposes without a record are null.
    Incremental by customer: a build recomputes only the customers of the records
    customer_records wrote since its last one and those records left
    (customer_records__removed; macros/incremental/touched_customers.sql), and every
    customer when the purposes change (rules_digest). A touched customer left without
    consent records loses its row. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_customers',
    unique_key=['customer_id', '_built_at'],
    on_schema_change='fail',
) }}
{%- set purposes = cdp_customer_config().consent_purposes %}

with
{{ cdp_stamped_customers_ctes(
    "'" ~ local_md5(tojson(purposes)) ~ "'",
    rebuilt='rebuilt_records',
) }},

decisions as (
    select
        rebuilt_records.customer_id,
        consent.purpose,
        consent.status,
        row_number() over (
            partition by rebuilt_records.customer_id, consent.purpose
            order by
                consent.recorded_at desc,
                case consent.status when 'withdrawn' then 1 when 'denied' then 2 else 3 end,
                consent.consent_id asc
        ) as recency_rank
    from {{ ref('stg_consent__records') }} as consent
    inner join rebuilt_records
        on rebuilt_records.source_table = 'consent_records' and consent.consent_id = rebuilt_records.record_id
),

consent as (
    select
        customer_id,
        {%- for purpose in purposes %}
            max(case when purpose = '{{ purpose }}' then status end) as {{ purpose }},
        {%- endfor %}
        cast((select rules.digest from rules) as {{ cdp_type_varchar() }}) as rules_digest
    from decisions
    where recency_rank = 1
    group by customer_id
)

select
    consent.*,
    {{ cdp_run_started_at() }} as _built_at
from consent
{%- if is_incremental() %}

    union all

    -- Touched customers left with no consent record: a row without _built_at deletes theirs.
    select
        touched_customers.customer_id,
        {%- for purpose in purposes %}
            null as {{ purpose }},
        {%- endfor %}
        null as rules_digest,
        null as _built_at
    from touched_customers
    where touched_customers.customer_id not in (select consent.customer_id from consent)
{%- endif %}
