{#- A model made ephemeral leaves the table it used to be behind: dbt no longer builds or
    drops it, so it would keep stale rows, and personal data that an erasure's rebuild no
    longer reaches (the golden-record candidates hold names and emails). Every run drops the
    relation of each ephemeral model that still exists (on-run-start). -#}
{% macro cdp_drop_ephemeral_leftovers() -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.config.materialized == 'ephemeral' -%}
            {%- set leftover = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if leftover is not none -%}
                {{ log("dropping " ~ leftover ~ ": model " ~ node.name ~ " is ephemeral now", info=true) }}
                {%- do adapter.drop_relation(leftover) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
