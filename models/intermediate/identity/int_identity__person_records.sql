{#- The person-like records probabilistic matching compares (CRM contacts, shop accounts),
    in one shape, with first_name_group: the name's group in seed first_name_groups
    (Bill, Billy and William are one group), so nicknames compare as the same name.
    An email or phone the blocklist stops (a placeholder such as test@test.com) is null
    here: it says nothing about who the record is, and thousands of records sharing one
    would each be compared with every other. -#}

with name_groups as (
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
    from {{ ref('int_identity__record_identifiers') }} as record_identifiers
    inner join {{ ref('int_identity__blocklisted_identifiers') }} as blocklisted
        on record_identifiers.identifier_key = blocklisted.identifier_key
    where record_identifiers.source_table in ('crm_contacts', 'shop_customers')
)

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
    coalesce(name_groups.name_group, lower(person_records.first_name)) as first_name_group
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
