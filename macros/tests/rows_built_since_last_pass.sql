{#- Data tests that check only the rows built since they last passed.

    A key test on a table of 17M rows costs seconds, also after a build that wrote a few
    thousand of them. A test configured with `where: "__rows_built_since_last_pass__"` on an
    incremental model with a `_built_at` stamp (the run that wrote the row, cdp_run_started_at)
    checks:
    - not_null, accepted_values, expression_is_true: the rows built since the test last passed;
    - unique, unique_combination: every row whose key occurs among those rows. Rows that were
      unique when the test passed stay unique unless a newer row repeats their key;
    - tests of groups (cdp_scopable_group_tests): every row of the groups of those rows.
    Staging views stamp the rows a build typed with `_typed_at` (macros/staging/quarantine.sql;
    a build types the new raw rows and every row of the keys they touch): their tests use
    `where: "__rows_typed_since_last_pass__"` the same way, and the connected-components tables
    (stamped `_clustered_at` by macros/identity/connected_components.sql, every row a run
    writes) `where: "__rows_clustered_since_last_pass__"`.
    A test passes on every row the first time (no pass on record), on --full-refresh and with
    --vars '{cdp_data_tests_check_all_rows: true}'. Passes are recorded by the on-run-end hook
    cdp_record_data_test_passes in <target schema>.cdp_data_test_passes. Tests of rows against
    another table (relationships) cannot be scoped: a parent losing rows orphans old children.
    This assumes runs on one warehouse do not overlap (a row written by a run that started
    before a passing test finished would count as checked). -#}

{#- The `where` tokens, each with the stamp column it scopes by. -#}
{% macro cdp_scoped_test_stamps() -%}
    {{ return({
        '__rows_built_since_last_pass__': '_built_at',
        '__rows_typed_since_last_pass__': '_typed_at',
        '__rows_clustered_since_last_pass__': '_clustered_at',
    }) }}
{%- endmacro %}

{#- The token in a test's `where`, or none. -#}
{% macro cdp_scoped_test_token(where) -%}
    {%- for token in cdp_scoped_test_stamps() if token in (where or '') -%}
        {{ return(token) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- Tests whose failures are rows of the tested model judged alone (scoped by stamp), and tests
    of keys (scoped by the keys of those rows). -#}
{% macro cdp_scopable_row_tests() -%}
    {{ return(['not_null', 'accepted_values', 'expression_is_true']) }}
{%- endmacro %}

{% macro cdp_scopable_key_tests() -%}
    {{ return(['unique', 'unique_combination'] + cdp_scopable_group_tests().keys() | list) }}
{%- endmacro %}

{#- Tests of groups of rows, each with its group key: a group can fail only if one of its rows
    was written since (cdp_customers_within_cap: a customer holding too many values of a type),
    so they are scoped like key tests, by the groups of the rows built since. -#}
{% macro cdp_scopable_group_tests() -%}
    {{ return({'cdp_customers_within_cap': ['customer_id']}) }}
{%- endmacro %}

{#- dbt's get_where_subquery (the `where` config) with a token above replaced; every other
    `where` as dbt writes it. `model` is the test node here. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') or '' -%}
    {%- set token = cdp_scoped_test_token(where) -%}
    {%- if token is none -%}
        {{ return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) }}
    {%- endif -%}
    {%- set condition = cdp_rows_built_since_last_pass(relation, model, cdp_scoped_test_stamps()[token]) -%}
    {{ return('(select * from ' ~ relation ~ ' as tested where ' ~ where | replace(token, condition) ~ ') dbt_subquery') }}
{%- endmacro %}

{#- The condition on `tested` (a row of `relation`) that scopes test node `test` by column `stamp`. -#}
{% macro cdp_rows_built_since_last_pass(relation, test, stamp='_built_at') -%}
    {%- set name = test.test_metadata.name -%}
    {%- if name not in cdp_scopable_row_tests() + cdp_scopable_key_tests() -%}
        {{ exceptions.raise_compiler_error(
            "Test " ~ test.unique_id ~ ": a where of " ~ cdp_scoped_test_stamps().keys() | join(' or ') ~ " scopes only "
            ~ (cdp_scopable_row_tests() + cdp_scopable_key_tests()) | join(', ') ~ " tests, not " ~ name
            ~ " (macros/tests/rows_built_since_last_pass.sql)") }}
    {%- endif -%}
    {%- set last_pass = cdp_data_test_last_pass(test.unique_id) -%}
    {%- if last_pass is none -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set built_since = stamp ~ ' > cast(' ~ dbt.string_literal(last_pass) ~ ' as ' ~ dbt.type_timestamp() ~ ')' -%}
    {%- if name in cdp_scopable_row_tests() -%}
        {{ return('tested.' ~ built_since) }}
    {%- endif -%}
    {%- set keys = cdp_scopable_group_tests().get(name)
        or test.test_metadata.kwargs.get('columns') or [test.test_metadata.kwargs.column_name] -%}
    {%- set same_key = [] -%}
    {%- for key in keys -%}
        {%- do same_key.append('built.' ~ key ~ ' = tested.' ~ key) -%}
    {%- endfor -%}
    {{ return('exists (select 1 from ' ~ relation ~ ' as built where built.' ~ built_since
        ~ ' and ' ~ same_key | join(' and ') ~ ')') }}
{%- endmacro %}

{#- When test `test_id` last passed (run_started_at of that run, as text), or none: check all. -#}
{% macro cdp_data_test_last_pass(test_id) -%}
    {%- if not execute or flags.FULL_REFRESH or var('cdp_data_tests_check_all_rows', false) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(cdp_last_recorded_run(cdp_data_test_passes_relation(), 'test_id', 'passed_run_started_at', test_id)) }}
{%- endmacro %}

{#- A run record (macros/incremental/run_records.sql): each scoped test's latest pass. -#}
{% macro cdp_data_test_passes_relation() -%}
    {{ return(cdp_run_record_relation('cdp_data_test_passes')) }}
{%- endmacro %}

{#- on-run-end hook: records this run's start for every scoped test that passed in it. -#}
{% macro cdp_record_data_test_passes(results) -%}
    {%- set passed = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status == 'pass'
            and cdp_scoped_test_token(result.node.config.where) is not none -%}
        {%- do passed.append(result.node.unique_id) -%}
    {%- endfor -%}
    {%- do cdp_record_runs(cdp_data_test_passes_relation(), 'test_id', 'passed_run_started_at', passed) -%}
{%- endmacro %}
