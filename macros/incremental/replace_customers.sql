{#- Incremental strategy replace_customers, for a model whose rows belong to customers and
    that rebuilds only the customers whose inputs changed (cdp_touched_customers):
    unique_key is [customer key, row key...]. Every stored row of a customer in the new
    rows is deleted, then the new rows are inserted, in the materialization's transaction.
    A new row whose row keys are null stands for a touched customer left with no rows: it
    deletes that customer's stored rows and is not inserted. On Spark parquet tables the
    same is a rewrite (macros/cross_db/spark_merge.sql). -#}
{% macro get_incremental_replace_customers_sql(arg_dict) -%}
    {%- set keys = cdp_replace_customers_keys(arg_dict['unique_key']) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ keys.customer }} in (select {{ keys.customer }} from {{ arg_dict['temp_relation'] }});
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
    where {{ keys.rows_present }}
{%- endmacro %}

{#- {customer: the first key, rows_present: the predicate of a new row to insert (its row
    keys not null)}; a clear error for a unique_key without both. -#}
{% macro cdp_replace_customers_keys(unique_key) -%}
    {%- if unique_key is string or unique_key | length < 2 -%}
        {{ exceptions.raise_compiler_error(
            "incremental_strategy 'replace_customers' needs unique_key [<customer key>, <row key>, ...], got "
            ~ unique_key) }}
    {%- endif -%}
    {{ return({'customer': unique_key[0], 'rows_present': unique_key[1:] | join(' is not null and ') ~ ' is not null'}) }}
{%- endmacro %}

