{#- Identity models incremental by record (strategy replace_records) rebuild the records that
    changed since their own last build, found through stamps instead of by comparing rows:
    staging's `_typed_at` (cdp_run_started_at) and the verdicts' `usability_changed_at`. -#}

{#- Select (source_table, record_id): the records of cdp_identity.sources whose staged row was
    typed after `watermark` (an SQL expression), and every record {{ this }} holds of a source
    whose staged rows were all typed since (its base model rebuilt with --full-refresh, after
    raw rows were deleted), so the records gone from it are replaced by nothing. A record
    may come twice. `source_tables`: only these sources (default: all). -#}
{% macro cdp_records_typed_since(watermark, source_tables=none) -%}
    {%- set sources = [] %}
    {%- for source in cdp_identity_config().sources if source_tables is none or source.source_table in source_tables %}
        {%- do sources.append(source) %}
    {%- endfor %}
    {%- set retyped_in_full = cdp_sources_typed_in_full_since(watermark, sources) %}
    {%- for source in sources %}
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
    {%- if retyped_in_full %}
    where stored.source_table in ('{{ retyped_in_full | join("', '") }}')
    {%- else %}
    where 1 = 0
    {%- endif %}
{%- endmacro %}

{#- The source_table of each of `sources` whose staged rows were all typed after `watermark`
    (or that holds none), asked before the model's query like the other decisions to take
    more rows (cdp_holds_now): the stored records' branch is then left out of almost every
    build's SQL, instead of a subquery on each source's oldest _typed_at inside it. (Alone
    it did not stop DuckDB hashing the big table the touched records filter: that is
    cdp_counted_set's part.) -#}
{% macro cdp_sources_typed_in_full_since(watermark, sources) -%}
    {%- if not execute or not sources -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set check -%}
        {%- for source in sources %}
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
    {%- endset -%}
    {{ return(run_query(check).columns[0].values() | list) }}
{%- endmacro %}

{#- For dbt's parser: the staged sources cdp_records_typed_since reads, only on incremental
    builds, which parsing does not see. -#}
{% macro cdp_depends_on_identity_sources() -%}
    {%- for source in cdp_identity_config().sources %}
-- depends_on: {{ ref(source.model) }}
    {%- endfor %}
{%- endmacro %}

{#- CTE of a model incremental by record, called as a block: `touched`, the distinct
    records typed after the newest `stamp_column` {{ this }} holds (cdp_records_typed_since,
    of `source_tables` only where given) and those the block, if called as one, selects
    (source_table, record_id; it may compare with cdp_watermark_since(); it must not read
    the model's other CTEs), with their record_key (cdp_record_key), counted first on DuckDB
    (cdp_counted_set). Ends with a comma. -#}
{% macro cdp_touched_records_ctes(stamp_column, source_tables=none) -%}
    {%- set touched_sql %}
        select distinct
            touched_records.source_table,
            touched_records.record_id,
            {{ cdp_record_key('touched_records.source_table', 'touched_records.record_id') }} as record_key
        from (
            {{ cdp_records_typed_since(cdp_watermark_since(stamp_column), source_tables) }}
            {%- if caller is defined %}
            union all
            {{ caller() }}
            {%- endif %}
        ) as touched_records
    {%- endset %}
    touched as (
        {{ cdp_counted_set('touched', touched_sql) }}
    ),
{%- endmacro %}

{#- Select: the rows of `relation`; on an incremental build only the touched records' (CTE
    `touched`), matched by record_key, or by (source_table, record_id) where `by_record_key`
    is false (a relation without the key). -#}
{% macro cdp_rows_of_touched_records(relation, by_record_key=true) -%}
    select all_rows.*
    from {{ relation }} as all_rows
    {%- if is_incremental() %}
    inner join touched
        on
        {%- if by_record_key %}
            all_rows.record_key = touched.record_key
        {%- else %}
            all_rows.source_table = touched.source_table
            and all_rows.record_id = touched.record_id
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- Select (source_table, record_id): the records carrying an identifier whose verdict's
    `stamp` (`_built_at`: rewritten; `usability_changed_at`: became usable or stopped being
    so) is after the newest _built_at {{ this }} holds. -#}
{% macro cdp_records_of_verdicts_since(stamp) -%}
    select
        record_identifiers.source_table,
        record_identifiers.record_id
    from {{ ref('int_identity__record_identifiers') }} as record_identifiers
    inner join {{ ref('int_identity__identifier_verdicts') }} as verdicts
        on record_identifiers.identifier_key = verdicts.identifier_key
    where verdicts.{{ stamp }} > {{ cdp_watermark_since() }}
{%- endmacro %}

{#- Select (source_table, record_id): the records int_identity__record_nodes ranked after the
    newest _built_at {{ this }} holds (cdp_watermark_since; their node, or their identifiers'
    usability, changed): what the models downstream of it by record (edges,
    customer_records) rebuild. -#}
{% macro cdp_records_ranked_since() -%}
    select
        source_table,
        record_id
    from {{ ref('int_identity__record_nodes') }}
    where _built_at > {{ cdp_watermark_since() }}
{%- endmacro %}
