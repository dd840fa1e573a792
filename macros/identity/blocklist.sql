{#- The regex rules of the identity_blocklist seed, read from the built seed when a model
    runs, each as {number, pattern}; numbered as cdp_blocklist_rule_number numbers them.
    Why: DuckDB compiles a regex given as a column once per row, so joining every identifier
    to the seed's patterns compiled each pattern once per identifier, the build's slowest
    step; written as literals, each pattern is compiled once. Empty where the seed is not
    built (parsing, or `dbt compile` before the first build): the model then evaluates the
    seed's pattern column, which means the same, only slower. -#}
{% macro cdp_blocklist_regex_rules(blocklist) -%}
    {%- if not execute or load_relation(blocklist) is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set numbered -%}
        select rule_number, pattern
        from (select {{ cdp_blocklist_rule_number() }} as rule_number, blocklist.* from {{ blocklist }} as blocklist) as rules
        where match_type = 'regex'
        order by rule_number
    {%- endset -%}
    {%- set rules = [] -%}
    {%- for row in run_query(numbered).rows -%}
        {%- if "'" in row[1] -%}
            {{ exceptions.raise_compiler_error(
                "seed identity_blocklist: regex pattern " ~ row[1] ~ " contains a single quote; "
                ~ "write it as \\x27, which every engine's regex reads as a quote") }}
        {%- endif -%}
        {%- do rules.append({'number': row[0] | int, 'pattern': row[1]}) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}

{#- A number per blocklist rule, the same wherever it is computed: rows ordered by every column
    (identical rows are interchangeable). -#}
{% macro cdp_blocklist_rule_number() -%}
    row_number() over (order by identifier_type, match_type, pattern, reason)
{%- endmacro %}

{#- True when `value_expr` matches the regex rule of `rules_alias` (a blocklist row with its
    rule_number): the rules read at compile time as literals, any other through the pattern
    column. -#}
{% macro cdp_blocklist_regex_match(value_expr, rules_alias, regex_rules) -%}
    {%- if regex_rules -%}
        case {{ rules_alias }}.rule_number
            {%- for rule in regex_rules %}
            when {{ rule.number }} then {{ cdp_regexp_like(value_expr, rule.pattern) }}
            {%- endfor %}
            else {{ cdp_regexp_like_expr(value_expr, rules_alias ~ '.pattern') }}
        end
    {%- else -%}
        {{ cdp_regexp_like_expr(value_expr, rules_alias ~ '.pattern') }}
    {%- endif -%}
{%- endmacro %}

{#- Whether int_identity__blocklisted_identifiers matches every identifier again: the seed
    changed (stored rules_digest differs from `rules_digest`, an expression), it holds no row
    (nothing to compare the digest with), int_identity__record_identifiers was rebuilt in full
    since (every row written after this model's newest), or its removal log is missing. -#}
{% macro cdp_blocklist_match_all(rules_digest) -%}
    {%- set record_identifiers = ref('int_identity__record_identifiers') -%}
    {%- if load_relation(cdp_removal_log_relation(record_identifiers)) is none -%}
        {{ return(true) }}
    {%- endif -%}
    {%- do cdp_require_incremental_column('rules_digest') -%}
    {{ return(cdp_holds_now([
        '(select count(*) from ' ~ this ~ ') = 0',
        cdp_rules_changed_condition(rules_digest),
        cdp_removal_log_lacks_rows_since_this(record_identifiers),
    ])) }}
{%- endmacro %}
