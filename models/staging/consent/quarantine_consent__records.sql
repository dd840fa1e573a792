{{ cdp_quarantined_rows(source('consent', 'records'), ref('base_consent__records')) }}
