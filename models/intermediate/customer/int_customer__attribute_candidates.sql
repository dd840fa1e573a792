{#- Every value a source record offers for an attribute of the golden record, for every
    customer (macros/customer/attribute_candidates.sql): what int_customer__golden_attributes
    chooses from, which builds the same CTEs for the customers it rebuilds. -#}
{#- Ephemeral, for models written on top: written as a table it cost more to store (11M
    rows at 1M people) than to compute. -#}
{{ config(materialized='ephemeral') }}

with records as (
    select
        source_table,
        record_id,
        customer_id
    from {{ ref('customer_records') }}
),

{{ cdp_attribute_candidates_ctes('records') }}

select * from candidates
