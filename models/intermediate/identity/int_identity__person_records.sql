{#- The person-like records probabilistic matching compares (CRM contacts, shop accounts),
    in one shape, with first_name_group: the name's group in seed first_name_groups
    (Bill, Billy and William are one group), so nicknames compare as the same name.
    An email or phone the blocklist stops (a placeholder such as test@test.com) is null
    here: it says nothing about who the record is, and thousands of records sharing one
    would each be compared with every other.

    Incremental by record (strategy replace_records): a build without --full-refresh rebuilds
    only the contacts and accounts staging typed since its newest _built_at
    (cdp_records_typed_since); a touched record no longer staged gets a row with a null
    _built_at, which deletes it. Every record when the seed first_name_groups or the
    blocklist's rules changed (rules_digest, macros/identity/person_records_scope.sql).
    Rebuilt whole on every build, the table cost 2 to 4.5 s of each at 1M people, on the
    identity chain's critical path. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_records',
    unique_key=['source_table', 'record_id', '_built_at'],
    on_schema_change='fail',
) }}
{%- set rules_digest = cdp_person_records_rules_digest() %}
{%- set scoped = is_incremental() and not cdp_person_records_rebuild_all(rules_digest) %}
{%- set record_identifiers = ref('int_identity__record_identifiers') %}

with
{%- if scoped %}
{{ cdp_touched_records_ctes('_built_at', ['crm_contacts', 'shop_customers']) }}
{%- endif %}

name_groups as (
    select * from {{ ref('first_name_groups') }}
),

crm_contacts as (
    select
        cast('crm_contacts' as {{ dbt.type_string() }}) as source_table,
        contact_id as record_id,
        first_name,
        last_name,
        date_of_birth,
        street_address,
        city,
        postcode,
        country_code,
        email_canonical,
        phone_e164
    from {{ ref('stg_crm__contacts') }}
    {%- if scoped %}
    where contact_id in (select touched.record_id from touched where touched.source_table = 'crm_contacts')
    {%- endif %}
),

shop_customers as (
    select
        cast('shop_customers' as {{ dbt.type_string() }}) as source_table,
        customer_id as record_id,
        first_name,
        last_name,
        cast(null as date) as date_of_birth,
        street_address,
        city,
        postcode,
        country_code,
        email_canonical,
        phone_e164
    from {{ ref('stg_shop__customers') }}
    {%- if scoped %}
    where customer_id in (select touched.record_id from touched where touched.source_table = 'shop_customers')
    {%- endif %}
),

person_records as (
    select * from crm_contacts
    union all
    select * from shop_customers
),

blocklisted_values as (
    -- By record, not by value: the values of these records that the blocklist stops.
    select distinct
        record_identifiers.source_table,
        record_identifiers.record_id,
        blocklisted.identifier_value
    from {{ record_identifiers }} as record_identifiers
    inner join {{ ref('int_identity__blocklisted_identifiers') }} as blocklisted
        on record_identifiers.identifier_key = blocklisted.identifier_key
    where record_identifiers.source_table in ('crm_contacts', 'shop_customers')
    {%- if scoped %}
        and record_identifiers.record_key in (select touched.record_key from touched)
    {%- endif %}
),

rebuilt as (
    select
        person_records.source_table,
        person_records.record_id,
        person_records.first_name,
        person_records.last_name,
        person_records.date_of_birth,
        person_records.street_address,
        person_records.city,
        person_records.postcode,
        person_records.country_code,
        case when blocked_email.record_id is null then person_records.email_canonical end as email_canonical,
        case when blocked_phone.record_id is null then person_records.phone_e164 end as phone_e164,
        coalesce(name_groups.name_group, lower(person_records.first_name)) as first_name_group,
        {{ rules_digest }} as rules_digest,
        {{ cdp_run_started_at() }} as _built_at
    from person_records
    left join name_groups
        on lower(person_records.first_name) = name_groups.name
    left join blocklisted_values as blocked_email
        on
            person_records.source_table = blocked_email.source_table
            and person_records.record_id = blocked_email.record_id
            and person_records.email_canonical = blocked_email.identifier_value
    left join blocklisted_values as blocked_phone
        on
            person_records.source_table = blocked_phone.source_table
            and person_records.record_id = blocked_phone.record_id
            and person_records.phone_e164 = blocked_phone.identifier_value
)

select * from rebuilt
{%- if is_incremental() %}
union all
-- Records no longer staged (touched, or stored when every record is rebuilt): a row with a
-- null _built_at deletes the stored one (strategy replace_records).
select
    gone.source_table,
    gone.record_id,
    {%- for column in ['first_name', 'last_name'] %}
    cast(null as {{ dbt.type_string() }}) as {{ column }},
    {%- endfor %}
    cast(null as date) as date_of_birth,
    {%- for column in ['street_address', 'city', 'postcode', 'country_code', 'email_canonical', 'phone_e164', 'first_name_group', 'rules_digest'] %}
    cast(null as {{ dbt.type_string() }}) as {{ column }},
    {%- endfor %}
    cast(null as {{ dbt.type_timestamp() }}) as _built_at
from {{ 'touched' if scoped else this }} as gone
where not exists (
    select 1
    from rebuilt
    where rebuilt.source_table = gone.source_table and rebuilt.record_id = gone.record_id
)
{%- endif %}
