{#- Incremental strategy replace_all: the model's rows replace every stored row, in the
    materialization's transaction. For an incremental model that reads its stored rows to
    compute the new ones but returns them all (int_identity__probabilistic_pairs): unlike a
    table, it sees is_incremental, so --full-refresh still means "start over". -#}
{% macro get_incremental_replace_all_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
