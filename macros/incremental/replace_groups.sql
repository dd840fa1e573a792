{#- Incremental strategies that replace whole groups of rows: a model rebuilds only the groups
    whose inputs changed, and each group in the new rows replaces every stored row of that
    group, in the materialization's transaction. unique_key is [group key..., row key...].
    A new row whose row keys are null stands for a touched group left with no rows: it deletes
    that group's stored rows and is not inserted. On Spark parquet tables the same is a
    rewrite (macros/cross_db/spark_merge.sql).
    - replace_customers: the group is the first key, a customer (customer marts, by the
      digests of macros/incremental/customer_digest.sql).
    - replace_keys: the same, for a model keyed by another single column
      (int_identity__identifier_verdicts, by identifier_key).
    - replace_records: the group is the first two keys, (source_table, record_id): a source
      record (identity models, by the records staging typed since their last build). -#}
{% macro get_incremental_replace_customers_sql(arg_dict) -%}
    {{ return(cdp_replace_groups_sql(arg_dict, cdp_replace_groups_keys(arg_dict['unique_key'], 'replace_customers'))) }}
{%- endmacro %}

{% macro get_incremental_replace_keys_sql(arg_dict) -%}
    {{ return(cdp_replace_groups_sql(arg_dict, cdp_replace_groups_keys(arg_dict['unique_key'], 'replace_keys'))) }}
{%- endmacro %}

{% macro get_incremental_replace_records_sql(arg_dict) -%}
    {{ return(cdp_replace_groups_sql(arg_dict, cdp_replace_groups_keys(arg_dict['unique_key'], 'replace_records'))) }}
{%- endmacro %}

{% macro cdp_replace_groups_sql(arg_dict, keys) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} as stored
    where exists (
        select 1
        from {{ arg_dict['temp_relation'] }} as incoming
        where
            {%- for key in keys.group %}
            incoming.{{ key }} = stored.{{ key }}{% if not loop.last %} and{% endif %}
            {%- endfor %}
    );
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
    where {{ keys.rows_present }}
{%- endmacro %}

{#- {group: the group's keys, rows_present: the predicate of a new row to insert (its row keys
    not null)}; a clear error for a unique_key without both. -#}
{% macro cdp_replace_groups_keys(unique_key, strategy) -%}
    {%- set group_size = {'replace_customers': 1, 'replace_keys': 1, 'replace_records': 2}[strategy] -%}
    {%- set names = {
        'replace_customers': '<customer key>', 'replace_keys': '<key>', 'replace_records': 'source_table, record_id'
    }[strategy] -%}
    {%- if unique_key is string or unique_key | length <= group_size -%}
        {{ exceptions.raise_compiler_error(
            "incremental_strategy '" ~ strategy ~ "' needs unique_key [" ~ names ~ ", <row key>, ...], got "
            ~ unique_key) }}
    {%- endif -%}
    {{ return({
        'group': unique_key[:group_size],
        'rows_present': unique_key[group_size:] | join(' is not null and ') ~ ' is not null',
    }) }}
{%- endmacro %}
