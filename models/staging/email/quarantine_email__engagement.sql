{{ cdp_quarantined_rows(source('email', 'engagement'), ref('base_email__engagement')) }}
