{#- Each customer's current consent decision per purpose (cdp_customer.consent_purposes):
    the latest record wins; records at the same moment resolve to the most restrictive
    decision (withdrawn, then denied, then granted). Purposes without a record are null. -#}
{%- set purposes = cdp_customer_config().consent_purposes %}

with decisions as (
    select
        records.customer_id,
        consent.purpose,
        consent.status,
        row_number() over (
            partition by records.customer_id, consent.purpose
            order by
                consent.recorded_at desc,
                case consent.status when 'withdrawn' then 1 when 'denied' then 2 else 3 end,
                consent.consent_id asc
        ) as recency_rank
    from {{ ref('stg_consent__records') }} as consent
    inner join {{ ref('customer_records') }} as records
        on records.source_table = 'consent_records' and consent.consent_id = records.record_id
)

select
    customer_id,
    {%- for purpose in purposes %}
        max(case when purpose = '{{ purpose }}' then status end) as {{ purpose }}
        {%- if not loop.last %},{% endif %}
    {%- endfor %}
from decisions
where recency_rank = 1
group by customer_id
