{#- Python models get the start of the dbt invocation that compiled them as
    `dbt.run_started_at` (text, as cdp_run_started_at renders it), so the rows they stamp
    compare with the SQL models' stamps: int_identity__probabilistic_pairs stamps the pairs
    it scores (`_built_at`). dbt appends this macro's output to every Python model's
    compiled code, after the `dbtObj` class (dbt-core's py_script_postfix); the root
    project's macro replaces the adapter's (dbt-spark's prints a notebook hint). -#}
{% macro py_script_comment() %}
dbtObj.run_started_at = "{{ run_started_at }}"
{% endmacro %}
