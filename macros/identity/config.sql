{#- The identity configuration (var `cdp_identity` in dbt_project.yml), validated. Every
    identity model reads it through this macro, so a mistake fails the build early with the
    key at fault named, instead of as SQL errors deep in a model. -#}
{% macro cdp_identity_config() %}
    {%- set config = var('cdp_identity', none) -%}
    {%- if config is none or config is not mapping -%}
        {{ exceptions.raise_compiler_error("cdp_identity: var `cdp_identity` must be a mapping in dbt_project.yml (see README, Identity resolution)") }}
    {%- endif -%}
    {%- set types = config.get('identifier_types') -%}
    {%- if types is not mapping or types | length == 0 -%}
        {{ exceptions.raise_compiler_error("cdp_identity.identifier_types: must map each identifier type to {priority, max_per_cluster}") }}
    {%- endif -%}
    {%- for name, spec in types.items() -%}
        {%- set where = "cdp_identity.identifier_types." ~ name -%}
        {%- if not (name is string and modules.re.match('^[a-z][a-z0-9_]*$', name)) -%}
            {{ exceptions.raise_compiler_error(where ~ ": identifier type names are lowercase snake_case") }}
        {%- endif -%}
        {%- if spec is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ ": expected {priority: N, max_per_cluster: N}, got " ~ spec) }}
        {%- endif -%}
        {%- for key in spec -%}
            {%- if key not in ['priority', 'max_per_cluster', 'max_partners'] -%}
                {{ exceptions.raise_compiler_error(where ~ ": unknown key `" ~ key ~ "` (allowed: priority, max_per_cluster, max_partners)") }}
            {%- endif -%}
        {%- endfor -%}
        {%- for key in ['priority', 'max_per_cluster'] -%}
            {%- if spec.get(key) is not number or spec.get(key) < 1 -%}
                {{ exceptions.raise_compiler_error(where ~ "." ~ key ~ ": must be a whole number >= 1, got " ~ spec.get(key)) }}
            {%- endif -%}
        {%- endfor -%}
        {%- for partner, limit in spec.get('max_partners', {}).items() -%}
            {%- if partner not in types and partner != 'people' -%}
                {{ exceptions.raise_compiler_error(where ~ ".max_partners: `" ~ partner ~ "` is neither `people` nor a declared identifier type (declared: " ~ (types.keys() | join(', ')) ~ ")") }}
            {%- endif -%}
            {%- if limit is not number or limit < 1 -%}
                {{ exceptions.raise_compiler_error(where ~ ".max_partners." ~ partner ~ ": must be a whole number >= 1, got " ~ limit) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set sources = config.get('sources') -%}
    {%- if sources is string or sources is mapping or sources is not iterable or sources | length == 0 -%}
        {{ exceptions.raise_compiler_error("cdp_identity.sources: must be a list of {model, source_table, record_id, observed_at, identifiers}") }}
    {%- endif -%}
    {%- for source in sources -%}
        {%- set where = "cdp_identity.sources[" ~ loop.index0 ~ "]" -%}
        {%- for key in ['model', 'source_table', 'record_id', 'observed_at'] -%}
            {%- if source.get(key) is not string -%}
                {{ exceptions.raise_compiler_error(where ~ "." ~ key ~ ": required (a model or column name)") }}
            {%- endif -%}
        {%- endfor -%}
        {#- It is written into SQL as a literal and is the first part of cdp_record_key's text
            (source_table|record_id): a plain name keeps both unambiguous. -#}
        {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', source.source_table) -%}
            {{ exceptions.raise_compiler_error(where ~ " (" ~ source.model ~ ").source_table: must be a plain name (letters, digits and _), got '" ~ source.source_table ~ "'") }}
        {%- endif -%}
        {%- if source.get('identifiers') is not mapping or source.identifiers | length == 0 -%}
            {{ exceptions.raise_compiler_error(where ~ " (" ~ source.model ~ ").identifiers: must map identifier types to columns") }}
        {%- endif -%}
        {%- for type in source.identifiers -%}
            {%- if type not in types -%}
                {{ exceptions.raise_compiler_error(where ~ " (" ~ source.model ~ ").identifiers: `" ~ type ~ "` is not a declared identifier type (declared: " ~ (types.keys() | join(', ')) ~ ")") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set probabilistic = config.get('probabilistic', {}) -%}
    {%- if probabilistic is not mapping -%}
        {{ exceptions.raise_compiler_error("cdp_identity.probabilistic: expected {enabled, match_probability, same_person_probability, seed, training_max_records, retrain_after_growth}") }}
    {%- endif -%}
    {%- for key in ['match_probability', 'same_person_probability'] -%}
        {%- set value = probabilistic.get(key, 1) -%}
        {%- if value is not number or value <= 0 or value > 1 -%}
            {{ exceptions.raise_compiler_error("cdp_identity.probabilistic." ~ key ~ ": must be a probability in (0, 1], got " ~ value) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set max_records = probabilistic.get('training_max_records', 300000) -%}
    {%- if max_records is not number or max_records < 1000 or max_records != max_records | int -%}
        {{ exceptions.raise_compiler_error("cdp_identity.probabilistic.training_max_records: must be a whole number >= 1000, got " ~ max_records) }}
    {%- endif -%}
    {%- set growth = probabilistic.get('retrain_after_growth', 0.1) -%}
    {%- if growth is not number or growth < 0 or growth > 1 -%}
        {{ exceptions.raise_compiler_error("cdp_identity.probabilistic.retrain_after_growth: must be a share in [0, 1] (0.1 = retrain after 10% more records), got " ~ growth) }}
    {%- endif -%}
    {%- set max_passes = config.get('max_passes', 40) -%}
    {%- if max_passes is not number or max_passes < 1 -%}
        {{ exceptions.raise_compiler_error("cdp_identity.max_passes: must be a whole number >= 1, got " ~ max_passes) }}
    {%- endif -%}
    {{ return(config) }}
{% endmacro %}

{#- Identifier types ordered best first (priority, then name). -#}
{% macro cdp_identifier_types_by_priority() %}
    {%- set types = cdp_identity_config().identifier_types -%}
    {%- set ranked = [] -%}
    {%- for name, spec in types.items() -%}
        {%- do ranked.append((spec.priority, name)) -%}
    {%- endfor -%}
    {{ return(ranked | sort | map(attribute=1) | list) }}
{% endmacro %}

{#- A `values` CTE body of (identifier_type, priority, max_per_cluster), portable. -#}
{% macro cdp_identifier_type_rows() %}
    {%- set types = cdp_identity_config().identifier_types -%}
    {%- for name in cdp_identifier_types_by_priority() %}
    select
        cast('{{ name }}' as {{ dbt.type_string() }}) as identifier_type,
        {{ types[name].priority }} as priority,
        {{ types[name].max_per_cluster }} as max_per_cluster
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{% endmacro %}

{#- Whether the graph has probabilistic edges (Splink, models int_identity__splink_model and
    int_identity__probabilistic_pairs, enabled by the same setting). -#}
{% macro cdp_probabilistic_enabled() %}
    {%- set probabilistic = cdp_identity_config().get('probabilistic', {}) -%}
    {{ return(probabilistic.get('enabled', false)) }}
{% endmacro %}

{#- The graph node of a record's key identifier ('<key type>:<record_id>'), from the map of
    source_table -> key identifier type. -#}
{% macro cdp_record_key_node(source_table_expr, record_id_expr, key_types) -%}
    case {{ source_table_expr }}
        {%- for source_table, key_type in key_types.items() %}
        when '{{ source_table }}' then {{ dbt.concat(["'" ~ key_type ~ ":'", record_id_expr]) }}
        {%- endfor %}
    end
{%- endmacro %}

{#- source_table -> the identifier type that is its record key (crm_contacts -> crm_contact_id):
    the sources whose records are people. -#}
{% macro cdp_record_key_types() %}
    {%- set key_types = {} -%}
    {%- for source in cdp_identity_config().sources -%}
        {%- for type, column in source.identifiers.items() -%}
            {%- if column == source.record_id -%}{% do key_types.update({source.source_table: type}) %}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(key_types) }}
{% endmacro %}
