{{ cdp_quarantined_rows(source('shop', 'order_lines'), ref('base_shop__order_lines')) }}
