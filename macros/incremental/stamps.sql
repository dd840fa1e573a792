{#- Stamps that tell an incremental model what changed since its own last build. -#}

{#- When this dbt invocation started, as a timestamp: the same in every model it builds.
    It is `_typed_at` of a base row (cdp_flag_duplicates): a build types the new raw rows and
    every row of the keys they touch, so a model downstream finds the records that changed
    since its own last build as the rows typed after the newest `_typed_at` it holds
    (int_identity__record_identifiers), whichever builds ran between. -#}
{% macro cdp_run_started_at() -%}
    cast('{{ run_started_at }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- Select: the newest `column` {{ this }} holds (a date before any build when it is empty):
    `_loaded_at` for incremental staging, `_typed_at` or `_built_at` for the identity models
    incremental by record. -#}
{% macro cdp_newest_stamp(column) -%}
    select coalesce(max({{ column }}), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) from {{ this }}
{%- endmacro %}
