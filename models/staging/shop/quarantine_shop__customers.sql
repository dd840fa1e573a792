{{ cdp_quarantined_rows(source('shop', 'customers'), ref('base_shop__customers')) }}
