{#- Identity models incremental by record (strategy replace_records) rebuild the records that
    changed since their own last build, found through stamps instead of by comparing rows:
    staging's `_typed_at` (cdp_run_started_at) and the verdicts' `usability_changed_at`. -#}

{#- Select (source_table, record_id): the records of cdp_identity.sources whose staged row was
    typed after `watermark` (an SQL expression), and every record {{ this }} holds of a source
    whose staged rows were all typed since (its base model rebuilt with --full-refresh, after
    raw rows were deleted), so the records gone from it are replaced by nothing. A record
    may come twice. -#}
{% macro cdp_records_typed_since(watermark) -%}
    {%- for source in cdp_identity_config().sources %}
    select
        cast('{{ source.source_table }}' as {{ dbt.type_string() }}) as source_table,
        cast({{ source.record_id }} as {{ dbt.type_string() }}) as record_id
    from {{ ref(source.model) }}
    where _typed_at > {{ watermark }}
    union all
    {%- endfor %}
    select
        stored.source_table,
        stored.record_id
    from {{ this }} as stored
    where stored.source_table in (
        {%- for source in cdp_identity_config().sources %}
        select typed.source_table
        from (
            select
                cast('{{ source.source_table }}' as {{ dbt.type_string() }}) as source_table,
                min(_typed_at) as oldest_typed_at
            from {{ ref(source.model) }}
        ) as typed
        where typed.oldest_typed_at is null or typed.oldest_typed_at > {{ watermark }}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{#- Start of a model incremental by record: the CTE `watermark` (typed_at: the newest
    `stamp_column` {{ this }} holds). Ends with a comma. -#}
{% macro cdp_watermark_cte(stamp_column) -%}
    watermark as (
        select coalesce(max({{ stamp_column }}), cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})) as typed_at
        from {{ this }}
    ),
{%- endmacro %}
