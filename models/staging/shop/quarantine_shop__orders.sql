{{ cdp_quarantined_rows(source('shop', 'orders'), ref('base_shop__orders')) }}
