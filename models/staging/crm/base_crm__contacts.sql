{{ config(**cdp_base_model_config()) }}

-- Typed CRM contacts with a verdict per raw row; stg_ and quarantine_ models split on it.
with source as (
    {{ cdp_raw_rows_to_stage(source('crm', 'contacts'), 'contact_id') }}
),

cleaned as (
    select
        {{ cdp_clean_text('contact_id') }} as contact_id,
        {{ cdp_clean_text('first_name') }} as first_name,
        {{ cdp_clean_text('last_name') }} as last_name,
        {{ cdp_clean_text('email') }} as email,
        {{ cdp_clean_text('phone') }} as phone,
        {{ cdp_phone_dialable('phone') }} as phone_dialable,
        {{ cdp_clean_text('date_of_birth') }} as date_of_birth,
        {{ cdp_clean_text('street_address') }} as street_address,
        {{ cdp_clean_text('city') }} as city,
        upper({{ cdp_clean_text('postcode') }}) as postcode,
        upper({{ cdp_clean_text('country') }}) as country_code,
        {{ cdp_clean_text('created_at') }} as created_at,
        {{ cdp_clean_text('updated_at') }} as updated_at,
        _source_file,
        _source_row,
        _loaded_at
    from source
),

typed as (
    select
        contact_id,
        {{ cdp_normalize_name('first_name') }} as first_name,
        {{ cdp_normalize_name('last_name') }} as last_name,
        {{ cdp_normalize_email('email') }} as email,
        {{ cdp_e164('phone_dialable', 'country_code') }} as phone_e164,
        {{ cdp_try_date('date_of_birth') }} as date_of_birth,
        street_address,
        {{ cdp_normalize_name('city') }} as city,
        postcode,
        country_code,
        {{ cdp_try_timestamp('created_at') }} as created_at,
        {{ cdp_try_timestamp('updated_at') }} as updated_at,
        email is not null and {{ cdp_normalize_email('email') }} is null as has_invalid_email,
        phone is not null and {{ cdp_e164('phone_dialable', 'country_code') }} is null as has_invalid_phone,
        case
            {{ cdp_when_missing('contact_id') }}
            {{ cdp_when_invalid('date_of_birth', cdp_try_date('date_of_birth')) }}
            {{ cdp_when_invalid('created_at', cdp_try_timestamp('created_at')) }}
            {{ cdp_when_invalid('updated_at', cdp_try_timestamp('updated_at')) }}
        end as _invalid_reason,
        _source_file,
        _source_row,
        _loaded_at
    from cleaned
),

with_canonical_email as (
    select
        typed.*,
        {{ cdp_canonical_email('email') }} as email_canonical
    from typed
)

{{ cdp_flag_duplicates(
    'with_canonical_email', 'contact_id', 'updated_at desc nulls last, _loaded_at desc',
    ['first_name', 'last_name', 'email', 'phone_e164', 'date_of_birth', 'street_address',
     'city', 'postcode', 'country_code', 'created_at', 'updated_at']
) }}
