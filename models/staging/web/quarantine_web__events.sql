{{ cdp_quarantined_rows(source('web', 'events'), ref('base_web__events')) }}
