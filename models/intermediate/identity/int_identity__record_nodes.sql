{#- The graph node each record hangs from: its best usable identifier (lowest priority
    number, then key), else a node of its own ('record:<source_table>:<record_id>') so a
    record with nothing usable still becomes a customer, alone. -#}

with records as (
    select * from {{ ref('int_identity__records') }}
),

usable_identifiers as (
    select
        record_identifiers.source_table,
        record_identifiers.record_id,
        record_identifiers.identifier_key,
        row_number() over (
            partition by record_identifiers.source_table, record_identifiers.record_id
            order by record_identifiers.priority, record_identifiers.identifier_key
        ) as rank_in_record
    from {{ ref('int_identity__record_identifiers') }} as record_identifiers
    inner join {{ ref('int_identity__identifier_verdicts') }} as verdicts
        on record_identifiers.identifier_key = verdicts.identifier_key
    where verdicts.is_usable
)

select
    records.source_table,
    records.record_id,
    records.observed_at,
    coalesce(
        usable_identifiers.identifier_key,
        {{ dbt.concat(["'record:'", "records.source_table", "':'", "records.record_id"]) }}
    ) as node_key,
    usable_identifiers.identifier_key is null as has_no_usable_identifier
from records
left join usable_identifiers
    on
        records.source_table = usable_identifiers.source_table
        and records.record_id = usable_identifiers.record_id
        and usable_identifiers.rank_in_record = 1
