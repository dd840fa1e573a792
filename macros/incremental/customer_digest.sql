{#- Change detection per customer, for models built with incremental_strategy
    replace_customers. The model stores each customer's inputs_digest; a build computes it
    again from the current inputs and rebuilds the customers whose digest differs, appeared
    or disappeared (cdp_touched_customers). -#}

{#- Aggregate: a fingerprint of the customer's input rows (`columns`) that does not depend on
    their order: row count and the sum of 40-bit row hashes (cdp_hash_int). `rules` is the
    configuration the model applies (survivorship, thresholds) as a string: its hash leads
    the digest, so changing the rules rebuilds every customer. -#}
{% macro cdp_customer_digest(columns, rules) -%}
    {{ dbt.concat([
        "'" ~ local_md5(rules)[:12] ~ "-'",
        "cast(count(*) as " ~ dbt.type_string() ~ ")",
        "'-'",
        "cast(sum(" ~ cdp_hash_int(columns) ~ ") as " ~ dbt.type_string() ~ ")",
    ]) }}
{%- endmacro %}

{#- Select: the customers to rebuild. `current_digests` is a relation or CTE of (customer_id,
    inputs_digest) over all current inputs; the stored digests are those {{ this }} holds
    (on at least one row per customer). -#}
{% macro cdp_touched_customers(current_digests) -%}
    select coalesce(current_digests.customer_id, stored_digests.customer_id) as customer_id
    from {{ current_digests }} as current_digests
    full outer join (
        select distinct
            customer_id,
            inputs_digest
        from {{ this }}
        where inputs_digest is not null
    ) as stored_digests
        on current_digests.customer_id = stored_digests.customer_id
    where
        current_digests.customer_id is null
        or stored_digests.customer_id is null
        or current_digests.inputs_digest <> stored_digests.inputs_digest
{%- endmacro %}

{#- CTEs for a model incremental by customer: input_digests (one digest per customer of the
    relation or CTE `inputs`, over `columns`, with `rules`), on an incremental run
    touched_customers, and `rebuilt`: the rows of `inputs` to rank and write (every row in a
    full build; the touched customers' in an incremental one). Ends without a comma. -#}
{% macro cdp_rebuilt_customers_ctes(inputs, columns, rules, rebuilt) -%}
input_digests as (
    select
        customer_id,
        {{ cdp_customer_digest(columns, rules) }} as inputs_digest
    from {{ inputs }}
    group by customer_id
),

{% if is_incremental() %}
    touched_customers as (
        {{ cdp_touched_customers('input_digests') }}
    ),
{% endif %}

{{ rebuilt }} as (
    {{ cdp_rows_of_touched_customers(inputs) }}
)
{%- endmacro %}

{#- Select: the rows of `inputs` (keyed by customer_id) to rebuild: every row in a full
    build, the rows of the customers in the CTE touched_customers in an incremental one. -#}
{% macro cdp_rows_of_touched_customers(inputs) -%}
    select * from {{ inputs }}
    {%- if is_incremental() %}
        where customer_id in (select touched_customers.customer_id from touched_customers)
    {%- endif %}
{%- endmacro %}
