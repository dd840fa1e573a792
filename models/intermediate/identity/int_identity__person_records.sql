{#- The person-like records probabilistic matching compares (CRM contacts, shop accounts),
    in one shape, with first_name_group: the name's group in seed first_name_groups
    (Bill, Billy and William are one group), so nicknames compare as the same name. -#}

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
)

select
    person_records.*,
    coalesce(name_groups.name_group, lower(person_records.first_name)) as first_name_group
from person_records
left join name_groups
    on lower(person_records.first_name) = name_groups.name
