{#- Nothing is silently dropped: every raw row is either in the staged model or in its
    quarantine model. Fails with the three counts when they do not add up. -#}
{% test rows_accounted_for(model, raw, quarantine) %}
with counts as (
    select
        (select count(*) from {{ raw }}) as raw_rows,
        (select count(*) from {{ model }}) as staged_rows,
        (select count(*) from {{ quarantine }}) as quarantined_rows
)

select *
from counts
where raw_rows <> staged_rows + quarantined_rows
{% endtest %}
